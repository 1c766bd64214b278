import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureModelIndex, hnswKindIndexName, toVectorLiteral } from '../../../src/knowledge/models.js'
import { EXACT_MAX, nearestChunksMany, nearestChunksParallel, nearestChunksWithPath, type NearestChunksInput, type VectorFilter } from '../../../src/knowledge/vector.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// nearestChunks (vector.ts): per kind, an exact scan when few chunks pass the filter, the kind's HNSW graph
// otherwise, merged. Checked against nearest neighbours computed here from the very vectors stored.

const model = { id: 'test-vec-16', dim: 16 }

/** mulberry32: deterministic vectors, so a failure reproduces. */
function prng(seed: number) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), a | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Row {
  kind: string
  service: string
  vec: number[]
}

// Runbooks and case studies above EXACT_MAX (graph path), docs below it; service "big" is about half the
// runbooks (a filter that is not selective) and a few docs, "small" a few runbooks and docs (selective).
function dataset(): Row[] {
  const rng = prng(11)
  const vec = () => Array.from({ length: model.dim }, () => Math.fround(rng() * 2 - 1))
  const rows: Row[] = []
  for (let i = 0; i < EXACT_MAX + 1200; i++) rows.push({ kind: 'runbook', service: i % 2 === 0 ? 'big' : i % 50 === 1 ? 'small' : `svc-${i % 7}`, vec: vec() })
  for (let i = 0; i < EXACT_MAX + 100; i++) rows.push({ kind: 'case_study', service: `svc-${i % 7}`, vec: vec() })
  for (let i = 0; i < 200; i++) rows.push({ kind: 'doc', service: i % 40 === 0 ? 'small' : i % 40 === 1 ? 'big' : `svc-${i % 7}`, vec: vec() })
  return rows
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0
  let na = 0
  let nb = 0
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!
    na += a[i]! * a[i]!
    nb += b[i]! * b[i]!
  }
  return 1 - dot / Math.sqrt(na * nb)
}

describe(`nearestChunks: exact and HNSW paths (${backend})`, () => {
  let t: TestDatabase
  const data = dataset()
  let ids: number[] = []
  const queries = (() => {
    const rng = prng(99)
    return Array.from({ length: 8 }, () => Array.from({ length: model.dim }, () => Math.fround(rng() * 2 - 1)))
  })()

  /** Ground truth: every row passing the filter, ranked by cosine distance here. */
  const truth = (q: number[], pass: (r: Row) => boolean, k: number) =>
    data
      .map((r, i) => ({ id: ids[i]!, d: cosineDistance(r.vec, q), r }))
      .filter((x) => pass(x.r))
      .sort((a, b) => a.d - b.d || a.id - b.id)
      .slice(0, k)

  const run = (q: number[], filter: VectorFilter, limit: number, efSearch = 200) => {
    const input: NearestChunksInput = { model, filter, vec: q, limit, efSearch }
    return t.db.transaction((tx) => nearestChunksWithPath(tx, input))
  }

  beforeAll(async () => {
    t = await createTestDatabase()
    await t.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number }>(
        `insert into sources (uri, kind, origin, title, service, content_hash, embedding_model, created_run_id, updated_run_id)
         select 'test://v/' || i, k, 'test://v', 'chunk ' || i, s, 'h' || i, $3, 'r', 'r'
         from unnest($1::text[], $2::text[]) with ordinality as t(k, s, i) order by i returning id`,
        [data.map((r) => r.kind), data.map((r) => r.service), model.id],
      )
      const inserted = await tx.query<{ id: number }>(
        `insert into chunks (source_id, ord, heading_path, text, index_text, content_hash, embedding, embedding_model, embedding_dim, kind, service)
         select sid, 0, array['t'], 'text ' || i, 'text ' || i, 'h' || i, v::vector, $5, $6, k, s
         from unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) with ordinality as t(sid, v, k, s, i) order by i returning id`,
        [rows.map((r) => r.id), data.map((r) => toVectorLiteral(r.vec)), data.map((r) => r.kind), data.map((r) => r.service), model.id, model.dim],
      )
      ids = inserted.rows.map((r) => Number(r.id))
    })
    await ensureModelIndex(t.db, model)
    await t.db.query('analyze chunks')
  })
  afterAll(async () => t?.cleanup())

  it('a selective filter takes the exact path and returns exactly the exact-search neighbours, in order', async () => {
    for (const q of queries) {
      for (const filter of [{ service: 'small', kind: 'runbook' }, { service: 'small' }] satisfies VectorFilter[]) {
        const got = await run(q, filter, 10)
        expect(got.path).toBe('exact')
        const want = truth(q, (r) => r.service === 'small' && (!filter.kind || r.kind === filter.kind), 10)
        expect(got.rows.map((r) => Number(r.id))).toEqual(want.map((w) => w.id))
        got.rows.forEach((r, i) => expect(r.distance).toBeCloseTo(want[i]!.d, 5))
      }
    }
  })

  it('a filter passing many chunks of a kind walks its graph and still fills the limit with matching chunks', async () => {
    let overlap = 0
    for (const q of queries) {
      const got = await run(q, { service: 'big', kind: 'runbook' }, 40)
      expect(got.path).toBe('hnsw')
      expect(got.rows).toHaveLength(40)
      const byId = new Map(data.map((r, i) => [ids[i]!, r]))
      expect(got.rows.every((r) => byId.get(Number(r.id))!.service === 'big' && byId.get(Number(r.id))!.kind === 'runbook')).toBe(true)
      const want = new Set(truth(q, (r) => r.service === 'big' && r.kind === 'runbook', 10).map((w) => w.id))
      overlap += got.rows.slice(0, 10).filter((r) => want.has(Number(r.id))).length / 10
    }
    expect(overlap / queries.length).toBeGreaterThanOrEqual(0.9)
  })

  it('an unfiltered search walks every kind\'s graph and merges them into one ranking', async () => {
    let overlap = 0
    const kinds = new Set<string>()
    for (const q of queries) {
      const got = await run(q, {}, 40)
      expect(got.path).toBe('hnsw')
      expect(got.rows).toHaveLength(40)
      const d = got.rows.map((r) => r.distance)
      expect(d).toEqual([...d].sort((a, b) => a - b))
      const want = new Set(truth(q, () => true, 10).map((w) => w.id))
      overlap += got.rows.slice(0, 10).filter((r) => want.has(Number(r.id))).length / 10
      for (const r of got.rows) kinds.add(data[ids.indexOf(Number(r.id))]!.kind)
    }
    expect(overlap / queries.length).toBeGreaterThanOrEqual(0.9)
    expect([...kinds].sort()).toEqual(['case_study', 'doc', 'runbook'])
  })

  it('a filter selective in one kind and not in another mixes an exact scan and a graph walk', async () => {
    let overlap = 0
    for (const q of queries) {
      const got = await run(q, { service: 'big' }, 40)
      expect(got.path).toBe('mixed')
      expect(got.rows).toHaveLength(40)
      expect(got.rows.every((r) => data[ids.indexOf(Number(r.id))]!.service === 'big')).toBe(true)
      const want = new Set(truth(q, (r) => r.service === 'big', 10).map((w) => w.id))
      overlap += got.rows.slice(0, 10).filter((r) => want.has(Number(r.id))).length / 10
    }
    expect(overlap / queries.length).toBeGreaterThanOrEqual(0.9)
  })

  it('a kind filter searches that kind only: its graph, through the index, and no other kind', async () => {
    const got = await run(queries[0]!, { kind: 'case_study' }, 20)
    expect(got.path).toBe('hnsw')
    expect(got.rows).toHaveLength(20)
    expect(got.rows.every((r) => data[ids.indexOf(Number(r.id))]!.kind === 'case_study')).toBe(true)
    // Replay the statement nearestChunks issued under EXPLAIN ANALYZE (same session settings and parameters).
    const plan = await t.db.transaction(async (tx) => {
      const log: Array<{ sql: string; params?: readonly unknown[] }> = []
      const recording = { inTransaction: true as const, query: (sql: string, params?: readonly unknown[]) => (log.push({ sql, params }), tx.query(sql, params)) }
      await nearestChunksWithPath(recording as never, { model, filter: { kind: 'case_study' }, vec: queries[0]!, limit: 20 })
      const main = log.find((l) => /<=>/.test(l.sql))!
      const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, costs off, timing off) ${main.sql}`, main.params)
      return rows.map((r) => r['QUERY PLAN']).join('\n')
    })
    // One scan of chunks, the case_study graph: the planner may not swap it for a sequential scan of the kind
    // (it did at 10k chunks, reading every vector), and the other kinds have no branch at all.
    const scans = plan.split('\n').filter((l) => /Scan (?:using \w+ )?on chunks/.test(l))
    expect(scans).toHaveLength(1)
    expect(scans[0]).toContain(hnswKindIndexName(model, 'case_study'))
    for (const other of ['runbook', 'doc', 'telemetry'] as const) expect(plan).not.toContain(hnswKindIndexName(model, other))
  })

  it('several filters in one statement give each the same rows and path as its own query', async () => {
    const filters: VectorFilter[] = [{ kind: 'runbook', service: 'small' }, { kind: 'runbook' }, { kind: 'case_study', service: 'svc-3' }, { kind: 'case_study' }, { kind: 'doc' }, { service: 'big' }, { service: 'nobody' }]
    for (const q of queries.slice(0, 3)) {
      const many = await t.db.transaction((tx) => nearestChunksMany(tx, { model, vec: q, efSearch: 200, queries: filters.map((filter, i) => ({ filter, limit: 10 + i })) }))
      expect(many).toHaveLength(filters.length)
      for (const [i, filter] of filters.entries()) {
        const one = await run(q, filter, 10 + i)
        expect(many[i]!.path).toBe(one.path)
        expect(many[i]!.rows.map((r) => Number(r.id))).toEqual(one.rows.map((r) => Number(r.id)))
      }
    }
  })

  it('a filtered walk rides on an unfiltered walk of the same graph, and walks alone only when too few of its rows are in that batch', async () => {
    const walks = async (q: number[], queries: Array<{ filter: VectorFilter; limit: number }>) =>
      t.db.transaction(async (tx) => {
        const log: string[] = []
        const recording = { inTransaction: true as const, query: (sql: string, params?: readonly unknown[]) => (log.push(sql), tx.query(sql, params)) }
        const many = await nearestChunksMany(recording as never, { model, vec: q, efSearch: 200, queries })
        // Graph walks per statement: an ORDER BY the distance straight over chunks (exact scans order their subquery).
        return { many, walks: log.filter((l) => /<=>/.test(l)).map((l) => (l.match(/from chunks c where [^()]*order by/g) ?? []).length) }
      })
    for (const q of queries.slice(0, 3)) {
      // "big" is about half the runbooks: 40 of them are among the host's first 200.
      const rides = await walks(q, [{ filter: { kind: 'runbook', service: 'big' }, limit: 40 }, { filter: { kind: 'runbook' }, limit: 10 }])
      expect(rides.walks).toEqual([1])
      // 150 are not: the guest's own walk goes on past that batch (iterative scan), in a second statement.
      const alone = await walks(q, [{ filter: { kind: 'runbook', service: 'big' }, limit: 150 }, { filter: { kind: 'runbook' }, limit: 10 }])
      expect(alone.walks).toEqual([1, 1])
      for (const [got, limit] of [[rides, 40], [alone, 150]] as const) {
        const own = await run(q, { kind: 'runbook', service: 'big' }, limit)
        expect(got.many[0]!.path).toBe('hnsw')
        expect(got.many[0]!.rows.map((r) => Number(r.id))).toEqual(own.rows.map((r) => Number(r.id)))
        expect(got.many[1]!.rows.map((r) => Number(r.id))).toEqual((await run(q, { kind: 'runbook' }, 10)).rows.map((r) => Number(r.id)))
      }
    }
  })

  it('spread over connections by kind, the walks give the single statement\'s rows and paths', async () => {
    const filters: VectorFilter[] = [{ kind: 'runbook', service: 'big' }, { kind: 'runbook' }, { kind: 'case_study', service: 'svc-3' }, { kind: 'case_study' }, { kind: 'doc' }, {}, { service: 'big' }, { service: 'nobody' }]
    for (const q of queries.slice(0, 3)) {
      const input = { model, vec: q, efSearch: 200, queries: filters.map((filter, i) => ({ filter, limit: i === 0 ? 150 : 10 + i })) }
      const single = await t.db.transaction((tx) => nearestChunksMany(tx, input))
      for (const connections of [2, 3]) {
        const spread = await nearestChunksParallel(t.db, input, connections)
        expect(spread.map((r) => r.path)).toEqual(single.map((r) => r.path))
        expect(spread.map((r) => r.rows.map((x) => Number(x.id)))).toEqual(single.map((r) => r.rows.map((x) => Number(x.id))))
      }
    }
  })

  it('a filter no chunk passes returns nothing', async () => {
    expect(await run(queries[0]!, { service: 'nobody' }, 10)).toEqual({ path: 'none', rows: [] })
  })
})
