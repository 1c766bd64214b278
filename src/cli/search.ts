import { search, SearchInput } from '../knowledge/search.js'
import { fail, openContext } from './context.js'

export async function searchCommand(
  query: string,
  opts: { service?: string; team?: string; kind?: string; k?: string; json?: boolean; mode?: string },
): Promise<void> {
  const parsed = SearchInput.safeParse({ query, service: opts.service, team: opts.team, kind: opts.kind, k: opts.k ? Number(opts.k) : undefined, mode: opts.mode })
  if (!parsed.success) fail(parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '), 2)
  const ctx = await openContext()
  try {
    const hits = await search({ db: ctx.db, embedder: ctx.embedder, efSearch: ctx.config.env.WARDEN_HNSW_EF_SEARCH }, parsed.data)
    if (opts.json) return void process.stdout.write(`${JSON.stringify(hits, null, 2)}\n`)
    if (hits.length === 0) return void process.stdout.write('no matching passages\n')
    hits.forEach((h, i) => {
      const where = h.headingPath.slice(1).join(' › ')
      process.stdout.write(
        `${i + 1}. [${h.kind}${h.service ? ` · ${h.service}` : ''}] ${h.title}${where ? ` › ${where}` : ''}\n` +
          `   ${h.sourceUri}  chunk ${h.chunkId}  rrf ${h.scores.rrf.toFixed(4)}  sha256:${h.contentHash.slice(0, 12)}\n` +
          `   ${h.snippet}\n`,
      )
    })
  } finally {
    await ctx.close()
  }
}
