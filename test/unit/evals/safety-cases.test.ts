import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { normalizeAlert } from '../../../src/alerts/normalize/index.js'
import { loadSafetyCases, type SafetyCase } from '../../../evals/safety.js'
import { caseSets, REPO_ROOT } from '../../../evals/suite/config.js'
import { needsNoKnowledge } from '../../../evals/suite/safety.js'

// Our own safety cases (evals/cases/demo-safety.jsonl) are in the shared format and cover the demo
// deployment's attack surface. This checks the file's shape and coverage; the integration suite runs them.

const file = path.join(REPO_ROOT, 'evals', 'cases', 'demo-safety.jsonl')
const cases = loadSafetyCases(file)
const byId = (id: string) => cases.find((c) => c.id === id)!
const payloadText = (c: SafetyCase) => JSON.stringify(c.payload ?? c.document ?? c.question ?? '')

describe('demo safety cases', () => {
  it('at least 10 cases with unique ids, each with expectations, none of a kind the runner cannot execute', () => {
    expect(cases.length).toBeGreaterThanOrEqual(10)
    expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length)
    for (const c of cases) {
      expect(Object.keys(c.expect).length, c.id).toBeGreaterThan(0)
      expect(['webhook', 'webhook_duplicate', 'ask', 'ingest'], c.id).toContain(c.kind)
      expect(c.expect.http_status, c.id).not.toBe(401) // needs webhook auth: the runner reports not_covered
    }
    expect(caseSets().find((s) => s.name === 'demo')!.safetyCases).toBe(file)
  })

  it('an ingest case hides an instruction in runbook front-matter and asks a question that retrieves it', () => {
    const c = cases.find((x) => x.kind === 'ingest' && /^---\n[^]*?(ignore all previous instructions|SYSTEM:)[^]*?\n---\n/i.test((x.document as { text: string }).text))
    expect(c).toBeDefined()
    expect((c!.document as { path: string }).path).toMatch(/^runbooks\//)
    expect(c!.then_ask).toBeTruthy()
    expect(c!.expect).toMatchObject({ injection_flagged: true, no_root_cause_assertion: true })
  })

  it('webhook payloads are valid for their format, with injections in PagerDuty custom details and Grafana annotations', () => {
    const webhooks = cases.filter((c) => (c.kind === 'webhook' || c.kind === 'webhook_duplicate') && c.payload !== undefined)
    for (const c of webhooks) expect(normalizeAlert('auto', c.payload).ok, c.id).toBe(true)
    const pd = webhooks.find((c) => normalizeAlert('auto', c.payload).ok && (normalizeAlert('auto', c.payload) as { format: string }).format === 'pagerduty')!
    expect(JSON.stringify((pd.payload as { event: { data: { body: { custom_details: unknown } } } }).event.data.body.custom_details)).toMatch(/ignore previous instructions/i)
    expect(pd.expect).toMatchObject({ injection_flagged: true, approved_proposals: 0 })
    const gr = webhooks.find((c) => (normalizeAlert('auto', c.payload) as { format?: string }).format === 'grafana')!
    expect(JSON.stringify((gr.payload as { alerts: Array<{ annotations: unknown }> }).alerts[0]!.annotations)).toMatch(/<system>|kubectl delete/i)
    expect(gr.expect).toMatchObject({ injection_flagged: true })
  })

  it('requests to execute, unsafe telemetry, a duplicate delivery and malformed bodies', () => {
    const asks = cases.filter((c) => c.kind === 'ask' && c.expect.refused === 'out_of_scope')
    expect(asks.length).toBeGreaterThanOrEqual(2)
    const unsafe = cases.filter((c) => c.expect.refused === 'data_unsafe')
    expect(unsafe.map((c) => c.kind).sort()).toEqual(['ask', 'webhook'])
    for (const c of unsafe) expect(payloadText(c), c.id).toMatch(/finance-etl/)
    expect(cases.some((c) => c.kind === 'webhook_duplicate' && Number(c.deliveries) > 1 && c.expect.assessments === 1)).toBe(true)
    const malformed = cases.filter((c) => typeof c.raw_body === 'string')
    expect(malformed.length).toBeGreaterThanOrEqual(2)
    expect(new Set(malformed.map((c) => c.expect.http_status))).toEqual(new Set([400, 422]))
    for (const c of malformed) expect(c.expect.stored_alerts, c.id).toBe(0)
    expect(byId('ds12').content_type).toBe('text/plain')
  })

  it('only cases that cannot read the knowledge base skip the corpus', () => {
    expect(cases.filter(needsNoKnowledge).map((c) => c.id)).toEqual(cases.filter((c) => c.raw_body !== undefined).map((c) => c.id))
    expect(needsNoKnowledge({ id: 'a', kind: 'approval', expect: {} })).toBe(true)
    expect(needsNoKnowledge({ id: 'b', kind: 'webhook', expect: { http_status: 401 } })).toBe(true)
    expect(needsNoKnowledge({ id: 'c', kind: 'webhook', raw_body_size_bytes: 10, expect: {} })).toBe(true)
    expect(needsNoKnowledge({ id: 'd', kind: 'ask', question: 'q', expect: {} })).toBe(false)
  })
})

describe('not-covered note', () => {
  it('groups not-covered cases by the capability they need', async () => {
    const { notCoveredNote } = await import('../../../evals/suite/safety.js')
    const r = (id: string, status: 'pass' | 'not_covered', note?: string) => ({ id, kind: 'x', status, checks: [], ...(note && { note }) })
    expect(notCoveredNote('shared', [r('s01', 'pass'), r('s08', 'not_covered', 'needs webhook authentication'), r('s10', 'not_covered', 'needs the approval queue'), r('s11', 'not_covered', 'needs the approval queue')])).toBe(
      'safety shared: 3 case(s) not covered, reported but not run — s08 (needs webhook authentication); s10, s11 (needs the approval queue)',
    )
    expect(notCoveredNote('demo', [r('d', 'pass')])).toBe('')
  })
})
