import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { search } from '../../../src/knowledge/search.js'
import { queryStats, refreshTermStats, refreshTermStatsAfterRun } from '../../../src/knowledge/termstats.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// BM25 over chunks.tsv with corpus statistics (term_stats / corpus_stats) rebuilt by the ingestion pipeline.

const runbook = (service: string, title: string, sections: Record<string, string>) =>
  `---\ntitle: ${title}\nservice: ${service}\nteam: platform\n---\n# ${title}\n\n${Object.entries(sections)
    .map(([h, body]) => `## ${h}\n${body}\n`)
    .join('\n')}`

// "database" is everywhere; "wraparound" is in one passage only. ts_rank_cd (no IDF) preferred the passage that
// repeats the common word; BM25 must prefer the one with the rare word.
const CORPUS: Record<string, string> = {
  'runbooks/orders-db.md': runbook('orders-db', 'Orders database', {
    Symptoms: 'The database rejects writes. The database log says: database is not accepting commands to avoid wraparound data loss.',
    Triage: 'Check database connections, database replication and database disk on the database host; database, database, database.',
  }),
  'runbooks/cart-db.md': runbook('cart-api', 'Cart database', {
    Symptoms: 'The cart database is slow; database CPU is high and database queries queue.',
    Mitigation: 'Scale the database read replicas; restart the database pooler.',
  }),
  'runbooks/dns.md': runbook('edge-proxy', 'DNS failures', {
    Symptoms: 'Resolution of internal names fails intermittently from the edge pods.',
  }),
}

describe(`BM25 full-text ranking and corpus statistics (${backend})`, () => {
  let t: TestDatabase
  let dir: string
  const embedder = createLocalEmbeddings()
  const ingest = () => runIngest({ db: t.db, embedder }, { inputs: [dir], maxBytes: 1 << 20 })

  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())
  beforeEach(async () => {
    await t.db.query('truncate sources, chunks, telemetry_summaries, ingest_runs, ingest_run_items, term_stats, corpus_stats cascade')
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-bm25-'))
    for (const [rel, body] of Object.entries(CORPUS)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
      fs.writeFileSync(path.join(dir, rel), body)
    }
  })

  it('an ingestion run computes document frequencies, chunk count and mean length', async () => {
    await ingest()
    const { rows: chunks } = await t.db.query<{ n: number; avg: number }>('select count(*)::int n, avg(length(tsv))::float8 avg from chunks')
    const { rows: corpus } = await t.db.query<{ chunks: number; avg_len: number; changed: number }>('select chunks, avg_len, changed from corpus_stats')
    expect(corpus).toEqual([{ chunks: chunks[0]!.n, avg_len: expect.closeTo(chunks[0]!.avg, 6), changed: 0 }])
    const stats = await queryStats(t.db, 'Which database hit wraparound?')
    const df = Object.fromEntries(stats.lexemes.map((l) => [l.lexeme, l.df]))
    expect(df.wraparound).toBe(1)
    expect(df.databas).toBeGreaterThanOrEqual(4)
    expect(stats.corpus?.chunks).toBe(chunks[0]!.n)
  })

  it('ranks the passage with the rare word above one that repeats a common word', async () => {
    await ingest()
    const hits = await search({ db: t.db, embedder }, { query: 'database wraparound', mode: 'fts', k: 5 })
    expect(hits[0]?.headingPath).toEqual(['Orders database', 'Symptoms'])
    expect(hits[0]!.scores.fts!.score).toBeGreaterThan(hits[1]!.scores.fts!.score)
    expect(hits.map((h) => h.headingPath.at(-1))).toContain('Triage')
  })

  it('an unchanged re-run does not rebuild; a changed one does', async () => {
    await ingest()
    const before = (await t.db.query<{ at: string }>('select refreshed_at::text at from corpus_stats')).rows[0]!.at
    await ingest()
    expect((await t.db.query<{ at: string }>('select refreshed_at::text at from corpus_stats')).rows[0]!.at).toBe(before)
    fs.writeFileSync(path.join(dir, 'runbooks/dns.md'), runbook('edge-proxy', 'DNS failures', { Symptoms: 'CoreDNS pods OOMKilled; ndots causes lookup storms.' }))
    await ingest()
    const stats = await queryStats(t.db, 'coredns ndots')
    expect(stats.lexemes.map((l) => l.df)).toEqual([1, 1])
  })

  it('small changes only accumulate until they reach a share of the corpus', async () => {
    await ingest()
    await t.db.query('update corpus_stats set chunks = 10000')
    expect(await refreshTermStatsAfterRun(t.db, 3)).toBeNull()
    expect(await refreshTermStatsAfterRun(t.db, 0)).toBeNull()
    expect((await t.db.query<{ changed: number }>('select changed from corpus_stats')).rows[0]!.changed).toBe(3)
    expect(await refreshTermStatsAfterRun(t.db, 500)).toMatchObject({ lexemes: expect.any(Number) })
    expect((await t.db.query<{ changed: number; chunks: number }>('select changed, chunks from corpus_stats')).rows[0]!.changed).toBe(0)
  })

  it('searches without statistics (chunks loaded by other means) by OR-ing every word', async () => {
    await ingest()
    await t.db.query('truncate term_stats, corpus_stats')
    const hits = await search({ db: t.db, embedder }, { query: 'database wraparound', mode: 'fts', k: 5 })
    expect(hits.length).toBeGreaterThanOrEqual(3)
    expect(hits.some((h) => h.headingPath.at(-1) === 'Symptoms' && h.title === 'Orders database')).toBe(true)
  })

  it('a filtered query whose rare words are all outside the filter falls back to every word', async () => {
    await ingest()
    // Pretend the corpus is large, "database" common and "wraparound" frequent enough to fill the candidate set
    // alone, so that set is narrowed to "wraparound" — which only orders-db has. Filtered to cart-api, that
    // finds nothing; the search must widen to every word.
    await refreshTermStats(t.db)
    await t.db.query('update corpus_stats set chunks = 100000')
    await t.db.query("update term_stats set df = 50000 where lexeme = 'databas'")
    await t.db.query("update term_stats set df = 300 where lexeme = 'wraparound'")
    const narrowed = await search({ db: t.db, embedder }, { query: 'database wraparound', mode: 'fts', k: 1 })
    expect(narrowed.map((h) => h.scores.fts?.rank)).toEqual([1])
    expect(narrowed[0]!.service).toBe('orders-db')
    const hits = await search({ db: t.db, embedder }, { query: 'database wraparound', mode: 'fts', k: 1, service: 'cart-api' })
    expect(hits.length).toBeGreaterThan(0)
    expect(hits.every((h) => h.service === 'cart-api')).toBe(true)
  })
})
