import type { Queryable } from '../db/types.js'

// Scrape-time reads for /metrics (metrics.ts). Aggregates over the domain tables only (never chunks), one statement per figure, run
// one after another so a scrape holds at most one pooled connection. Windowed figures read the newest `window`
// rows through the created_at indexes.

interface Quantiles { n: number; p50: number; p95: number; p99: number }
export interface Snapshot {
  /** Scrape time and how long the reads took, in seconds. */
  at: number
  seconds: number
  alerts?: Array<{ source: string; alerts: number; deliveries: number }>
  assessments?: Array<{ subject: string; mode: string; outcome: string; fallbackReason: string | null; n: number; promptTokens: number | null; completionTokens: number | null }>
  interventions?: Array<{ type: string; n: number }>
  latency?: Array<{ subject: string; path: string } & Quantiles>
  proposals?: Array<{ status: string; n: number }>
  approvalLatency?: Quantiles
  ingestRuns?: Array<{ status: string; n: number }>
  lastCompleteIngest?: number | null
  sources?: Array<{ kind: string; n: number }>
  jobs?: Array<{ kind: string; status: string; n: number }>
  jobsDue?: Array<{ kind: string; oldest: number }>
}

const Q = (col: string) => `percentile_cont(0.5) within group (order by ${col}) as p50, percentile_cont(0.95) within group (order by ${col}) as p95, percentile_cont(0.99) within group (order by ${col}) as p99`

type Reader = (q: Queryable, o: { window: number; now: Date }) => Promise<Partial<Snapshot>>
const READERS: Record<string, Reader> = {
  alerts: async (q) => ({
    alerts: (await q.query<{ source: string; alerts: number; deliveries: number }>('select source, count(*)::int as alerts, sum(deliveries)::float8 as deliveries from alerts group by source')).rows,
  }),
  assessments: async (q) => ({
    assessments: (
      await q.query<NonNullable<Snapshot['assessments']>[number]>(
        `select subject, mode, outcome, nullif(split_part(fallback_reason, ':', 1), '') as "fallbackReason", count(*)::int as n,
                sum(prompt_tokens)::float8 as "promptTokens", sum(completion_tokens)::float8 as "completionTokens"
           from assessments group by 1, 2, 3, 4`,
      )
    ).rows,
  }),
  interventions: async (q) => ({
    interventions: (await q.query<{ type: string; n: number }>("select i->>'type' as type, count(*)::int as n from assessments, jsonb_array_elements(interventions) as i group by 1")).rows,
  }),
  latency: async (q, o) => ({
    latency: (
      await q.query<{ subject: string; path: string } & Quantiles>(
        `select subject, path, count(*)::int as n, ${Q('latency_ms')}
           from (select subject, latency_ms, case when mode = 'llm' then 'llm' when fallback_reason is not null then 'fallback' else 'deterministic' end as path
                   from assessments order by created_at desc limit $1) recent
          group by subject, path`,
        [o.window],
      )
    ).rows,
  }),
  proposals: async (q) => ({ proposals: (await q.query<{ status: string; n: number }>('select status, count(*)::int as n from proposals group by status')).rows }),
  approvalLatency: async (q, o) => ({
    approvalLatency: (
      await q.query<Quantiles>(
        `select count(*)::int as n, ${Q('s')}
           from (select extract(epoch from (decided_at - created_at))::float8 as s
                   from (select status, created_at, decided_at from proposals order by created_at desc limit $1) recent
                  where status in ('approved', 'handed_off') and decided_at is not null) approved`,
        [o.window],
      )
    ).rows[0],
  }),
  ingest: async (q) => ({
    ingestRuns: (await q.query<{ status: string; n: number }>('select status, count(*)::int as n from ingest_runs group by status')).rows,
    lastCompleteIngest: (await q.query<{ ts: number | null }>("select extract(epoch from max(finished_at))::float8 as ts from ingest_runs where status = 'complete'")).rows[0]?.ts ?? null,
    sources: (await q.query<{ kind: string; n: number }>("select kind, count(*)::int as n from sources where status = 'active' group by kind")).rows,
  }),
  jobs: async (q, o) => ({
    jobs: (await q.query<{ kind: string; status: string; n: number }>('select kind, status, count(*)::int as n from jobs group by kind, status')).rows,
    jobsDue: (
      await q.query<{ kind: string; oldest: number }>(
        "select kind, extract(epoch from min(run_at))::float8 as oldest from jobs where status in ('queued', 'failed') and run_at <= $1 group by kind",
        [o.now.toISOString()],
      )
    ).rows,
  }),
}

/** SQLSTATE 42P01: the jobs table arrives with migration 007; a database without it has no queue to report. */
const isUndefinedTable = (err: unknown) => (err as { code?: string } | null)?.code === '42P01'

/** Every figure it could read; a failed read leaves its fields out and is reported through `onError`. */
export async function loadSnapshot(q: Queryable, o: { window: number; now: Date }, onError: (collector: string, err: unknown) => void): Promise<Snapshot> {
  const t0 = performance.now()
  const s: Snapshot = { at: o.now.getTime() / 1000, seconds: 0 }
  for (const [name, read] of Object.entries(READERS)) {
    try {
      Object.assign(s, await read(q, o))
    } catch (err) {
      if (!(name === 'jobs' && isUndefinedTable(err))) onError(name, err)
    }
  }
  s.seconds = (performance.now() - t0) / 1000
  return s
}
