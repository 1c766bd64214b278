import { z } from 'zod'
import type { Draft, EvidencePack } from './types.js'

// What a reader of an assessment needs beside each citation: not the bare ref ("E3") the draft carries, but the
// source, the heading path and the passage itself, as stored in the evidence pack the draft was built from. The
// guard already guarantees every ref of a stored draft resolves (invariant 3); this only joins them.

export const ResolvedCitation = z.object({
  ref: z.string(),
  kind: z.string(),
  title: z.string(),
  sourceUri: z.string().nullable(),
  headingPath: z.array(z.string()),
  /** The cited passage as the model saw it (the evidence item's text). */
  passage: z.string(),
  chunkId: z.number().int().nullable(),
  contentHash: z.string(),
  /** Where the draft cites it: `causes[0]`, `steps[2]`, `similarIncidents[1]`, `actions[0]`. */
  citedBy: z.array(z.string()),
})
export type ResolvedCitation = z.infer<typeof ResolvedCitation>

const SECTIONS = ['causes', 'steps', 'similarIncidents', 'actions'] as const

/** Every ref the draft cites, in first-cited order, resolved against the pack; a ref not in the pack is left out. */
export function resolveCitations(draft: Pick<Draft, (typeof SECTIONS)[number]>, pack: Pick<EvidencePack, 'items'>): ResolvedCitation[] {
  const byRef = new Map(pack.items.map((i) => [i.ref, i]))
  const out = new Map<string, ResolvedCitation>()
  for (const section of SECTIONS) {
    draft[section].forEach((entry, n) => {
      for (const ref of entry.citations) {
        const item = byRef.get(ref)
        if (!item) continue
        const c = out.get(ref) ?? {
          ref, kind: item.kind, title: item.title, sourceUri: item.sourceUri, headingPath: item.headingPath,
          passage: item.text, chunkId: item.chunkId, contentHash: item.contentHash, citedBy: [],
        }
        const at = `${section}[${n}]`
        if (!c.citedBy.includes(at)) c.citedBy.push(at)
        out.set(ref, c)
      }
    })
  }
  return [...out.values()]
}
