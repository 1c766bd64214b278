import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { dropModelIndex, hnswIndexNames, shouldDeferModelIndex, shouldRebuildModelIndex } from '../../../src/knowledge/models.js'
import { search } from '../../../src/knowledge/search.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// A first load builds the model's HNSW index once, after the chunks are written; later runs maintain it row by
// row; an index lost in between (a first load that died before its build) is rebuilt by the next run.

const runbook = (n: number) =>
  `---\ntitle: Runbook ${n}\nservice: svc-${n}\nteam: t\n---\n# Runbook ${n}\n\n## Symptoms\nQueue ${n} backs up behind a stuck consumer.\n`

describe(`HNSW index build around ingestion runs (${backend})`, () => {
  let t: TestDatabase
  let dir: string
  const embedder = createLocalEmbeddings()
  const model = { id: embedder.id, dim: embedder.dim }
  const ingest = () => runIngest({ db: t.db, embedder }, { inputs: [dir], maxBytes: 1 << 20 })
  const indexExists = async () =>
    (await t.db.query<{ ok: boolean }>('select bool_and(to_regclass(n) is not null) as ok from unnest($1::text[]) n', [hnswIndexNames(model)])).rows[0]!.ok

  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())
  beforeEach(async () => {
    await t.db.query('truncate sources, chunks, ingest_runs, ingest_run_items, embedding_models cascade')
    await dropModelIndex(t.db, model)
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-index-'))
    fs.mkdirSync(path.join(dir, 'runbooks'))
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(dir, 'runbooks', `r${i}.md`), runbook(i))
  })

  it('defers the build on a first load only, and the run ends with the index built and registered', async () => {
    expect(await shouldDeferModelIndex(t.db, model)).toBe(true)
    const s = await ingest()
    expect(s.counts.new).toBe(3)
    expect(s.timings.index_build_ms).toBeGreaterThan(0)
    expect(await indexExists()).toBe(true)
    expect((await t.db.query('select 1 from embedding_models where id = $1', [model.id])).rowCount).toBe(1)
    expect(await shouldDeferModelIndex(t.db, model)).toBe(false)
    // Each indexed source's bundle row was written with it.
    const items = await t.db.query<{ outcome: string }>('select outcome from ingest_run_items where run_id = $1', [s.runId])
    expect(items.rows.map((r) => r.outcome)).toEqual(['new', 'new', 'new'])

    fs.writeFileSync(path.join(dir, 'runbooks', 'r3.md'), runbook(3))
    const again = await ingest()
    expect(again.counts.new).toBe(1)
    expect(again.timings.index_build_ms).toBe(0)
  })

  it('rebuilds an index that is missing while chunks exist (a first load that died before its build)', async () => {
    await ingest()
    await dropModelIndex(t.db, model)
    // Registered, chunks present, no index: not a first load, so the next run builds it at its start.
    expect(await shouldDeferModelIndex(t.db, model)).toBe(false)
    fs.writeFileSync(path.join(dir, 'runbooks', 'r0.md'), runbook(0) + '\nMore text.\n')
    const s = await ingest()
    expect(s.counts.updated).toBe(1)
    expect(await indexExists()).toBe(true)
    const hits = await search({ db: t.db, embedder }, { query: 'stuck consumer queue 2', k: 3, mode: 'vector' })
    expect(hits).toHaveLength(3)
  })

  it('a run adding many chunks relative to the base drops the indexes and builds them after its writes', async () => {
    await ingest()
    // 3 one-section runbooks: 5 new candidates ≈ 5 chunks (above a quarter, below half of 3), 1 ≈ 1 chunk;
    // candidates that are known sources do not count.
    const known = (await t.db.query<{ uri: string }>('select uri from sources')).rows.map((r) => r.uri)
    const fresh = [5, 6, 7, 8, 9].map((i) => `file://runbooks/r${i}.md`)
    expect(await shouldRebuildModelIndex(t.db, model, fresh, { minChunks: 1 })).toBe(true)
    expect(await shouldRebuildModelIndex(t.db, model, known, { minChunks: 1 })).toBe(false)
    expect(await shouldRebuildModelIndex(t.db, model, fresh.slice(0, 1), { minChunks: 1 })).toBe(true)
    expect(await shouldRebuildModelIndex(t.db, model, fresh.slice(0, 1), { minChunks: 1, fraction: 0.5 })).toBe(false)
    expect(await shouldRebuildModelIndex(t.db, model, fresh, { minChunks: 1, fraction: 0.5 })).toBe(true)
    expect(await shouldRebuildModelIndex(t.db, model, fresh, { minChunks: 100 })).toBe(false)

    // Through the pipeline with the defaults (REBUILD_MIN_CHUNKS), a small base and a small run: maintained.
    fs.writeFileSync(path.join(dir, 'runbooks', 'r3.md'), runbook(3))
    const small = await ingest()
    expect(small.counts.new).toBe(1)
    expect(small.timings.index_build_ms).toBe(0)
    expect(await indexExists()).toBe(true)
  })
})
