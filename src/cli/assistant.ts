import fs from 'node:fs'
import { ask, AskInput } from '../assistant/ask.js'
import { assessAlert } from '../assistant/assess.js'
import { replayAssessment } from '../assistant/replay.js'
import type { Assessment } from '../assistant/store.js'
import { receiveAlerts } from '../alerts/receive.js'
import type { AlertSource } from '../alerts/types.js'
import { assistantDeps, fail, openContext } from './context.js'

const FORMATS = ['auto', 'alertmanager', 'grafana', 'pagerduty', 'generic'] as const

/** `warden assess FILE|-`: the webhook path without HTTP — receive, dedupe, assess, print. */
export async function assessCommand(file: string, opts: { format?: string; json?: boolean }): Promise<void> {
  const format = (opts.format ?? 'auto') as AlertSource | 'auto'
  if (!FORMATS.includes(format)) fail(`--format must be one of ${FORMATS.join(', ')}`, 2)
  let payload: unknown
  try {
    payload = JSON.parse(fs.readFileSync(file === '-' ? 0 : file, 'utf8'))
  } catch (err) {
    fail(`cannot read a JSON payload from ${file}: ${(err as Error).message}`, 2)
  }
  const ctx = await openContext()
  try {
    const deps = assistantDeps(ctx)
    const received = await receiveAlerts({ db: ctx.db }, { format, payload })
    if (!received.ok) fail(`${received.error.message}${received.error.issues.length ? `\n${received.error.issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}` : ''}`, 2)
    const out: Array<{ alertId: string; created: boolean; status: string; assessment: Assessment | null }> = []
    for (const a of received.alerts) {
      const assessment = a.status === 'firing' ? await assessAlert(deps, a.alertId) : null
      out.push({ ...a, assessment })
    }
    if (opts.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`)
    for (const o of out) process.stdout.write(`${formatAssessment(o.alertId, o.status, o.created, o.assessment)}\n`)
  } finally {
    await ctx.close()
  }
}

export function formatAssessment(alertId: string, status: string, created: boolean, a: Assessment | null): string {
  if (!a) return `alert ${alertId}: ${status}${created ? '' : ' (duplicate delivery)'} — recorded, not assessed`
  const c = a.classification
  const cite = (refs: string[]) => (refs.length ? ` [${refs.join(', ')}]` : '')
  const lines = [
    `alert ${alertId} → assessment ${a.id} (${a.outcome}${a.refusalReason ? `: ${a.refusalReason}` : ''}; ${a.provenance.mode}${a.provenance.fallbackReason ? `, fallback: ${a.provenance.fallbackReason}` : ''})`,
    c ? `  service ${c.service ?? '(unresolved)'} · team ${c.team} · class ${c.failureClass} · ${c.severity} · confidence ${c.confidence.toFixed(2)}` : '',
    `  ${a.draft.summary}`,
    ...(a.draft.causes.length ? ['  possible causes:', ...a.draft.causes.map((x) => `    - ${x.text}${cite(x.citations)}`)] : []),
    ...(a.draft.steps.length ? ['  next steps:', ...a.draft.steps.map((x) => `    - ${x.text}${cite(x.citations)}`)] : []),
    ...(a.draft.similarIncidents.length ? ['  similar incidents:', ...a.draft.similarIncidents.map((x) => `    - ${x.incidentId} ${x.title} — mitigated: ${x.mitigation}${cite(x.citations)}`)] : []),
    ...(a.draft.actions.length ? ['  suggested actions (need human approval):', ...a.draft.actions.map((x) => `    - ${x.actionId} ${JSON.stringify(x.params)}${cite(x.citations)}`)] : []),
    '  evidence:',
    ...a.evidencePack.items.map((i) => `    ${i.ref} ${i.kind}${i.sourceUri ? ` ${i.sourceUri}` : ''}${i.headingPath.length > 1 ? ` › ${i.headingPath.slice(1).join(' › ')}` : ''}${i.chunkId ? ` (chunk ${i.chunkId})` : ''}`),
    ...(a.injectionFlagged ? ['  ⚠ injected instructions detected in untrusted text: actions withheld'] : []),
    ...(a.interventions.length ? [`  guard interventions: ${a.interventions.map((i) => i.type).join(', ')}`] : []),
  ]
  return lines.filter(Boolean).join('\n')
}

export async function askCommand(question: string, opts: { service?: string; json?: boolean }): Promise<void> {
  const input = AskInput.safeParse({ question, service: opts.service })
  if (!input.success) fail(input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 2)
  const ctx = await openContext()
  try {
    const answer = await ask(assistantDeps(ctx), input.data)
    if (opts.json) return void process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
    process.stdout.write(`${answer.refused ? `[refused: ${answer.refused}] ` : ''}${answer.text}\n`)
    for (const c of answer.citations) process.stdout.write(`  ${c.ref}: ${c.sourceUri ?? c.title}${c.headingPath.length > 1 ? ` › ${c.headingPath.slice(1).join(' › ')}` : ''}\n`)
    if (answer.injectionFlagged) process.stdout.write('  ⚠ a retrieved passage contains instructions addressed to the assistant; it was treated as data\n')
  } finally {
    await ctx.close()
  }
}

export async function replayCommand(id: string, opts: { json?: boolean }): Promise<void> {
  const ctx = await openContext()
  try {
    const diff = await replayAssessment(assistantDeps(ctx), id)
    if (!diff) fail(`no alert assessment ${id}`, 2)
    if (opts.json) return void process.stdout.write(`${JSON.stringify(diff, null, 2)}\n`)
    process.stdout.write(`replay of ${id} (${diff.storedMode} → ${diff.replayedMode})\n`)
    if (diff.promptChanged) process.stdout.write(`  prompt changed: ${diff.promptChanged.stored} → ${diff.promptChanged.current}\n`)
    if (diff.changes.length === 0) process.stdout.write('  identical draft\n')
    for (const c of diff.changes) process.stdout.write(`  ${c.path}:\n    - ${JSON.stringify(c.stored)}\n    + ${JSON.stringify(c.replayed)}\n`)
    process.exitCode = diff.changes.length ? 1 : 0
  } finally {
    await ctx.close()
  }
}
