import { createHash } from 'node:crypto'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { openDatabase, type Database, type DatabaseTarget, type Transaction } from '../../src/db/index.js'
import { createLocalEmbeddings } from '../../src/knowledge/embeddings/local.js'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { ensureModelIndex, HNSW_BUILD, hnswIndexName, hnswIndexNames, INDEXED_KINDS, kindIndexPredicate, hnswKindIndexName, sqlLiteral, toVectorLiteral, vectorExpr, type ModelSpec } from '../../src/knowledge/models.js'
import { DEFAULT_EF_SEARCH, nearestChunksWithPath } from '../../src/knowledge/vector.js'
import { search, type SearchInput } from '../../src/knowledge/search.js'
import { docContext, FIXED_QUESTIONS, KINDS, passage, prng, questionFrom, SERVICES, TEAMS, type Rng } from './synth.js'
import {
  createScratchDatabase,
  createScratchDir,
  fmt,
  formatTable,
  loadAvg,
  serverMemoryNote,
  intList,
  peakRssMiB,
  percentile,
  positiveInt,
  progress,
  runMain,
} from './util.js'

/** Load average when the run began: on a shared 2-core machine it explains much of the variance. */
const LOAD_AT_START = loadAvg()
/** Set by the first Postgres run (serverMemoryNote). */
let SERVER_MEMORY: string | null = null

// Retrieval benchmark: latency of search() (hybrid / vector / fts / filtered) and HNSW recall vs exact search,
// at 10k and 100k chunks, on real Postgres and (10k only) on PGlite.
//
// Why bulk SQL instead of runIngest: the pipeline writes one transaction per source and maintains the HNSW
// graph row by row (bench:ingest measures that path); loading 100k chunks through it would take many minutes
// and measure ingest, not retrieval. Here chunks are inserted in batches of ~1,000 with vectors from the real
// local embedder, and the HNSW index is built once AFTER the load (by calling ensureModelIndex then), which is
// much faster than incremental inserts and gives the same graph quality. PGlite stops at 10k by default
// because a 100k HNSW build in single-threaded WASM takes many minutes (--pglite-max raises the cap).
//
// Targets (issue) are printed beside the figures, never asserted.
// Usage: npm run bench:retrieval -- [--sizes 10000,100000] [--ef 100,200,250] [--queries 200] [--json]

const TARGET_P95_MS = 20
const TARGET_RECALL = 0.95
const TARGET_PGLITE_FACTOR = 3
const K = 10
/** search() asks the index for max(k*4, 40) candidates and keeps the fused top k: the recall probe mirrors it. */
const SEARCH_POOL = Math.max(K * 4, 40)
/** search()'s default efSearch (vector.ts), used for the main latency table. */
const SEARCH_DEFAULT_EF = DEFAULT_EF_SEARCH
const BATCH = 1000
const WARMUP = 20
/**
 * Optional module from a concurrent change (BM25 term statistics). runIngest refreshes them after a run; a bulk
 * load bypasses runIngest, so we do the same when the module exists. Imported by URL at runtime so this script
 * still type-checks and runs on a checkout without it.
 */
const TERMSTATS_MODULE = new URL('../../src/knowledge/termstats.js', import.meta.url).href

type Backend = 'postgres' | 'pglite'
/** Build options for the --hnsw-with experiment; null = the index exactly as ensureModelIndex builds it. */
let HNSW_WITH: string | null = null

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '200' },
    'recall-queries': { type: 'string', default: '100' },
    ef: { type: 'string', default: `100,200,${DEFAULT_EF_SEARCH}` },
    backends: { type: 'string', default: 'postgres,pglite' },
    'pglite-max': { type: 'string', default: '10000' },
    'chunks-per-source': { type: 'string', default: '5' },
    'mode-budget-s': { type: 'string', default: '45' },
    'hnsw-with': { type: 'string' },
    seed: { type: 'string', default: '7' },
    'no-plans': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

interface Question {
  query: string
  service: string
}

interface Latency {
  p50: number
  p95: number
  p99: number
  mean: number
  /** Queries actually timed (fewer than asked when the mode hit --mode-budget-s). */
  n: number
}

interface EfResult {
  ef: number
  /** HNSW recall@K vs exact; null when the planner would not use the index even when forced. */
  recall: number | null
  effectiveRecall: number
  filteredRecall: number
  /** The raw vector SQL search() issues (index scan, LIMIT pool), per query. */
  vectorSql: Latency
  /** search() in vector mode with this efSearch (hybrid adds the ef-independent full text half). */
  vectorSearch: Latency
  /** Access path the planner picks for search()'s vector query at this ef_search (unforced). */
  plan: string
  filteredPlan: string
}

interface RunResult {
  backend: Backend
  size: number
  model: string
  sources: number
  loadSeconds: number
  embedSeconds: number
  indexBuildSeconds: number
  analyzeSeconds: number
  termStatsSeconds: number | null
  /** Median exact cosine distance of the 1st and 10th neighbour: how separated the true top 10 is. */
  exactDistance: { d1: number; d10: number }
  sizesMiB: { table: number; hnsw: number; gin: number }
  settings: Record<string, string>
  latency: { hybrid: Latency; vector: Latency; fts: Latency; hybridFiltered: Latency; vectorFiltered: Latency }
  avgHits: { hybrid: number; fts: number; hybridFiltered: number }
  ef: EfResult[]
  recommendedEf: number | null
  plans: { vector: string; vectorFiltered: string; fts: string; ftsFiltered: string; exact: string; usesHnsw: boolean; filteredUsesHnsw: boolean }
  peakRssMiB: number
}

async function main(): Promise<void> {
  if (args.help) {
    console.log(
      'usage: tsx evals/bench/retrieval.ts [--sizes 10000,100000] [--ef 100,200,250] [--queries 200] [--recall-queries 100]\n' +
        '       [--backends postgres,pglite] [--pglite-max 10000] [--chunks-per-source 5] [--mode-budget-s 45] [--seed 7]\n' +
        '       [--hnsw-with m=24,ef_construction=128] [--no-plans] [--json]',
    )
    return
  }
  const sizes = intList(args.sizes, 'sizes')
  const efs = intList(args.ef, 'ef')
  const nQueries = positiveInt(args.queries, 'queries')
  const nRecall = positiveInt(args['recall-queries'], 'recall-queries')
  const pgliteMax = positiveInt(args['pglite-max'], 'pglite-max')
  const perSource = positiveInt(args['chunks-per-source'], 'chunks-per-source')
  const seed = positiveInt(args.seed, 'seed')
  const budgetMs = positiveInt(args['mode-budget-s'], 'mode-budget-s') * 1000
  HNSW_WITH = args['hnsw-with'] ?? null
  const backends = args.backends.split(',').map((b) => b.trim())
  for (const b of backends) if (b !== 'postgres' && b !== 'pglite') throw new Error(`--backends: unknown backend "${b}"`)

  // Postgres runs first (all sizes), PGlite last: maxRSS is a process high-water mark, and PGlite's WASM heap
  // lives in this process, so this order keeps the Postgres columns' RSS a client-only figure.
  const plan: Array<{ backend: Backend; size: number }> = []
  if (backends.includes('postgres')) for (const size of sizes) plan.push({ backend: 'postgres', size })
  const skipped: number[] = []
  if (backends.includes('pglite')) {
    for (const size of sizes) {
      if (size <= pgliteMax) plan.push({ backend: 'pglite', size })
      else skipped.push(size)
    }
  }

  const results: RunResult[] = []
  for (const p of plan) results.push(await benchRun(p.backend, p.size, { efs, nQueries, nRecall, perSource, seed, budgetMs }))

  console.log(report(results, skipped, pgliteMax))
  if (args.json) console.log(JSON.stringify({ k: K, pool: SEARCH_POOL, seed, results }, null, 2))
}

async function benchRun(
  backend: Backend,
  size: number,
  o: { efs: number[]; nQueries: number; nRecall: number; perSource: number; seed: number; budgetMs: number },
): Promise<RunResult> {
  const label = `${backend}@${size}`
  let target: DatabaseTarget
  let dispose: () => Promise<void>
  if (backend === 'postgres') {
    const scratch = await createScratchDatabase(`r${size}`)
    target = { kind: 'postgres', url: scratch.url }
    dispose = scratch.drop
    progress(`${label}: scratch database ${scratch.name}`)
  } else {
    const scratch = createScratchDir('pglite-retrieval')
    target = { kind: 'pglite', dataDir: scratch.dir }
    dispose = scratch.remove
    progress(`${label}: data dir ${scratch.dir}`)
  }
  const db = await openDatabase(target)
  try {
    if (backend === 'postgres') SERVER_MEMORY ??= await serverMemoryNote(db)
    const embedder = createLocalEmbeddings()
    const model: ModelSpec = { id: embedder.id, dim: embedder.dim }
    // Same seed for every run, so 10k on Postgres and 10k on PGlite hold identical data and questions.
    const rng = prng(o.seed)

    const load = await bulkLoad(db, embedder, rng, size, o.perSource, o.nQueries, label)

    // Index after load: one bulk build instead of 100k incremental graph inserts. maintenance_work_mem must
    // hold the whole graph (4 bytes × dim + ~300 bytes of neighbour lists per vector with m=16) or pgvector
    // falls back to a much slower on-disk build; SET LOCAL keeps the setting to this build's transaction.
    progress(`${label}: building HNSW index (${HNSW_WITH ? `experiment: WITH (${HNSW_WITH})` : 'ensureModelIndex'})`)
    let t = performance.now()
    await db.transaction(async (tx) => {
      await tx.query(`set local maintenance_work_mem = '${backend === 'postgres' ? '1GB' : '512MB'}'`)
      if (HNSW_WITH) await createTunedIndex(tx, model, HNSW_WITH)
      else await ensureModelIndex(tx, model)
    })
    const indexBuildSeconds = (performance.now() - t) / 1000
    t = performance.now()
    await db.query('analyze chunks')
    await db.query('analyze sources')
    const analyzeSeconds = (performance.now() - t) / 1000
    progress(`${label}: index built in ${fmt(indexBuildSeconds, 1)} s`)
    const termStatsSeconds = await refreshTermStatsIfPresent(db)
    // Postgres: write out the load's and the build's dirty buffers now (bench:assess does the same), rather than
    // have the checkpointer do it during the timed queries.
    if (backend === 'postgres') await db.query('checkpoint').catch((err: Error) => progress(`${label}: checkpoint skipped (${err.message})`))

    const sizesMiB = await relationSizes(db, model)
    const settings = await readSettings(db)

    const questions = buildQuestions(rng, load.samples, o.nQueries)
    const deps = { db, embedder }

    // Warm-up: first queries pay for cold caches and pg's per-connection catalog loading, not for retrieval.
    for (const q of questions.slice(0, WARMUP)) await search(deps, { query: q.query, k: K, mode: 'hybrid' })

    progress(`${label}: timing ${questions.length} queries × hybrid/vector/fts/filtered (≤ ${o.budgetMs / 1000} s per mode)`)
    // A mode stops after budgetMs (but never before 50 queries): when full text takes a second per query at
    // 100k, 200 × 3 modes would be 10 minutes to establish what 50 queries already show.
    const timed = async (input: (q: Question) => SearchInput, efSearch?: number) => {
      const ms: number[] = []
      let hits = 0
      const start = performance.now()
      for (const q of questions) {
        if (ms.length >= 50 && performance.now() - start > o.budgetMs) break
        const t0 = performance.now()
        const res = await search({ db, embedder, efSearch }, input(q))
        ms.push(performance.now() - t0)
        hits += res.length
      }
      return { latency: summarize(ms), avgHits: hits / ms.length }
    }
    const hybrid = await timed((q) => ({ query: q.query, k: K, mode: 'hybrid' }))
    const vector = await timed((q) => ({ query: q.query, k: K, mode: 'vector' }))
    const fts = await timed((q) => ({ query: q.query, k: K, mode: 'fts' }))
    const hybridFiltered = await timed((q) => ({ query: q.query, k: K, mode: 'hybrid', service: q.service }))
    const vectorFiltered = await timed((q) => ({ query: q.query, k: K, mode: 'vector', service: q.service }))

    progress(`${label}: recall sweep over ef_search ${o.efs.join(', ')} (${Math.min(o.nRecall, questions.length)} query vectors)`)
    const recallQs = questions.slice(0, o.nRecall)
    const vecs = await embedder.embed(recallQs.map((q) => q.query))
    // exact[0]: unfiltered ground truth, exact[1]: with the question's service filter.
    const exact: Neighbor[][][] = [[], []]
    for (let i = 0; i < recallQs.length; i++) {
      exact[0]!.push(await exactTopK(db, model, vecs[i]!, null))
      exact[1]!.push(await exactTopK(db, model, vecs[i]!, recallQs[i]!.service))
    }
    const ef: EfResult[] = []
    for (const efSearch of o.efs) {
      const ms: number[] = []
      let recall = 0
      let filteredRecall = 0
      const paths = new Map<string, number>()
      const filteredPaths = new Map<string, number>()
      const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
      for (let i = 0; i < recallQs.length; i++) {
        const t0 = performance.now()
        const approx = await annTopK(db, model, vecs[i]!, null, efSearch)
        ms.push(performance.now() - t0)
        count(paths, approx.path)
        recall += recallAtK(approx.rows, exact[0]![i]!)
        // Filtered: as search() runs it (per kind, exact scan of the service's chunks or the graph with a filter).
        const filtered = await annTopK(db, model, vecs[i]!, recallQs[i]!.service, efSearch)
        count(filteredPaths, filtered.path)
        filteredRecall += recallAtK(filtered.rows, exact[1]![i]!)
      }
      const v = await timed((q) => ({ query: q.query, k: K, mode: 'vector' }), efSearch)
      const describe = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')
      const plan = describe(paths)
      const filteredPlan = describe(filteredPaths)
      ef.push({
        ef: efSearch,
        // What search() gets, on the paths nearestChunks took (the probe is nearestChunks itself): recall of
        // the graph walks where it walked a graph, exact elsewhere.
        recall: recall / recallQs.length,
        effectiveRecall: recall / recallQs.length,
        filteredRecall: filteredRecall / recallQs.length,
        vectorSql: summarize(ms),
        vectorSearch: v.latency,
        plan,
        filteredPlan,
      })
      progress(
        `${label}: ef_search=${efSearch}: recall@10 ${fmt(recall / recallQs.length, 3)} (paths: ${plan}), filtered ${fmt(filteredRecall / recallQs.length, 3)} (${filteredPlan}), ` +
          `vector search() p95 ${fmt(v.latency.p95, 1)} ms`,
      )
    }
    // Recommendation: what search() will really deliver at each ef (its planner path, its recall on that path),
    // lowest vector search() p95 among the settings that meet the recall target. p95s within 10% of the best
    // count as a tie (run-to-run noise on a shared machine is larger than that) and the smaller ef wins.
    const meeting = ef.filter((e) => e.effectiveRecall >= TARGET_RECALL)
    const bestP95 = Math.min(...meeting.map((e) => e.vectorSearch.p95))
    const recommendedEf = meeting.filter((e) => e.vectorSearch.p95 <= bestP95 * 1.1).sort((a, b) => a.ef - b.ef)[0]?.ef ?? null

    const plans = args['no-plans'] ? emptyPlans() : await capturePlans(db, embedder, model, questions[WARMUP] ?? questions[0]!)

    return {
      backend,
      size,
      model: `${model.id} (${model.dim}-d)`,
      sources: load.sources,
      loadSeconds: load.seconds,
      embedSeconds: load.embedSeconds,
      indexBuildSeconds,
      analyzeSeconds,
      termStatsSeconds,
      exactDistance: {
        d1: percentile(exact[0]!.map((e) => e[0]?.distance ?? NaN), 50),
        d10: percentile(exact[0]!.map((e) => e.at(-1)?.distance ?? NaN), 50),
      },
      sizesMiB,
      settings,
      latency: {
        hybrid: hybrid.latency,
        vector: vector.latency,
        fts: fts.latency,
        hybridFiltered: hybridFiltered.latency,
        vectorFiltered: vectorFiltered.latency,
      },
      avgHits: { hybrid: hybrid.avgHits, fts: fts.avgHits, hybridFiltered: hybridFiltered.avgHits },
      ef,
      recommendedEf,
      plans,
      peakRssMiB: peakRssMiB(),
    }
  } finally {
    await db.close().catch(() => {})
    await dispose()
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bulk load

interface Sample {
  text: string
  service: string
}

/**
 * Inserts `size` chunks (size / perSource sources) in batches of ~BATCH chunks, one transaction per batch.
 * Arrays go through unnest() so a batch is two statements regardless of its size. Returns a reservoir of
 * passages to turn into questions (sampled while generating, so 100k passages are never held in memory).
 */
async function bulkLoad(db: Database, embedder: EmbeddingProvider, rng: Rng, size: number, perSource: number, nSamples: number, label: string) {
  const nSources = Math.ceil(size / perSource)
  const samples: Sample[] = []
  let seen = 0
  let embedMs = 0
  let written = 0
  const t0 = performance.now()
  const sourcesPerBatch = Math.max(1, Math.floor(BATCH / perSource))
  for (let s0 = 0; s0 < nSources; s0 += sourcesPerBatch) {
    const src = { uri: [] as string[], kind: [] as string[], title: [] as string[], service: [] as string[], team: [] as string[], hash: [] as string[] }
    const ch = {
      srcIdx: [] as number[],
      ord: [] as number[],
      heading: [] as string[],
      text: [] as string[],
      indexText: [] as string[],
      hash: [] as string[],
      kind: [] as string[],
      service: [] as string[],
      team: [] as string[],
    }
    for (let s = s0; s < Math.min(nSources, s0 + sourcesPerBatch); s++) {
      // Round-robin metadata so a service filter selects ~1/12 of the rows and a kind filter ~1/4.
      const service = SERVICES[s % SERVICES.length]!
      const kind = KINDS[s % KINDS.length]!
      const team = TEAMS[s % TEAMS.length]!
      const ctx = docContext(rng, service)
      const title = `${service} ${ctx.topic.slice(0, 3).join(' ')} ${s}`
      const local = src.uri.length
      src.uri.push(`bench://synthetic/${s}`)
      src.kind.push(kind)
      src.title.push(title)
      src.service.push(service)
      src.team.push(team)
      const n = Math.min(perSource, size - s * perSource)
      const texts: string[] = []
      for (let ord = 0; ord < n; ord++) {
        const text = passage(rng, ctx)
        const heading = `Section ${ord + 1}`
        texts.push(text)
        ch.srcIdx.push(local)
        ch.ord.push(ord)
        ch.heading.push(heading)
        ch.text.push(text)
        // Same shape as the chunker's indexText: title and heading path give context to both retrievers.
        ch.indexText.push(`${title}\n${heading}\n${text}`)
        ch.hash.push(sha(text))
        ch.kind.push(kind)
        ch.service.push(service)
        ch.team.push(team)
        // Reservoir sampling (algorithm R): a uniform sample of passages without keeping them all.
        seen++
        if (samples.length < nSamples) samples.push({ text, service })
        else {
          const j = Math.floor(rng() * seen)
          if (j < nSamples) samples[j] = { text, service }
        }
      }
      src.hash.push(sha(texts.join('\n')))
    }
    let t = performance.now()
    const vectors = await embedder.embed(ch.indexText)
    embedMs += performance.now() - t
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number; uri: string }>(
        `insert into sources (uri, kind, origin, title, service, team, content_hash, embedding_model, status, created_run_id, updated_run_id)
         select t.uri, t.kind, 'bench://synthetic', t.title, t.service, t.team, t.hash, $7, 'active', 'bench', 'bench'
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(uri, kind, title, service, team, hash)
         returning id, uri`,
        [src.uri, src.kind, src.title, src.service, src.team, src.hash, embedder.id],
      )
      const idByUri = new Map(rows.map((r) => [r.uri, r.id]))
      const sourceIds = ch.srcIdx.map((i) => idByUri.get(src.uri[i]!)!)
      await tx.query(
        `insert into chunks (source_id, ord, heading_path, text, index_text, content_hash, embedding, embedding_model,
                             embedding_dim, kind, service, team)
         select t.source_id, t.ord, array[t.title, t.heading], t.text, t.index_text, t.hash, t.embedding::vector, $12, $13,
                t.kind, t.service, t.team
         from unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[])
              as t(source_id, ord, title, heading, text, index_text, hash, embedding, kind, service, team)`,
        [
          sourceIds,
          ch.ord,
          ch.srcIdx.map((i) => src.title[i]!),
          ch.heading,
          ch.text,
          ch.indexText,
          ch.hash,
          vectors.map(toVectorLiteral),
          ch.kind,
          ch.service,
          ch.team,
          embedder.id,
          embedder.dim,
        ],
      )
    })
    written += ch.text.length
    if ((s0 / sourcesPerBatch) % 10 === 9 || written >= size) {
      const sec = (performance.now() - t0) / 1000
      progress(`${label}: loaded ${written}/${size} chunks (${fmt(written / sec, 0)} chunks/s)`)
    }
  }
  return { sources: nSources, seconds: (performance.now() - t0) / 1000, embedSeconds: embedMs / 1000, samples }
}

/**
 * --hnsw-with "m=24,ef_construction=128": an experiment only. Same index name, expression and predicate as
 * ensureModelIndex (so search() uses it unchanged), with other build options than its HNSW_BUILD,
 * and the same embedding_models registration.
 */
async function createTunedIndex(tx: Transaction, model: ModelSpec, withOpts: string): Promise<void> {
  if (!/^\s*\w+\s*=\s*\d+\s*(,\s*\w+\s*=\s*\d+\s*)*$/.test(withOpts)) throw new Error(`--hnsw-with: expected e.g. "m=24,ef_construction=128", got "${withOpts}"`)
  for (const kind of INDEXED_KINDS) {
    await tx.query(
      `CREATE INDEX ${hnswKindIndexName(model, kind)} ON chunks USING hnsw (${vectorExpr(model, 'embedding')} vector_cosine_ops)
       WITH (${withOpts}) WHERE ${kindIndexPredicate(model, kind)}`,
    )
  }
  await tx.query('insert into embedding_models (id, dim, index_name) values ($1, $2, $3)', [model.id, model.dim, hnswIndexName(model)])
}

async function refreshTermStatsIfPresent(db: Database): Promise<number | null> {
  let mod: { refreshTermStats?: (db: Database) => Promise<unknown> }
  try {
    mod = (await import(TERMSTATS_MODULE)) as typeof mod
  } catch {
    return null
  }
  if (typeof mod.refreshTermStats !== 'function') return null
  const t = performance.now()
  await mod.refreshTermStats(db)
  return (performance.now() - t) / 1000
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

function buildQuestions(rng: Rng, samples: Sample[], n: number): Question[] {
  const fixed = FIXED_QUESTIONS.slice(0, Math.min(FIXED_QUESTIONS.length, Math.floor(n / 10)))
  const out: Question[] = samples.slice(0, n - fixed.length).map((s) => ({ query: questionFrom(rng, s.text, s.service), service: s.service }))
  // Fixed questions interleaved (not appended) so the recall subset also contains some.
  fixed.forEach((q, i) => out.splice(Math.min(out.length, i * 10 + 5), 0, { ...q }))
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Recall probe

interface Neighbor {
  id: number
  distance: number
}

/**
 * The vector half of search(), exactly: nearestChunks (vector.ts) with search()'s predicate and pool, on
 * whichever path it picks (per kind: exact scan or HNSW graph); the first K rows are what the fusion sees.
 */
async function annTopK(db: Database, model: ModelSpec, vec: number[], service: string | null, ef: number): Promise<{ rows: Neighbor[]; path: string }> {
  const r = await db.transaction((tx) => nearestChunksWithPath(tx, { model, filter: service ? { service } : {}, vec, limit: SEARCH_POOL, efSearch: ef }))
  return { rows: r.rows.map((x) => ({ id: Number(x.id), distance: x.distance })).slice(0, K), path: r.path }
}

/** Ground truth: same expression and predicate, index scans disabled so the planner must compute every distance. */
async function exactTopK(db: Database, model: ModelSpec, vec: number[], service: string | null): Promise<Neighbor[]> {
  return db.transaction(async (tx) => {
    await disableIndexes(tx)
    const { rows } = await tx.query<Neighbor>(vectorSql(model, service, K), service ? [toVectorLiteral(vec), service] : [toVectorLiteral(vec)])
    return rows
  })
}

async function disableIndexes(tx: Transaction): Promise<void> {
  await tx.query('set local enable_indexscan = off')
  await tx.query('set local enable_bitmapscan = off')
  await tx.query('set local enable_indexonlyscan = off')
  // nearestChunks turns these off to force its graph walks (vector.ts); exact search needs them back.
  await tx.query('set local enable_seqscan = on')
  await tx.query('set local enable_sort = on')
}

/**
 * search()'s vector SQL. With forced=true the outer exact re-sort is left to the caller (byDistance): with
 * enable_sort off, that Sort node would add the disable penalty to every candidate plan, and the planner's 1%
 * fuzzy cost comparison then no longer tells the plans apart (measured: forced probes 5-10× slower than the
 * same HNSW scan unforced).
 */
function vectorSql(model: ModelSpec, service: string | null, limit: number, forced = false): string {
  const expr = vectorExpr(model)
  const qv = `$1::vector(${Math.trunc(model.dim)})`
  const where = [`c.embedding_model = ${sqlLiteral(model.id)}`, ...(service ? ['c.service = $2'] : [])].join(' and ')
  const inner = `select c.id, ${expr} <=> ${qv} as distance from chunks c where ${where}
            order by ${expr} <=> ${qv} limit ${limit}`
  return forced ? inner : `with v as materialized (${inner}) select id, distance from v order by distance, id`
}

const byDistance = (a: Neighbor, b: Neighbor) => a.distance - b.distance || a.id - b.id

/**
 * Fraction of the exact top K found. Ties at the K-th distance are credited (any row at that distance is an
 * equally correct answer), so duplicate-ish synthetic passages don't make recall look worse than it is.
 */
function recallAtK(approx: Neighbor[], exact: Neighbor[]): number {
  if (exact.length === 0) return 1
  const kth = exact[exact.length - 1]!.distance
  const exactIds = new Set(exact.map((e) => e.id))
  const found = approx.filter((a) => exactIds.has(a.id) || a.distance <= kth + 1e-6).length
  return Math.min(found, exact.length) / exact.length
}

// ---------------------------------------------------------------------------------------------------------
// Query plans

/**
 * Runs search() once through a recording wrapper, then replays exactly the SQL it issued (SET LOCALs included)
 * under EXPLAIN ANALYZE. Replaying the recorded text, rather than a copy of it, keeps the plan honest when
 * search.ts changes.
 */
async function capturePlans(db: Database, embedder: EmbeddingProvider, model: ModelSpec, q: Question): Promise<RunResult['plans']> {
  const record = async (input: SearchInput) => {
    const log: Array<{ sql: string; params?: readonly unknown[] }> = []
    const recording: Database = {
      ...db,
      kind: db.kind,
      transaction: (fn) =>
        db.transaction((tx) =>
          fn({
            inTransaction: true,
            query: (sql, params) => {
              log.push({ sql, params })
              return tx.query(sql, params)
            },
          }),
        ),
    }
    await search({ db: recording, embedder }, input)
    return log
  }
  const explain = async (log: Array<{ sql: string; params?: readonly unknown[] }>, pick: RegExp, setup?: (tx: Transaction) => Promise<void>) =>
    db.transaction(async (tx) => {
      for (const s of log) {
        // Session settings search() made (SET LOCAL or set_config), replayed before the statement; then `setup`.
        if (/^\s*(set\s|select set_config\()/i.test(s.sql)) await tx.query(s.sql, s.params)
        else if (pick.test(s.sql)) {
          await setup?.(tx)
          const { rows } = await tx.query<{ 'QUERY PLAN': string }>(`explain (analyze, buffers, costs off) ${s.sql}`, s.params)
          // The query vector literal (hundreds of floats) would drown the plan; it is the same constant in every node.
          return rows.map((r) => r['QUERY PLAN'].replace(/'\[[^\]]*\]'::vector/g, "'[…query vector…]'::vector")).join('\n')
        }
      }
      return '(statement not issued)'
    })
  const vectorLog = await record({ query: q.query, k: K, mode: 'vector' })
  const filteredLog = await record({ query: q.query, k: K, mode: 'vector', service: q.service })
  const ftsLog = await record({ query: q.query, k: K, mode: 'fts' })
  const ftsFilteredLog = await record({ query: q.query, k: K, mode: 'fts', service: q.service })
  // The vector statement is the one computing distances (nearestChunksMany: a union of graph walks / exact scans).
  const vector = await explain(vectorLog, /<=>/)
  const vectorFiltered = await explain(filteredLog, /<=>/)
  // The full text statement is whichever one matches chunks' tsvector (ts_rank_cd or BM25, whatever search.ts uses now).
  const fts = await explain(ftsLog, /c\.tsv @@/)
  const ftsFiltered = await explain(ftsFilteredLog, /c\.tsv @@/)
  const exact = await explain(vectorLog, /<=>/, disableIndexes)
  const idx = hnswIndexName(model)
  return { vector, vectorFiltered, fts, ftsFiltered, exact, usesHnsw: vector.includes(idx), filteredUsesHnsw: vectorFiltered.includes(idx) }
}

const emptyPlans = (): RunResult['plans'] => ({ vector: '', vectorFiltered: '', fts: '', ftsFiltered: '', exact: '', usesHnsw: false, filteredUsesHnsw: false })

// ---------------------------------------------------------------------------------------------------------
// Reporting

async function relationSizes(db: Database, model: ModelSpec): Promise<RunResult['sizesMiB']> {
  const { rows } = await db.query<{ t: number; h: number; g: number }>(
    `select pg_total_relation_size('chunks')::float8 as t,
            (select sum(pg_relation_size(to_regclass(n)))::float8 from unnest($1::text[]) n) as h,
            pg_relation_size('chunks_tsv_idx')::float8 as g`,
    [hnswIndexNames(model)],
  )
  const r = rows[0]!
  const mib = (b: number) => b / 1024 / 1024
  return { table: mib(r.t), hnsw: mib(r.h), gin: mib(r.g) }
}

async function readSettings(db: Database): Promise<Record<string, string>> {
  const names = ['shared_buffers', 'work_mem', 'max_parallel_maintenance_workers', 'effective_cache_size', 'jit']
  const { rows } = await db.query<{ name: string; setting: string; unit: string | null }>(
    'select name, setting, unit from pg_settings where name = any($1::text[])',
    [names],
  )
  const { rows: v } = await db.query<{ v: string }>("select extversion as v from pg_extension where extname = 'vector'")
  return { ...Object.fromEntries(rows.map((r) => [r.name, r.unit ? `${r.setting} × ${r.unit}` : r.setting])), pgvector: v[0]?.v ?? '?' }
}

function summarize(ms: number[]): Latency {
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / (ms.length || 1), n: ms.length }
}

function report(results: RunResult[], skipped: number[], pgliteMax: number): string {
  const yes = (b: boolean) => (b ? 'yes' : 'NO')
  const col = (r: RunResult) => `${r.backend}@${r.size >= 1000 ? `${r.size / 1000}k` : r.size}`
  const nativeFor = (r: RunResult) => results.find((x) => x.backend === 'postgres' && x.size === r.size)
  const asked = Math.max(...results.map((r) => r.latency.vector.n))
  const lat = (l: Latency) => `${fmt(l.p50, 1)} / ${fmt(l.p95, 1)} / ${fmt(l.p99, 1)}${l.n < asked ? ` (n=${l.n})` : ''}`
  type Row = [metric: string, cell: (r: RunResult) => string, target: string, ok: string]

  // Latency target applies at 100k on Postgres; the PGlite target is relative to Postgres at the same size.
  const p95Ok = results
    .map((r) => {
      const native = nativeFor(r)
      if (r.backend === 'pglite') return native ? `${col(r)} ${yes(r.latency.hybrid.p95 <= TARGET_PGLITE_FACTOR * native.latency.hybrid.p95)} (≤${TARGET_PGLITE_FACTOR}× pg)` : ''
      return `${col(r)} ${yes(r.latency.hybrid.p95 <= TARGET_P95_MS)}`
    })
    .filter(Boolean)
    .join(', ')
  const recAt = (r: RunResult, ef: number) => r.ef.find((e) => e.ef === ef)
  const efs = [...new Set(results.flatMap((r) => r.ef.map((e) => e.ef)))]

  const rows: Row[] = [
    ['chunks / sources', (r) => `${fmt(r.size, 0)} / ${fmt(r.sources, 0)}`, '', ''],
    ['bulk load s (chunks/s)', (r) => `${fmt(r.loadSeconds, 1)} (${fmt(r.size / r.loadSeconds, 0)})`, '', ''],
    ['  of which embedding s', (r) => fmt(r.embedSeconds, 1), '', ''],
    ['HNSW build s (after load)', (r) => fmt(r.indexBuildSeconds, 1), '', ''],
    ['ANALYZE s / BM25 term stats refresh s', (r) => `${fmt(r.analyzeSeconds, 1)} / ${r.termStatsSeconds === null ? 'n/a' : fmt(r.termStatsSeconds, 1)}`, '', ''],
    ['size MiB: table total / hnsw / gin', (r) => `${fmt(r.sizesMiB.table, 0)} / ${fmt(r.sizesMiB.hnsw, 0)} / ${fmt(r.sizesMiB.gin, 0)}`, '', ''],
    [`hybrid ms p50/p95/p99 (ef ${SEARCH_DEFAULT_EF})`, (r) => lat(r.latency.hybrid), `p95 ≤ ${TARGET_P95_MS} ms @100k`, p95Ok],
    ['vector ms p50/p95/p99', (r) => lat(r.latency.vector), '', ''],
    ['fts ms p50/p95/p99', (r) => lat(r.latency.fts), '', ''],
    ['hybrid + service filter ms p50/p95/p99', (r) => lat(r.latency.hybridFiltered), '', ''],
    ['vector + service filter ms p50/p95/p99', (r) => lat(r.latency.vectorFiltered), '', ''],
    ['avg hits hybrid / fts / filtered', (r) => `${fmt(r.avgHits.hybrid, 1)} / ${fmt(r.avgHits.fts, 1)} / ${fmt(r.avgHits.hybridFiltered, 1)}`, `${K}`, ''],
    ...efs.flatMap((ef): Row[] => [
      [
        `HNSW recall@${K} ef_search=${ef} (filtered)`,
        (r) => {
          const e = recAt(r, ef)
          return e ? `${e.recall === null ? 'n/a*' : fmt(e.recall, 3)} (${fmt(e.filteredRecall, 3)})` : '-'
        },
        `≥ ${TARGET_RECALL}`,
        results
          .map((r) => {
            const e = recAt(r, ef)
            return `${col(r)} ${e && e.recall !== null ? yes(e.recall >= TARGET_RECALL) : '-'}`
          })
          .join(', '),
      ],
      [`  HNSW SQL p95 / vector search() p95 ms, ef=${ef}`, (r) => (recAt(r, ef) ? `${fmt(recAt(r, ef)!.vectorSql.p95, 1)} / ${fmt(recAt(r, ef)!.vectorSearch.p95, 1)}` : '-'), '', ''],
      [
        `  search() path (filtered) → recall, ef=${ef}`,
        (r) => {
          const e = recAt(r, ef)
          return e ? `${e.plan} (${e.filteredPlan}) → ${fmt(e.effectiveRecall, 3)}` : '-'
        },
        '',
        '',
      ],
    ]),
    ['exact distance median: 1st / 10th nn', (r) => `${fmt(r.exactDistance.d1, 3)} / ${fmt(r.exactDistance.d10, 3)}`, '', ''],
    ['recommended ef_search', (r) => (r.recommendedEf === null ? `none ≥ ${TARGET_RECALL}` : String(r.recommendedEf)), `recall ≥ ${TARGET_RECALL}, min p95`, ''],
    ['vector query uses HNSW (filtered)', (r) => (r.plans.vector ? `${yes(r.plans.usesHnsw)} (${yes(r.plans.filteredUsesHnsw)})` : 'not checked'), 'yes', ''],
    ['peak RSS of this process MiB', (r) => fmt(r.peakRssMiB, 0), '', ''],
  ]
  const table = formatTable(
    ['metric', ...results.map(col), 'target', 'ok?'],
    rows.map(([metric, cell, target, ok]) => [metric, ...results.map(cell), target, ok]),
  )

  const out = [
    `retrieval benchmark: k=${K}, search() pool ${SEARCH_POOL}, embeddings ${results[0]?.model ?? '?'}, HNSW ${HNSW_WITH ? `WITH (${HNSW_WITH}) [experiment]` : `${HNSW_BUILD} (as ensureModelIndex builds it)`}`,
    '',
    table,
    '',
    'notes: latencies are wall time of one search() call from this process (embed query + transaction + SQL round trips + hydrate),',
    '       sequential, after a warm-up; a mode marked (n=…) stopped at --mode-budget-s.',
    '       recall@10 = top 10 of nearestChunks (src/knowledge/vector.ts, the vector half of search(): per kind, its HNSW graph or an',
    '       exact scan when few rows pass the filter; LIMIT pool, relaxed iterative scan) vs the exact top 10 (index scans disabled).',
    '       "filtered" adds a service filter (~1/12 of rows). "HNSW SQL p95" is nearestChunks alone; vector search() p95 is search()',
    '       in vector mode with that efSearch. "search() path" counts the paths nearestChunks took over the recall queries.',
    '       peak RSS is a process high-water mark; Postgres runs first, so PGlite columns include the WASM heap.',
    `       machine: ${os.cpus().length} cores, load average at start ${LOAD_AT_START}, at end ${loadAvg()} (other processes share these cores).`,
    ...(SERVER_MEMORY ? [`       PostgreSQL: ${SERVER_MEMORY}.`] : []),
  ]
  if (skipped.length) out.push(`       PGlite skipped at ${skipped.join(', ')} chunks (> --pglite-max ${pgliteMax}): a 100k HNSW build in single-threaded WASM is too slow for this run.`)
  for (const r of results) {
    const rec = r.recommendedEf
    out.push(
      '',
      `${col(r)}: settings ${Object.entries(r.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`,
      rec === null
        ? `${col(r)}: no tested ef_search reaches recall ${TARGET_RECALL}; try larger values (pgvector allows ef_search ≤ 1000) or a denser graph (e.g. --hnsw-with "m=48,ef_construction=400").`
        : `${col(r)}: recommend hnsw.ef_search = ${rec}: search() then runs its vector query as ${recAt(r, rec)!.plan} with recall@${K} ` +
          `${fmt(recAt(r, rec)!.effectiveRecall, 3)}, vector search() p95 ${fmt(recAt(r, rec)!.vectorSearch.p95, 1)} ms.`,
    )
  }
  for (const r of results) {
    if (!r.plans.vector) continue
    out.push(
      '',
      `---- ${col(r)} query plans (EXPLAIN ANALYZE of the SQL search() issued) ----`,
      '[vector]',
      r.plans.vector,
      '[vector + service filter]',
      r.plans.vectorFiltered,
      '[fts]',
      r.plans.fts,
      '[fts + service filter]',
      r.plans.ftsFiltered,
      '[exact ground truth: same SQL, index scans off]',
      r.plans.exact,
    )
  }
  return out.join('\n')
}

runMain(main)
