import type { Database, Queryable } from '../db/types.js'

// Corpus statistics for BM25 (see search.ts): each lexeme's document frequency over chunks.tsv, the number of
// chunks and their mean length. Rebuilt wholesale with ts_stat() at the end of an ingestion run that changed the
// corpus. Rebuilding is simpler and safer than maintaining counts row by row (no drift, no write amplification
// on every chunk insert) and cheap next to the run itself: ts_stat is one sequential pass over the tsvectors.
//
// Readers never block: the rebuild is a DELETE + INSERT in one transaction, so a concurrent search sees either
// the old statistics or the new ones.
//
// "Length" is the number of distinct lexemes of a chunk's tsv (`length(tsv)`), not its token count: the query
// path can read it in O(1) for every candidate, and for passages of bounded size the two are nearly
// proportional, which is all BM25's length normalisation needs.

export interface CorpusStats {
  chunks: number
  avgLen: number
}

export interface TermStatsRefresh {
  chunks: number
  lexemes: number
  ms: number
}

/** Rebuilds the statistics from the current chunks (ts_stat: one pass over every tsv; 2.4 s at 100k chunks). */
export async function refreshTermStats(db: Database): Promise<TermStatsRefresh> {
  const t0 = performance.now()
  return db.transaction(async (tx) => {
    await tx.query('delete from term_stats')
    const ins = await tx.query(`insert into term_stats (lexeme, df) select word, ndoc from ts_stat('select tsv from chunks')`)
    const { rows } = await tx.query<{ chunks: number }>(
      `insert into corpus_stats (singleton, chunks, avg_len, changed, refreshed_at)
       select true, count(*)::int, coalesce(avg(length(tsv)), 0)::float8, 0, now() from chunks
       on conflict (singleton) do update
         set chunks = excluded.chunks, avg_len = excluded.avg_len, changed = 0, refreshed_at = excluded.refreshed_at
       returning chunks`,
    )
    return { chunks: rows[0]!.chunks, lexemes: ins.rowCount, ms: Math.round(performance.now() - t0) }
  })
}

/**
 * Merges the pending list of the full-text GIN index (chunks_tsv_idx) into its tree. With fastupdate (the
 * default) rows written since the last merge sit in an unsorted pending list that EVERY full-text search scans
 * linearly, up to gin_pending_list_limit (4 MB): after the demo corpus was ingested into a bulk-loaded 10k-chunk
 * base (181 pending pages), the GIN part of one kind-filtered bm25 query took 6.4 ms, 0.45 ms once merged
 * (EXPLAIN ANALYZE). Autovacuum would merge it eventually; the end of an ingestion run is when we know it grew.
 * Best effort: it needs ownership of the index, and a search is only slower without it. Returns pages merged.
 */
export async function mergeTextIndexPending(q: Queryable): Promise<number> {
  try {
    const { rows } = await q.query<{ n: number }>(`select gin_clean_pending_list('chunks_tsv_idx'::regclass)::int as n`)
    return rows[0]?.n ?? 0
  } catch {
    return 0
  }
}

/** A rebuild waits until runs have changed this share of the chunks: document frequencies barely move before. */
export const REFRESH_FRACTION = 0.02

/**
 * The ingestion pipeline's end-of-run hook (called inside the run's single-writer lock). `changed` counts the
 * chunks the run wrote or removed. Rebuilds when the statistics were never computed (a fresh database, or one
 * migrated from before they existed), or once the changes accumulated since the last rebuild reach
 * REFRESH_FRACTION of the corpus; otherwise only adds to that tally. Until then, a word new to the corpus has
 * df 0 and so the highest IDF — right for a word that rare. Returns null when no rebuild was needed.
 */
export async function refreshTermStatsAfterRun(db: Database, changed: number): Promise<TermStatsRefresh | null> {
  const { rows } = await db.query<{ chunks: number; changed: number }>('select chunks, changed from corpus_stats')
  const row = rows[0]
  if (row && changed <= 0) return null
  await mergeTextIndexPending(db)
  const total = (row?.changed ?? 0) + changed
  if (row && total < Math.max(1, REFRESH_FRACTION * row.chunks)) {
    await db.query('update corpus_stats set changed = $1', [total])
    return null
  }
  return refreshTermStats(db)
}

export interface QueryLexeme {
  lexeme: string
  /** Chunks containing the lexeme at the last refresh (0 when unseen then). */
  df: number
  /** Produced by a part of a hyphenated word (`payments-api` → `payment`, `api`): it co-occurs with the whole. */
  part: boolean
}

export interface QueryStats {
  /** The query's lexemes as Postgres' english configuration indexes them (stemmed; stop words such as "what",
   *  "which", "should" removed), with document frequencies. */
  lexemes: QueryLexeme[]
  /** Null if the statistics were never computed. */
  corpus: CorpusStats | null
}

/** Everything ranking needs to know about a query's words, in one round trip. */
export async function queryStats(q: Queryable, query: string): Promise<QueryStats> {
  const { rows } = await q.query<{ kind: 'c' | 'q' | 'p'; key: string | null; df: number | null; avg_len: number | null }>(
    `select 'c' as kind, null as key, chunks as df, avg_len from corpus_stats
     union all
     select 'q', l.lexeme, coalesce(t.df, 0), null
     from unnest(tsvector_to_array(to_tsvector('english', $1))) l(lexeme) left join term_stats t on t.lexeme = l.lexeme
     union all
     select distinct 'p', l.lexeme, null::int, null::float8
     from ts_parse('default', $1) w cross join lateral unnest(tsvector_to_array(to_tsvector('english', w.token))) l(lexeme)
     where w.tokid in (9, 10, 11) -- hword_numpart, hword_part, hword_asciipart`,
    [query],
  )
  let corpus: CorpusStats | null = null
  const lexemes: QueryLexeme[] = []
  const parts = new Set<string>()
  for (const r of rows) {
    if (r.kind === 'c') corpus = r.df !== null && r.df > 0 ? { chunks: r.df, avgLen: r.avg_len ?? 0 } : null
    else if (r.kind === 'q') lexemes.push({ lexeme: r.key!, df: r.df ?? 0, part: false })
    else parts.add(r.key!)
  }
  for (const l of lexemes) l.part = parts.has(l.lexeme)
  lexemes.sort((a, b) => (a.lexeme < b.lexeme ? -1 : a.lexeme > b.lexeme ? 1 : 0))
  return { lexemes, corpus }
}

/** Robertson–Spärck Jones IDF as in BM25 (the +1 keeps it positive for terms in over half the chunks). */
export function idf(df: number, chunks: number): number {
  const n = Math.max(chunks, df)
  return Math.log(1 + (n - df + 0.5) / (df + 0.5))
}
