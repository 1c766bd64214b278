import type { CanonicalAlert } from '../alerts/types.js'
import type { Taxonomy } from '../policy/taxonomy.js'
import type { CandidateAction } from './actions.js'
import type { Classification, Draft, EvidenceItem, EvidencePack } from './types.js'

// Deterministic drafting: assembled from the evidence pack only. Every sentence is either a template with
// values copied from cited items, or a passage line quoted from a cited runbook/case study.

const STEP_HEADINGS = /triage|diagnos|investigat|check|verify|steps|confirm|what to look/i
const MAX_STEPS = 5

export function deterministicDraft(input: {
  alert: CanonicalAlert | null
  classification: Classification
  pack: EvidencePack
  candidates: CandidateAction[]
  taxonomy: Taxonomy
}): Draft {
  const { classification: c, pack, taxonomy } = input
  const alertRef = pack.items.find((i) => i.kind === 'alert')?.ref
  const catalogRef = pack.items.find((i) => i.kind === 'catalog')?.ref
  const tel = pack.items.find((i) => i.kind === 'telemetry')
  const passages = pack.items.filter((i) => i.kind === 'chunk')
  const runbooks = passages.filter((i) => i.sourceKind === 'runbook')
  const cases = passages.filter((i) => i.sourceKind === 'case_study')

  const causes: Draft['causes'] = []
  if (c.failureClass !== 'unknown' && alertRef) {
    const desc = taxonomy.classes.get(c.failureClass) ?? ''
    causes.push({ text: `Possibly ${c.failureClass.replace(/_/g, ' ')}: ${lowerFirst(desc)}`, citations: [alertRef] })
  }
  for (const ch of recentChanges(tel, input.alert)) {
    causes.push({ text: `A recent ${ch.type} may be involved: ${ch.id} at ${ch.at}${ch.revision ? ` (revision ${ch.revision})` : ''}.`, citations: [tel!.ref] })
  }
  const neighbour = cases.find((i) => typeof i.meta.failure_class === 'string' && typeof i.meta.incident_id === 'string')
  if (neighbour) {
    causes.push({
      text: `A similar past incident, ${String(neighbour.meta.incident_id)}, was classed as ${String(neighbour.meta.failure_class).replace(/_/g, ' ')}; the same may apply here.`,
      citations: [neighbour.ref],
    })
  }

  const steps: Draft['steps'] = []
  const ordered = [...runbooks.filter((r) => STEP_HEADINGS.test(r.headingPath.join(' '))), ...runbooks]
  const seenSteps = new Set<string>()
  for (const r of ordered) {
    for (const line of stepLines(r)) {
      if (steps.length >= MAX_STEPS || seenSteps.has(line)) continue
      seenSteps.add(line)
      steps.push({ text: line, citations: [r.ref] })
    }
  }

  const seenIncidents = new Set<string>()
  const similarIncidents: Draft['similarIncidents'] = []
  for (const cs of cases) {
    const id = typeof cs.meta.incident_id === 'string' ? cs.meta.incident_id : null
    if (!id || seenIncidents.has(id)) continue
    seenIncidents.add(id)
    similarIncidents.push({
      incidentId: id,
      title: cs.title,
      mitigation: typeof cs.meta.mitigation === 'string' ? cs.meta.mitigation : 'See the cited case study.',
      citations: [cs.ref],
    })
    if (similarIncidents.length >= 3) break
  }

  const motivating = [alertRef, tel?.ref, catalogRef].filter((r): r is string => Boolean(r))
  const kind = typeof pack.catalogSlice?.kind === 'string' ? pack.catalogSlice.kind : null
  // A past incident of the same class and the service's own runbook are what a reviewer checks the
  // suggestion against, so they are cited beside the alert, telemetry and catalog entry.
  const sameClass = cases.find((i) => i.meta.failure_class === c.failureClass)
  const ownRunbook = runbooks.find((r) => c.service !== null && r.meta.service === c.service) ?? runbooks[0]
  const actions: Draft['actions'] = input.candidates.map((a) => ({
    actionId: a.actionId,
    params: a.params,
    rationale: actionRationale(a, c.failureClass, kind, sameClass),
    citations: [...motivating, ...[sameClass?.ref, ownRunbook?.ref].filter((r): r is string => Boolean(r))],
  }))

  const where = c.service ? ` on ${c.service}` : ''
  const summary =
    c.failureClass === 'unknown'
      ? `The evidence does not point to a failure class${where}; the steps below come from the closest runbook passages.`
      : `This looks like it may be ${c.failureClass.replace(/_/g, ' ')}${where}; the causes below are possibilities to check, not conclusions.`
  return { summary, causes, steps, similarIncidents, actions }
}

/**
 * The rationale of a suggested action states only what the evidence pack holds, because the guard's facts
 * check (invariant 4) applies to it like to any statement: the action id, param names and policy
 * wording are not in the evidence ("restart_workload", "to_revision"), so they are never written here
 * (the action id and params travel beside the rationale). Class names are written as words, param names
 * with spaces, and param sources name evidence (alert labels, telemetry change ids, the catalog).
 */
export function actionRationale(a: CandidateAction, failureClass: string, kind: string | null, sameClass: EvidenceItem | undefined): string {
  const words = (s: string) => s.replace(/_/g, ' ')
  const sources = Object.entries(a.sources).map(([param, from]) => `${words(param)} from ${from === 'classification' ? 'the classified service' : from}`)
  return [
    `Suggested because the alert may be ${words(failureClass)}, a failure class the policy recommends this action for${kind ? ` on ${kind} services` : ''}.`,
    ...(sameClass && typeof sameClass.meta.incident_id === 'string' ? [`A similar past incident, ${sameClass.meta.incident_id}, was classed the same way.`] : []),
    `Parameters: ${sources.join('; ')}.`,
  ].join(' ')
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s
}

/** Numbered or bulleted lines of a runbook passage, verbatim (so every number in them is in the evidence). */
export function stepLines(item: EvidenceItem): string[] {
  const lines = item.text.split('\n').map((l) => l.trim())
  const listed = lines.filter((l) => /^(\d+[.)]|[-*])\s+\S/.test(l)).map((l) => l.replace(/^(\d+[.)]|[-*])\s+/, ''))
  const chosen = listed.length ? listed : lines.filter((l) => l.length > 30).slice(0, 2)
  return chosen.filter((l) => l.length >= 12 && l.length <= 400).slice(0, 3)
}

function recentChanges(tel: EvidenceItem | undefined, alert: CanonicalAlert | null) {
  if (!tel) return []
  const changes = (tel.meta.recent_changes ?? []) as Array<{ type: string; at: string; id: string; revision?: string }>
  const ref = alert?.startsAt ? Date.parse(alert.startsAt) : Number.POSITIVE_INFINITY
  return changes.filter((ch) => Date.parse(ch.at) <= ref && (ref === Number.POSITIVE_INFINITY || ref - Date.parse(ch.at) <= 6 * 3600_000)).slice(0, 2)
}
