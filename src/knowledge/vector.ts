import type { Database, Queryable } from '../db/types.js'
import { INDEXED_KINDS, kindIndexPredicate, toVectorLiteral, vectorExpr, type IndexedKind } from './models.js'

// The vector ranker's candidate query: the chunks nearest a query vector under a filter. Kept apart from the
// fusion in search.ts because it is what the index parameters, ef_search and the filtered-search strategy tune,
// and what bench:retrieval measures against exact search.
//
// Chunks of each kind live in their own HNSW graph (models.ts), and each kind is searched on its own, then
// merged. Per kind, one of two paths, chosen per query by how many of the kind's chunks pass the filter:
//  - few (≤ EXACT_MAX over all kinds, e.g. one service's runbooks): an exact scan of exactly those rows through the btree
//    filter index. 100% recall, and cheaper than the graph walk: with a selective filter pgvector's iterative
//    scan visits many non-matching nodes per match, and may stop short of the limit (hnsw.max_scan_tuples). A
//    kind no chunk passes costs nothing more.
//  - many: the kind's graph, with the rest of the filter (service, team) applied during the scan.
// A kind filter reads that kind only: the other kinds get no branch at all.
//
// Several filters at once (nearestChunksMany: an assessment's five evidence searches) share one transaction, one
// row count and one statement: one round trip each instead of five.

/**
 * The exact path's ceiling, in rows over all kinds of one query. Reading a chunk's vector means a TOAST fetch
 * (2 KB, stored out of line): 10–25 µs a row on this loaded 2-core machine (Postgres 15, 100k chunks), so
 * 500 rows cost about one HNSW walk of a kind's graph at ef_search 100 (bench:retrieval, filtered rows).
 */
export const EXACT_MAX = 500

/**
 * hnsw.ef_search per kind graph when the caller sets none (and WARDEN_HNSW_EF_SEARCH's default). Measured at
 * 100k chunks (25k per kind, m 32 / ef_construction 200; load ~9 on 2 cores): recall@10 vs exact within a kind
 * 0.80 / 0.90 / 0.957 at 100 / 200 / 400, across all kinds 0.87 / 0.94 / 0.97; one graph walk p50 7.3 / 8.3 /
 * 13.2 ms. 200 bought most of the recall for ~1 ms a walk. Raised to 250, the issue's recall target (recall@10
 * ≥ 0.95 across kinds, what search() merges) being just missed at 200. At 100k chunks, two graph builds (the
 * parallel build is not deterministic): recall@10 0.949 / 0.966 / 0.976 at 200 / 250 / 300 (bench:retrieval) and
 * 0.941 / 0.949 / 0.955 / 0.968 at 200 / 225 / 250 / 300 (150 questions); hybrid search() of 310 questions, three
 * interleaved rounds each, p50/p95 19.2–19.6 / 29.5–29.9 ms at 200, 21.2–22.0 / 31.7–32.9 at 250; bench:assess
 * p95 36.1 → 43.7 ms (target 50). Shared memory in huge pages, load ~2 on 2 cores.
 */
export const DEFAULT_EF_SEARCH = 250

/** Which chunks a vector search may return (besides the model's). Values are bound, never spliced into SQL. */
export interface VectorFilter {
  kind?: IndexedKind
  service?: string
  team?: string
}

export interface NearestChunksInput {
  model: { id: string; dim: number }
  filter: VectorFilter
  vec: number[]
  limit: number
  /** HNSW candidate list size, per kind graph; see bench:retrieval for the recall/latency trade-off. */
  efSearch?: number
}

export interface NearestChunk {
  id: number
  /** Cosine distance to the query vector. */
  distance: number
  /** Distinct lexemes of the chunk (its tsv length), for the length prior. */
  len: number
}

export type VectorPath = 'exact' | 'hnsw' | 'mixed' | 'none'

export async function nearestChunks(tx: Queryable, input: NearestChunksInput): Promise<NearestChunk[]> {
  return (await nearestChunksWithPath(tx, input)).rows
}

/** nearestChunks, also saying which path answered (tests and bench:retrieval report it). */
export async function nearestChunksWithPath(tx: Queryable, input: NearestChunksInput): Promise<{ path: VectorPath; rows: NearestChunk[] }> {
  const [one] = await nearestChunksMany(tx, { model: input.model, vec: input.vec, efSearch: input.efSearch, queries: [{ filter: input.filter, limit: input.limit }] })
  return one!
}

export interface NearestChunksManyInput {
  model: { id: string; dim: number }
  vec: number[]
  efSearch?: number
  queries: ReadonlyArray<{ filter: VectorFilter; limit: number }>
  /** countFiltered(model, the queries' filters), when the caller has it already. */
  counts?: FilterCounts
  /** Only the branches of these kinds (nearestChunksParallel); the plan is still made over every kind. */
  kinds?: readonly IndexedKind[]
}

// Each statement binds its own values: a value bound but not referenced leaves its type undetermined.
type Bind = (v: unknown) => string
const binder = (): [unknown[], Bind] => {
  const p: unknown[] = []
  return [p, (v) => `$${p.push(v)}`]
}

/** Whether a filter restricts more than the model and the kind (only then are its rows counted). */
const filtersRows = (f: VectorFilter) => f.service !== undefined || f.team !== undefined

/** ` and c.service = $n and c.team = $m` for the filter's service/team, bound through `bind`. */
function restSql(f: VectorFilter, bind: Bind): string {
  return `${f.service !== undefined ? ` and c.service = ${bind(f.service)}` : ''}${f.team !== undefined ? ` and c.team = ${bind(f.team)}` : ''}`
}

/** Rows per kind passing a filter, each count stopping at EXACT_MAX + 1; null for a filter that is not counted. */
export type FilterCounts = Array<Partial<Record<IndexedKind, number>> | null>

/**
 * Counts the rows each filter passes, per kind, for filters on service/team (filtersRows); one statement for all.
 * Model and kind only need no count: every kind's graph holds exactly the rows that pass (a small kind's graph is
 * small, and at ef_search ≥ its size the walk is exhaustive anyway). Counting cost 2–7 ms at 100k chunks: hundreds
 * of wide heap pages read to find the first rows of a kind. With a service filter the (service, kind) btree
 * answers, and counting stops at EXACT_MAX + 1 rows. search.ts reads the counts too (its full-text path).
 */
export async function countFiltered(q: Queryable, model: { id: string; dim: number }, filters: readonly VectorFilter[]): Promise<FilterCounts> {
  const [p, bind] = binder()
  const cols = filters.flatMap((f, i) =>
    filtersRows(f)
      ? (f.kind ? [f.kind] : INDEXED_KINDS).map(
          (k) => `(select count(*)::int from (select 1 from chunks c where ${kindIndexPredicate(model, k, 'c.')}${restSql(f, bind)} limit ${EXACT_MAX + 1}) f) as q${i}_${k}`,
        )
      : [],
  )
  const row = cols.length ? ((await q.query<Record<string, number>>(`select ${cols.join(', ')}`, p)).rows[0] ?? {}) : {}
  return filters.map((f, i) => (filtersRows(f) ? Object.fromEntries((f.kind ? [f.kind] : INDEXED_KINDS).map((k) => [k, row[`q${i}_${k}`] ?? 0])) : null))
}

/** Which path each query takes per kind, and which filtered walks ride on an unfiltered one (see planQueries). */
interface QueryPlans {
  plans: Array<{ kinds: IndexedKind[]; exact: IndexedKind[]; graph: IndexedKind[] }>
  guests: Array<{ i: number; kind: IndexedKind; host: number }>
  ef: number
}

function planQueries(input: NearestChunksManyInput, counts: FilterCounts): QueryPlans {
  const plans = input.queries.map((q) => ({ kinds: q.filter.kind ? [q.filter.kind] : [...INDEXED_KINDS], exact: [] as IndexedKind[], graph: [] as IndexedKind[] }))
  plans.forEach((plan, i) => {
    const c = counts[i]
    if (!c) {
      plan.graph.push(...plan.kinds)
      return
    }
    // Smallest kinds first into the exact scan while the total stays within EXACT_MAX; the others walk their graph.
    let exactRows = 0
    for (const [k, n] of plan.kinds.map((k) => [k, c[k] ?? 0] as const).sort((a, b) => a[1] - b[1])) {
      if (n === 0) continue
      if (exactRows + n <= EXACT_MAX) {
        plan.exact.push(k)
        exactRows += n
      } else plan.graph.push(k)
    }
  })

  // A filtered graph walk whose kind an unfiltered query of this statement walks too (an assessment's
  // "runbooks of this service" beside "all runbooks", where the service has more than EXACT_MAX of them) rides on
  // that walk instead of walking the same graph again: the host returns its first batch whole (ef_search rows) and
  // the guest takes the rows passing its filter, in distance order. That is what the guest's own walk returns, as
  // pgvector applies the filter to the same first batch; only when fewer than the guest's limit pass (its walk
  // would have gone on, iterative scan) is the guest walked on its own, in a second statement.
  const hostOf = new Map<string, number>()
  plans.forEach((plan, i) => {
    if (filtersRows(input.queries[i]!.filter)) return
    for (const k of plan.graph) if (!hostOf.has(k)) hostOf.set(k, i)
  })
  const guests: QueryPlans['guests'] = []
  plans.forEach((plan, i) => {
    if (!filtersRows(input.queries[i]!.filter)) return
    plan.graph = plan.graph.filter((k) => {
      const host = hostOf.get(k)
      if (host === undefined) return true
      guests.push({ i, kind: k, host })
      return false
    })
  })
  return { plans, guests, ef: Math.max(1, Math.trunc(input.efSearch ?? DEFAULT_EF_SEARCH)) }
}

/**
 * The fewest graph walks worth a connection of their own: a second transaction costs its BEGIN, settings and
 * COMMIT round trips. Measured at 10k and 100k chunks (2 cores, interleaved A/B): an unfiltered search's four walks
 * over two connections, p50/p95 −2 / −5 ms; an assessment's three (evidence retrieval) split 2 + 1, no gain.
 */
const MIN_WALKS_PER_CONNECTION = 2

/**
 * nearestChunksMany with its graph walks spread over `connections` pooled connections (Postgres), by kind: each
 * kind's branches (its walk, the filtered walks riding on it, its exact scans) stay in one statement, and the kinds
 * are dealt out so each statement has about as many walks. A walk is ~3–4 ms of one core at 100k chunks, so four in
 * one statement are the slowest part of a hybrid search. The plan is made once over every kind, so the rows are
 * those of the single statement. PGlite, one connection, runs the single statement.
 */
export async function nearestChunksParallel(db: Database, input: NearestChunksManyInput, connections = 2): Promise<Array<{ path: VectorPath; rows: NearestChunk[] }>> {
  if (db.kind !== 'postgres' || connections < 2) return db.transaction((tx) => nearestChunksMany(tx, input))
  const counts = input.counts ?? (await countFiltered(db, input.model, input.queries.map((q) => q.filter)))
  const { plans } = planQueries(input, counts)
  const walks = new Map<IndexedKind, number>()
  for (const plan of plans) for (const k of plan.graph) walks.set(k, (walks.get(k) ?? 0) + 1)
  const groups: Array<{ kinds: IndexedKind[]; walks: number }> = Array.from({ length: connections }, () => ({ kinds: [], walks: 0 }))
  for (const [k, n] of [...walks].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    const g = groups.reduce((a, b) => (b.walks < a.walks ? b : a))
    g.kinds.push(k)
    g.walks += n
  }
  const used = groups.filter((g) => g.walks > 0)
  if (used.length < 2 || used.some((g) => g.walks < MIN_WALKS_PER_CONNECTION)) return db.transaction((tx) => nearestChunksMany(tx, { ...input, counts }))
  // Kinds with exact scans only go with the first group: a scan of at most EXACT_MAX rows.
  const rest = INDEXED_KINDS.filter((k) => !walks.has(k))
  used[0]!.kinds.push(...rest)
  const parts = await Promise.all(used.map((g) => db.transaction((tx) => nearestChunksMany(tx, { ...input, counts, kinds: g.kinds }))))
  return parts[0]!.map((first, i) => {
    const rows = parts.flatMap((p) => p[i]!.rows).sort((a, b) => a.distance - b.distance || a.id - b.id)
    rows.length = Math.min(rows.length, input.queries[i]!.limit)
    return { path: first.path, rows }
  })
}

/** The nearest chunks of one vector under each of several filters, in one statement; results in query order. */
export async function nearestChunksMany(tx: Queryable, input: NearestChunksManyInput): Promise<Array<{ path: VectorPath; rows: NearestChunk[] }>> {
  const kindPred = (kind: IndexedKind) => kindIndexPredicate(input.model, kind, 'c.')
  const rest = (i: number, bind: Bind) => restSql(input.queries[i]!.filter, bind)
  const counts = input.counts ?? (await countFiltered(tx, input.model, input.queries.map((q) => q.filter)))
  const { plans, guests: allGuests, ef } = planQueries(input, counts)
  const hostLimit = (i: number, k: IndexedKind) => {
    const lim = Math.trunc(input.queries[i]!.limit)
    return allGuests.some((g) => g.host === i && g.kind === k) ? Math.max(lim, ef) : lim
  }
  // The path is the whole plan's, also when this statement holds only some kinds (nearestChunksParallel).
  const out = plans.map((plan, i) => {
    const graph = plan.graph.length > 0 || allGuests.some((g) => g.i === i)
    return { path: (!graph ? (plan.exact.length === 0 ? 'none' : 'exact') : plan.exact.length === 0 ? 'hnsw' : 'mixed') as VectorPath, rows: [] as NearestChunk[] }
  })
  const only = input.kinds ? new Set<IndexedKind>(input.kinds) : null
  const guests = only ? allGuests.filter((g) => only.has(g.kind)) : allGuests
  if (only) {
    for (const plan of plans) {
      plan.exact = plan.exact.filter((k) => only.has(k))
      plan.graph = plan.graph.filter((k) => only.has(k))
    }
  }
  /** A union of branches over one bound query vector: `cols(i)` selects query i's output, `order` is the distance. */
  const statement = (branchesOf: (cols: (i: number) => string, order: string, bind: Bind) => string[]) => {
    const [p, bind] = binder()
    const qv = `${bind(toVectorLiteral(input.vec))}::vector(${Math.trunc(input.model.dim)})`
    const expr = vectorExpr(input.model)
    const cols = (i: number) => `${i}::int as q, c.id, ${expr} <=> ${qv} as distance, length(c.tsv) as len, c.kind, c.service, c.team`
    const branches = branchesOf(cols, `${expr} <=> ${qv}`, bind)
    return { sql: branches.join('\n union all\n'), params: p, empty: branches.length === 0 }
  }
  const main = statement((cols, order, bind) => {
    const branches: string[] = []
    plans.forEach((plan, i) => {
      const lim = Math.trunc(input.queries[i]!.limit)
      // OFFSET 0 keeps the subquery apart, unordered, so the planner cannot answer it with an (approximate) index scan.
      for (const k of plan.exact) branches.push(`(select * from (select ${cols(i)} from chunks c where ${kindPred(k)}${rest(i, bind)} offset 0) e order by distance, id limit ${lim})`)
      for (const k of plan.graph) branches.push(`(select ${cols(i)} from chunks c where ${kindPred(k)}${rest(i, bind)} order by ${order} limit ${hostLimit(i, k)})`)
    })
    return branches
  })
  if (main.empty) return out
  if (plans.some((plan) => plan.graph.length > 0)) {
    // One round trip for the settings. The graph walks must use their index: at 10k chunks the planner costed a
    // sequential scan of each kind and a sort (reading every 2 KB vector: 60 ms for four kinds) below the walk (a
    // few ms), and with sequential scans off, a bitmap scan of the kind and a sort. With sorts off, the order can
    // only come from the HNSW index. Exact branches are unaffected: their sort has no alternative (OFFSET 0), and
    // they read the btree filter index or nothing cheaper exists. The rest of the filter (service/team) still
    // fills the limit: pgvector >= 0.8 keeps scanning the graph. JIT off: the disabled paths' cost penalty (1e10)
    // lifts the plan's total past jit_above_cost, and compiling it took ~500 ms on a statement that runs in 30.
    // (search.ts' full-text statement does the same.)
    await tx.query(
      `select set_config('hnsw.ef_search', '${ef}', true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
              set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true), set_config('jit', 'off', true)`,
    )
  }
  type Row = NearestChunk & { q: number; kind: string; service: string | null; team: string | null }
  const { rows } = await tx.query<Row>(main.sql, main.params)
  const hosted = new Map<string, Row[]>()
  for (const r of rows) {
    out[r.q]!.rows.push({ id: r.id, distance: r.distance, len: r.len })
    if (guests.length === 0) continue
    const key = `${r.q}:${r.kind}`
    const list = hosted.get(key)
    if (list) list.push(r)
    else hosted.set(key, [r])
  }
  const alone: typeof guests = []
  for (const g of guests) {
    const f = input.queries[g.i]!.filter
    const lim = Math.trunc(input.queries[g.i]!.limit)
    const batch = (hosted.get(`${g.host}:${g.kind}`) ?? []).sort((a, b) => a.distance - b.distance || a.id - b.id)
    const pass = batch.filter((r) => (f.service === undefined || r.service === f.service) && (f.team === undefined || r.team === f.team)).slice(0, lim)
    // The host's batch was the whole graph (fewer rows than asked) or enough passed: that is the guest's answer.
    if (pass.length >= lim || batch.length < hostLimit(g.host, g.kind)) out[g.i]!.rows.push(...pass.map((r) => ({ id: r.id, distance: r.distance, len: r.len })))
    else alone.push(g)
  }
  if (alone.length) {
    const more = statement((cols, order, bind) =>
      alone.map((g) => `(select ${cols(g.i)} from chunks c where ${kindPred(g.kind)}${rest(g.i, bind)} order by ${order} limit ${Math.trunc(input.queries[g.i]!.limit)})`),
    )
    for (const r of (await tx.query<Row>(more.sql, more.params)).rows) out[r.q]!.rows.push({ id: r.id, distance: r.distance, len: r.len })
  }
  // Relaxed ordering can return slightly out-of-order rows: re-sorted exactly below, per query.
  out.forEach((o, i) => {
    o.rows.sort((a, b) => a.distance - b.distance || a.id - b.id)
    o.rows.length = Math.min(o.rows.length, input.queries[i]!.limit)
  })
  return out
}
