import type { AssistantDeps } from './assess.js'
import { draftFromPack } from './assess.js'
import { getAlert } from '../alerts/receive.js'
import { detectInjection } from './guard/index.js'
import { loadPrompt } from './prompts.js'
import { getAssessment } from './store.js'
import type { Draft } from './types.js'

// Rebuilds an assessment from its STORED evidence pack and classification (no new retrieval), with the
// current prompt and rules, and reports what differs. A changed prompt hash or rule shows up here.

export interface ReplayDiff {
  assessmentId: string
  promptChanged: { stored: string; current: string } | null
  changes: Array<{ path: string; stored: unknown; replayed: unknown }>
  storedMode: string
  replayedMode: string
}

export async function replayAssessment(deps: AssistantDeps, id: string): Promise<ReplayDiff | null> {
  const stored = await getAssessment(deps.db, id)
  if (!stored || stored.subject !== 'alert' || !stored.alertId || !stored.classification) return null
  const alert = await getAlert(deps.db, stored.alertId)
  if (!alert) return null
  const injection = detectInjection([
    { where: 'alert.summary', text: alert.summary },
    { where: 'alert.description', text: alert.description },
    ...Object.entries(alert.annotations).map(([k, v]) => ({ where: `alert.annotations.${k}`, text: v })),
    ...stored.evidencePack.items.filter((i) => i.kind === 'chunk').map((i) => ({ where: `${i.ref} ${i.sourceUri}`, text: `${i.title}\n${i.text}` })),
  ])
  // The stored mode is replayed: an llm assessment is re-asked of the model, a deterministic one is recomputed.
  const replayed = await draftFromPack(deps, { alert, classification: stored.classification, pack: stored.evidencePack, injection }, { useLlm: stored.provenance.mode === 'llm' })
  const prompt = loadPrompt(stored.provenance.promptId)
  return {
    assessmentId: id,
    promptChanged: prompt.sha256 === stored.provenance.promptSha256 ? null : { stored: `${stored.provenance.promptVersion}@${stored.provenance.promptSha256.slice(0, 12)}`, current: `${prompt.version}@${prompt.sha256.slice(0, 12)}` },
    changes: diffDrafts(stored.draft, replayed.draft).concat(stored.outcome === replayed.outcome ? [] : [{ path: 'outcome', stored: stored.outcome, replayed: replayed.outcome }]),
    storedMode: stored.provenance.mode,
    replayedMode: replayed.provenance.mode,
  }
}

export function diffDrafts(a: Draft, b: Draft): ReplayDiff['changes'] {
  const out: ReplayDiff['changes'] = []
  const walk = (x: unknown, y: unknown, path: string) => {
    if (JSON.stringify(x) === JSON.stringify(y)) return
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length); i++) walk(x[i], y[i], `${path}[${i}]`)
      return
    }
    if (x && y && typeof x === 'object' && typeof y === 'object') {
      for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k)
      return
    }
    out.push({ path, stored: x, replayed: y })
  }
  walk(a, b, '')
  return out
}
