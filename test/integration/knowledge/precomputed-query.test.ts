import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { precomputeQuery, search, searchMany } from '../../../src/knowledge/search.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// retrievePassages computes a query's term statistics and embedding once for its five searches; search() must
// rank exactly as when it derives them itself. And an ingestion run leaves no pending list in the full-text
// GIN index for every search to scan (termstats.ts, mergeTextIndexPending).

const doc = (service: string, title: string, body: string) => `---\ntitle: ${title}\nservice: ${service}\nteam: platform\n---\n# ${title}\n\n## Symptoms\n${body}\n`

const CORPUS: Record<string, string> = {
  'runbooks/orders-db.md': doc('orders-db', 'Orders database', 'Lock waits on the orders database; transactions wait on row locks, checkout latency rises.'),
  'runbooks/cart-db.md': doc('cart-api', 'Cart database', 'The cart database is slow; database CPU is high and queries queue behind a lock.'),
  'case-studies/orders-lock.md': doc('orders-db', 'Orders lock incident', 'A migration held an exclusive lock on orders for 20 minutes; writes timed out.'),
  'docs/postgres.md': doc('orders-db', 'Postgres locking', 'Row locks, lock_timeout and how to find the blocking transaction in pg_stat_activity.'),
}

describe(`search with precomputed query inputs (${backend})`, () => {
  let t: TestDatabase
  const embedder = createLocalEmbeddings()

  beforeAll(async () => {
    t = await createTestDatabase()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-preq-'))
    for (const [rel, body] of Object.entries(CORPUS)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
      fs.writeFileSync(path.join(dir, rel), body)
    }
    await runIngest({ db: t.db, embedder }, { inputs: [dir], maxBytes: 1 << 20 })
  })
  afterAll(async () => t?.cleanup())

  it('gives the same hits, scores and order as search() computing them itself', async () => {
    const deps = { db: t.db, embedder }
    const query = 'Orders Lock Wait High. Transactions wait on row locks in orders-db; checkout latency rising'
    const pre = await precomputeQuery(deps, query)
    expect(pre.stats!.lexemes.length).toBeGreaterThan(0)
    expect(pre.embedding).toHaveLength(embedder.dim)
    for (const f of [{}, { kind: 'runbook' as const }, { kind: 'runbook' as const, service: 'orders-db' }, { kind: 'case_study' as const }, { kind: 'doc' as const }]) {
      for (const mode of ['hybrid', 'fts', 'vector'] as const) {
        const own = await search(deps, { query, k: 3, mode, ...f })
        if (Object.keys(f).length === 0 || f.kind === 'runbook') expect(own.length).toBeGreaterThan(0)
        expect(await search(deps, { query, k: 3, mode, ...f }, pre)).toEqual(own)
      }
    }
  })

  it('searchMany gives each filter exactly the hits of its own search() call', async () => {
    const deps = { db: t.db, embedder }
    const query = 'Orders Lock Wait High. Transactions wait on row locks in orders-db; checkout latency rising'
    // retrievePassages' shape (service filters: exact scans of few rows; kind filters: the shared index searches),
    // plus a filter without a kind, one that passes nothing, and a repeated one.
    const filters = [
      { kind: 'runbook' as const, k: 3, service: 'orders-db' },
      { kind: 'runbook' as const, k: 3 },
      { kind: 'case_study' as const, k: 2, service: 'orders-db' },
      { kind: 'case_study' as const, k: 3 },
      { kind: 'doc' as const, k: 2 },
      { k: 4 },
      { k: 2, service: 'nobody' },
      { kind: 'runbook' as const, k: 3 },
    ]
    for (const mode of ['hybrid', 'fts', 'vector'] as const) {
      const many = await searchMany(deps, { query, mode, filters })
      expect(many).toHaveLength(filters.length)
      for (const [i, f] of filters.entries()) expect(many[i], `${mode} ${JSON.stringify(f)}`).toEqual(await search(deps, { query, mode, ...f }))
      expect(many[1]!.length).toBeGreaterThan(0)
      expect(many[6]).toEqual([])
    }
  })

  it('an ingestion run leaves the full-text index with no pending list to scan', async () => {
    // gin_clean_pending_list returns the pages it merged: none left after the run merged them itself.
    const { rows } = await t.db.query<{ n: number }>(`select gin_clean_pending_list('chunks_tsv_idx'::regclass)::int as n`)
    expect(rows[0]!.n).toBe(0)
  })
})
