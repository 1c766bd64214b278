import { describe, expect, it } from 'vitest'
import { detectInjection, guardDraft } from '../../../src/assistant/guard/index.js'
import { Draft, type Intervention } from '../../../src/assistant/types.js'
import { S01_TEXT, cleanDraft, draftWith, input, rollback } from './fixtures.js'

const types = (is: Intervention[]) => is.map((i) => `${i.type} ${i.where}`)

describe('guardDraft', () => {
  it('passes a draft that follows every rule through untouched', () => {
    const r = guardDraft(input())
    expect(r).toEqual({ draft: cleanDraft, interventions: [], refused: null, injection: [] })
    expect(Draft.safeParse(r.draft).success).toBe(true)
  })

  describe('a. citations', () => {
    it('removes an invented citation id and keeps the statement on its valid ones', () => {
      const r = guardDraft(input({ draft: draftWith({ causes: [{ text: 'Possibly the deploy v2026.11.3', citations: ['E1', 'E9'] }] }) }))
      expect(r.draft.causes).toEqual([{ text: 'Possibly the deploy v2026.11.3', citations: ['E1'] }])
      expect(r.interventions).toEqual([{ type: 'citation_removed', where: 'causes[0]', detail: 'unknown evidence ref "E9"' }])
    })

    it('removes a cause, step, similar incident or action citing only invented ids', () => {
      const r = guardDraft(input({
        draft: {
          ...cleanDraft,
          causes: [{ text: 'Possibly the deploy', citations: ['E9'] }, ...cleanDraft.causes],
          steps: [{ text: 'Check the dashboard.', citations: [] }, ...cleanDraft.steps],
          similarIncidents: [{ ...cleanDraft.similarIncidents[0]!, citations: ['E99'] }],
          actions: [{ ...rollback, citations: ['X1'] }],
        },
      }))
      expect(r.draft.causes).toEqual(cleanDraft.causes)
      expect(r.draft.steps).toEqual(cleanDraft.steps)
      expect(r.draft.similarIncidents).toEqual([])
      expect(r.draft.actions).toEqual([])
      expect(types(r.interventions)).toEqual([
        'citation_removed causes[0]', 'unsupported_statement_removed causes[0]',
        'unsupported_statement_removed steps[0]',
        'citation_removed similarIncidents[0]', 'unsupported_statement_removed similarIncidents[0]',
        'citation_removed actions[0]', 'unsupported_statement_removed actions[0]',
      ])
      expect(r.interventions[1]!.detail).toBe('no valid citation')
    })
  })

  describe('b. facts', () => {
    it('removes a statement whose number is not in the evidence and keeps a supported one', () => {
      const steps = [
        { text: 'Note that p99 is 870 ms.', citations: ['E4'] },
        { text: 'The 5xx ratio is 7.2%, above the 5% threshold.', citations: ['E1'] },
      ]
      const r = guardDraft(input({ draft: draftWith({ steps }) }))
      expect(r.draft.steps).toEqual([steps[1]])
      expect(r.interventions).toEqual([{ type: 'unsupported_statement_removed', where: 'steps[0]', detail: 'not in the evidence: 870 ms' }])
    })

    it('removes a cause naming an identifier that is not in the evidence', () => {
      const r = guardDraft(input({ draft: draftWith({ causes: [{ text: 'Possibly the deploy v2026.12.9', citations: ['E1'] }, ...cleanDraft.causes] }) }))
      expect(r.draft.causes).toEqual(cleanDraft.causes)
      expect(r.interventions).toEqual([{ type: 'unsupported_statement_removed', where: 'causes[0]', detail: 'not in the evidence: v2026.12.9' }])
    })

    it('removes a similar incident with an invented id or mitigation figure', () => {
      const invented = { ...cleanDraft.similarIncidents[0]!, incidentId: 'INC-2024-0999' }
      const figure = { ...cleanDraft.similarIncidents[0]!, mitigation: 'Raised the memory limit to 2048Mi.' }
      const r = guardDraft(input({ draft: draftWith({ similarIncidents: [invented, figure, ...cleanDraft.similarIncidents] }) }))
      expect(r.draft.similarIncidents).toEqual(cleanDraft.similarIncidents)
      expect(r.interventions.map((i) => i.detail)).toEqual(['not in the evidence: INC-2024-0999', 'not in the evidence: 2048Mi'])
    })

    it('drops only the unsupported sentence of the summary', () => {
      const r = guardDraft(input({ draft: draftWith({ summary: 'checkout-api 5xx is at 7.2%. p99 reached 870 ms. A rollback is possible.' }) }))
      expect(r.draft.summary).toBe('checkout-api 5xx is at 7.2%. A rollback is possible.')
      expect(types(r.interventions)).toEqual(['unsupported_statement_removed summary'])
    })
  })

  describe('c. certainty', () => {
    it('removes a cause stated as certain and keeps the hedged one', () => {
      const causes = [{ text: 'The root cause is the deploy', citations: ['E1'] }, { text: 'Possibly the deploy v2026.11.3 [E1]', citations: ['E1'] }]
      const r = guardDraft(input({ draft: draftWith({ causes }) }))
      expect(r.draft.causes).toEqual([causes[1]])
      expect(r.interventions).toEqual([{ type: 'certainty_language_removed', where: 'causes[0]', detail: 'states a hypothesis as certain: "the root cause is"' }])
    })

    it('removes only the certain sentence of a step or the summary; a step left empty goes', () => {
      const steps = [
        { text: 'Roll back checkout-api. This will definitely fix it.', citations: ['E2'] },
        { text: 'It was caused by the deploy.', citations: ['E1'] },
      ]
      const r = guardDraft(input({ draft: draftWith({ steps, summary: 'checkout-api returns 5xx. Root cause: the deploy.' }) }))
      expect(r.draft.steps).toEqual([{ text: 'Roll back checkout-api.', citations: ['E2'] }])
      expect(r.draft.summary).toBe('checkout-api returns 5xx.')
      expect(types(r.interventions)).toEqual(['certainty_language_removed steps[0]', 'certainty_language_removed steps[1]', 'certainty_language_removed summary'])
    })
  })

  describe('d. actions', () => {
    const only = (actions: Draft['actions']) => guardDraft(input({ draft: draftWith({ actions }) }))

    it('removes an action the policy does not allow for this classification', () => {
      const r = only([{ ...rollback, actionId: 'restart_workload', params: { service: 'checkout-api', workload: 'web' } }])
      expect(r.draft.actions).toEqual([])
      expect(r.interventions).toEqual([{ type: 'action_removed', where: 'actions[0]', detail: 'not among the actions the policy allows for this classification' }])
    })

    it('removes an action whose params fail validation, with the problems', () => {
      const r = only([{ ...rollback, params: { service: 'checkout-web' } }, { ...rollback, actionId: 'drop_everything' }])
      expect(r.draft.actions).toEqual([])
      expect(r.interventions.map((i) => i.detail)).toEqual(['rollback_deployment: "checkout-web" is not a service in the catalog', 'unknown action "drop_everything"'])
    })

    it('removes an allowed action pointed at a different service (widening)', () => {
      const r = only([{ ...rollback, params: { service: 'payments-gateway' } }])
      expect(r.draft.actions).toEqual([])
      expect(types(r.interventions)).toEqual(['action_removed actions[0]'])
    })

    it('keeps an alias as the canonical params and removes duplicates', () => {
      const r = only([{ ...rollback, params: { service: 'checkout' } }, rollback])
      expect(r.draft.actions).toEqual([rollback])
      expect(r.interventions).toEqual([{ type: 'action_removed', where: 'actions[1]', detail: 'duplicate of an earlier action' }])
    })

    it('removes an action whose rationale is certain or cites figures not in the evidence', () => {
      const r = only([
        { ...rollback, rationale: 'The deploy is definitely the cause.' },
        { ...rollback, rationale: 'Errors hit 12.5% after the deploy.' },
        rollback,
      ])
      expect(r.draft.actions).toEqual([rollback])
      expect(r.interventions.map((i) => i.detail)).toEqual([
        'rationale states a hypothesis as certain: "definitely"',
        'rationale not in the evidence: 12.5%',
      ])
    })
  })

  it('e. flags each injection finding and withholds every action, even an allowed one', () => {
    const injection = detectInjection([{ where: 'alert.annotations.description', text: S01_TEXT }])
    const r = guardDraft(input({ injection, draft: draftWith({ actions: [rollback, { ...rollback, params: { service: 'payments-gateway' } }] }) }))
    expect(r.draft.actions).toEqual([])
    expect(r.draft.causes).toEqual(cleanDraft.causes)
    expect(r.draft.steps).toEqual(cleanDraft.steps)
    expect(r.refused).toBeNull()
    const flagged = r.interventions.filter((i) => i.type === 'injection_flagged')
    expect(flagged).toHaveLength(injection.length)
    expect(flagged[0]).toMatchObject({ where: 'alert.annotations.description', detail: expect.stringContaining('ignore_instructions') })
    expect(r.interventions.at(-1)).toEqual({ type: 'actions_withheld', where: 'actions', detail: 'untrusted text contained instructions; actions need a human to propose them' })
  })

  it('f. refuses on unsafe telemetry: data_unsafe, no actions', () => {
    const r = guardDraft(input({ telemetryUnsafe: true }))
    expect(r.refused).toBe('data_unsafe')
    expect(r.draft.actions).toEqual([])
    expect(types(r.interventions)).toEqual(['data_unsafe_refusal telemetry'])
  })

  describe('g. low confidence', () => {
    it('keeps cited steps and causes but no actions; not a refusal while steps remain', () => {
      const r = guardDraft(input({ confidence: 0.3 }))
      expect(r.draft.actions).toEqual([])
      expect(r.draft.steps).toEqual(cleanDraft.steps)
      expect(r.refused).toBeNull()
      expect(types(r.interventions)).toEqual(['low_confidence confidence'])
    })

    it('refuses low_confidence when no cause and no step survive', () => {
      const r = guardDraft(input({ confidence: 0.3, draft: draftWith({ causes: [], steps: [{ text: 'p99 is 870 ms', citations: ['E4'] }] }) }))
      expect(r.refused).toBe('low_confidence')
      expect(r.draft.actions).toEqual([])
    })

    it('treats a NaN confidence as low', () => {
      expect(guardDraft(input({ confidence: Number.NaN })).draft.actions).toEqual([])
    })
  })
})
