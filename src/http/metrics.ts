import type { Context, MiddlewareHandler } from 'hono'
import { matchedRoutes } from 'hono/route'
import type { Logger } from 'pino'
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { AlertSource } from '../alerts/types.js'
import type { JobStatus } from '../alerts/jobs/types.js'
import { ProposalStatus } from '../approvals/types.js'
import type { LlmFailure } from '../assistant/llm.js'
import { InterventionType } from '../assistant/types.js'
import type { Queryable } from '../db/types.js'
import { loadSnapshot, type Snapshot } from './metrics-snapshot.js'
import type { AppEnv } from './types.js'

// Prometheus metrics for one app, in its own Registry (tests build many apps in one process). Request timings
// are observed in process. Domain figures live in the database and are read from it when scraped: every replica
// then reports the same numbers and they survive restarts (aggregate them with max(), not sum(), across
// replicas). Totals of append-only rows (alerts, assessments, interventions, fallbacks, tokens) are exposed as
// counters, so rate() means what it says; states (proposals, jobs, ingest runs) as gauges.

export interface MetricsOptions {
  /** Where domain figures are read at scrape time; without it only process and HTTP metrics are exposed. */
  db?: Queryable
  logger?: Logger
  clock?: () => Date
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean
  /** Latency quantiles are computed over this many most recent assessments / proposals (default 1000). */
  window?: number
}

export interface Metrics {
  registry: Registry
  httpDuration: Histogram<'method' | 'route' | 'status'>
  /** Observes every request after the rest of the chain, including errors turned into responses by onError. */
  middleware: MiddlewareHandler<AppEnv>
}

const ALERT_SOURCES: readonly AlertSource[] = ['alertmanager', 'grafana', 'pagerduty', 'generic']
const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'failed', 'dead']
const INGEST_STATUSES = ['running', 'complete', 'failed', 'abandoned'] as const
const LLM_FAILURES: readonly LlmFailure[] = ['timeout', 'http_error', 'refusal', 'no_tool_call', 'malformed', 'schema_violation']
const QUANTILES = [['0.5', 'p50'], ['0.95', 'p95'], ['0.99', 'p99']] as const
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])

/**
 * The registered route pattern (`/v1/alerts/:source`), never the raw path: one series per route, whatever
 * clients send. The last non-middleware match is the handler's route even when a middleware answered first
 * (401 from bearerAuth, 413 from the body limit); a request no route matched is `unmatched`.
 */
export function routeLabel(c: Context): string {
  const routes = matchedRoutes(c)
  for (let i = routes.length - 1; i >= 0; i--) if (routes[i]!.method !== 'ALL') return routes[i]!.path
  return 'unmatched'
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const clock = opts.clock ?? (() => new Date())
  const window = opts.window ?? 1000

  const httpDuration = new Histogram({
    name: 'warden_http_request_duration_seconds',
    help: 'HTTP request duration by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    // Up to 30 s: alert intake with ?wait=true may wait WARDEN_ASSESS_WAIT_MS (25 s by default).
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  })
  const middleware: MiddlewareHandler<AppEnv> = async (c, next) => {
    const end = httpDuration.startTimer()
    let status = 500
    try {
      await next()
      status = c.res.status
    } finally {
      end({ method: HTTP_METHODS.has(c.req.method) ? c.req.method : 'OTHER', route: routeLabel(c), status: String(status) })
    }
  }
  if (!opts.db) return { registry, httpDuration, middleware }
  const db = opts.db

  // Both wait for this scrape's read (collect), so they report it rather than the previous scrape's.
  const collectErrors = new Counter({ name: 'warden_metrics_collect_errors_total', help: 'Scrape-time database reads that failed, by collector (their series are left out of that scrape)', labelNames: ['collector'] as const, registers: [registry], collect: () => snapshot().then(() => undefined) })
  new Gauge({
    name: 'warden_metrics_collect_duration_seconds', help: 'Time the last scrape spent reading domain figures from the database', registers: [registry],
    async collect() {
      this.set((await snapshot()).seconds)
    },
  })

  // One database read per scrape, shared by every collector below: prom-client calls all collect() callbacks
  // at once, so the first starts the read and the rest await the same promise.
  let inflight: Promise<Snapshot> | null = null
  const snapshot = () =>
    (inflight ??= loadSnapshot(db, { window, now: clock() }, (collector, err) => {
      collectErrors.inc({ collector })
      opts.logger?.warn({ err, collector }, 'metrics: database read failed')
    })
      .finally(() => (inflight = null)))

  // Metrics whose series are all rewritten from the snapshot at every scrape.
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (m: Counter<L>, s: Snapshot) => void) =>
    new Counter<L>({ name, help, labelNames, registers: [registry], async collect() { const s = await snapshot(); this.reset(); fill(this, s) } })
  // prom-client gives an unlabelled gauge a 0 series on reset: removed, so a figure the database does not have
  // (no complete ingest yet, a failed read) is absent rather than a misleading 0.
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[], fill: (m: Gauge<L>, s: Snapshot) => void) =>
    new Gauge<L>({
      name, help, labelNames, registers: [registry],
      async collect() {
        const s = await snapshot()
        this.reset()
        if (labelNames.length === 0) this.remove()
        fill(this, s)
      },
    })
  const add = (m: Counter<string>, labels: Record<string, string>, v: number) => m.inc(labels, v)

  counter('warden_alerts_received_total', 'Alerts stored, by source (a re-delivery is the same alert)', ['source'], (m, s) => {
    if (!s.alerts) return
    for (const source of ALERT_SOURCES) add(m, { source }, s.alerts.find((r) => r.source === source)?.alerts ?? 0)
  })
  counter('warden_alert_deliveries_total', 'Alert webhook deliveries, by source (re-deliveries included)', ['source'], (m, s) => {
    if (!s.alerts) return
    for (const source of ALERT_SOURCES) add(m, { source }, s.alerts.find((r) => r.source === source)?.deliveries ?? 0)
  })
  counter('warden_assessments_total', 'Assessments (alerts) and answers (questions) stored, by subject, mode and outcome', ['subject', 'mode', 'outcome'], (m, s) => {
    if (!s.assessments) return
    for (const subject of ['alert', 'question']) for (const mode of ['deterministic', 'llm']) for (const outcome of ['assessed', 'unsure', 'refused']) add(m, { subject, mode, outcome }, 0)
    for (const r of s.assessments) add(m, { subject: r.subject, mode: r.mode, outcome: r.outcome }, r.n)
  })
  counter('warden_llm_fallbacks_total', 'LLM calls that failed and fell back to the deterministic draft, by reason', ['reason'], (m, s) => {
    if (!s.assessments) return
    for (const reason of LLM_FAILURES) add(m, { reason }, 0)
    for (const r of s.assessments) if (r.fallbackReason !== null) add(m, { reason: (LLM_FAILURES as readonly string[]).includes(r.fallbackReason) ? r.fallbackReason : 'other' }, r.n)
  })
  counter('warden_llm_tokens_total', 'Tokens sent to and received from the model, by kind (prompt, completion) and path (llm: the model draft was used; fallback: it was not)', ['kind', 'path'], (m, s) => {
    if (!s.assessments) return
    for (const kind of ['prompt', 'completion']) for (const path of ['llm', 'fallback']) add(m, { kind, path }, 0)
    for (const r of s.assessments) {
      if (r.promptTokens === null) continue
      const path = r.mode === 'llm' ? 'llm' : 'fallback'
      add(m, { kind: 'prompt', path }, r.promptTokens)
      add(m, { kind: 'completion', path }, r.completionTokens ?? 0)
    }
  })
  counter('warden_guard_interventions_total', 'Guard interventions recorded on stored assessments and answers, by type', ['type'], (m, s) => {
    if (!s.interventions) return
    for (const type of InterventionType.options) add(m, { type }, 0)
    for (const r of s.interventions) add(m, { type: (InterventionType.options as readonly string[]).includes(r.type) ? r.type : 'other' }, r.n)
  })
  // Latency is stored per assessment (provenance.latencyMs, end to end: retrieval, model call, guard), not as
  // a running histogram, so the scrape reports quantiles over the most recent `window` assessments, by path.
  // The llm path's figures are the model-bound latency. A histogram rebuilt from a sliding window would not be
  // monotonic, and rate() over it would lie; quantile gauges say exactly what they are.
  gauge('warden_assessment_latency_seconds', 'End-to-end latency quantiles over the most recent assessments (subject alert) and answers (question), by path (deterministic, llm, fallback)', ['subject', 'path', 'quantile'], (m, s) => {
    for (const r of s.latency ?? []) for (const [quantile, k] of QUANTILES) m.set({ subject: r.subject, path: r.path, quantile }, r[k] / 1000)
  })
  gauge('warden_assessment_latency_window', 'How many recent assessments the latency quantiles are computed over, by subject and path', ['subject', 'path'], (m, s) => {
    for (const r of s.latency ?? []) m.set({ subject: r.subject, path: r.path }, r.n)
  })
  gauge('warden_proposals', 'Proposals by state', ['status'], (m, s) => {
    if (!s.proposals) return
    for (const status of ProposalStatus.options) m.set({ status }, s.proposals.find((r) => r.status === status)?.n ?? 0)
  })
  gauge('warden_approval_latency_seconds', 'Time from proposal to approval: quantiles over the approved proposals among the most recent ones', ['quantile'], (m, s) => {
    if (s.approvalLatency?.n) for (const [quantile, k] of QUANTILES) m.set({ quantile }, s.approvalLatency[k])
  })
  gauge('warden_approval_latency_window', 'How many approvals the approval latency quantiles are computed over', [], (m, s) => {
    if (s.approvalLatency) m.set(s.approvalLatency.n)
  })
  gauge('warden_ingest_runs', 'Ingestion runs by status', ['status'], (m, s) => {
    if (!s.ingestRuns) return
    for (const status of INGEST_STATUSES) m.set({ status }, s.ingestRuns.find((r) => r.status === status)?.n ?? 0)
  })
  gauge('warden_knowledge_last_complete_ingest_timestamp_seconds', 'When the last complete ingestion run finished (Unix time); absent before the first', [], (m, s) => {
    if (s.lastCompleteIngest != null) m.set(s.lastCompleteIngest)
  })
  gauge('warden_knowledge_last_complete_ingest_age_seconds', 'Knowledge freshness: seconds since the last complete ingestion run finished', [], (m, s) => {
    if (s.lastCompleteIngest != null) m.set(Math.max(0, s.at - s.lastCompleteIngest))
  })
  gauge('warden_knowledge_sources', 'Active knowledge sources by kind', ['kind'], (m, s) => {
    for (const r of s.sources ?? []) m.set({ kind: r.kind }, r.n)
  })
  gauge('warden_jobs', 'Background jobs by kind and status (queue depth: queued, running, failed awaiting retry)', ['kind', 'status'], (m, s) => {
    const kinds = new Set((s.jobs ?? []).map((r) => r.kind))
    for (const kind of kinds) for (const status of JOB_STATUSES) m.set({ kind, status }, s.jobs!.find((r) => r.kind === kind && r.status === status)?.n ?? 0)
  })
  gauge('warden_jobs_oldest_due_age_seconds', 'How long the oldest due, unclaimed job has waited, by kind (queue lag)', ['kind'], (m, s) => {
    for (const r of s.jobsDue ?? []) m.set({ kind: r.kind }, Math.max(0, s.at - r.oldest))
  })
  return { registry, httpDuration, middleware }
}
