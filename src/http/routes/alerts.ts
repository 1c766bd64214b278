import type { Hono } from 'hono'
import { z } from 'zod'
import type { Job } from '../../alerts/jobs/types.js'
import { getAlert, receiveAlerts } from '../../alerts/receive.js'
import { defaultWorkerId, runOrWait } from '../../alerts/worker.js'
import { ResolvedCitation, resolveCitations } from '../../assistant/citations.js'
import { getAssessment } from '../../assistant/store.js'
import { Draft, EvidencePack } from '../../assistant/types.js'
import { requireRole } from '../auth/middleware.js'
import { authenticateSource } from '../auth/sources.js'
import { ApiError } from '../errors.js'
import type { AppDeps, AppEnv } from '../types.js'
import { storableJson, validate } from '../validate.js'

// Alert intake. The request stores the alert(s) and, in the same transaction, queues one assessment job per
// firing alert; workers do the assessing (src/alerts/worker.ts). So intake stays fast and a restart loses
// nothing. `?wait=true` waits (bounded by assessWaitMs) for the assessment, running the job itself when no
// worker has it. Resolved deliveries are recorded, never assessed.

export const AlertSourceParam = z.enum(['alertmanager', 'grafana', 'pagerduty', 'generic'])
export const JobStatusOutput = z.enum(['queued', 'running', 'done', 'failed', 'dead'])
export const AlertIntakeOutput = z.object({
  format: AlertSourceParam,
  alerts: z.array(
    z.object({
      alertId: z.string(),
      created: z.boolean(),
      status: z.enum(['firing', 'resolved']),
      /** The alert's assessment job; null for an alert that is (and was first stored as) resolved. */
      jobId: z.string().nullable(),
      jobStatus: JobStatusOutput.nullable(),
      /** Set once the job is done (at once for a re-delivered, already assessed alert; with `?wait=true`). */
      assessmentId: z.string().nullable(),
      /** True while an assessment is queued or running: poll GET /v1/alerts/:id or re-deliver with ?wait=true. */
      pending: z.boolean(),
    }),
  ),
})
export type AlertIntakeOutput = z.infer<typeof AlertIntakeOutput>

/**
 * An assessment as stored (classification, draft, evidence pack, guard interventions, provenance) plus
 * `citations`: every ref its draft cites, resolved to source URI, heading path and passage.
 */
export const AssessmentOutput = z.looseObject({
  id: z.string(),
  alertId: z.string().nullable(),
  outcome: z.enum(['assessed', 'unsure', 'refused']),
  draft: Draft,
  evidencePack: EvidencePack,
  citations: z.array(ResolvedCitation),
})
export type AssessmentOutput = z.infer<typeof AssessmentOutput>

export const DEFAULT_ASSESS_WAIT_MS = 25_000
export const DEFAULT_JOB_MAX_ATTEMPTS = 5
export const DEFAULT_JOB_LEASE_MS = 60_000

/** The body as JSON from its exact bytes (invalid UTF-8 is not JSON), or 400 `invalid_json`. */
function parseBody(raw: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw))
  } catch {
    throw new ApiError('invalid_json', 'request body is not valid JSON')
  }
}

const assessmentOf = (job: Pick<Job, 'status' | 'result'> | null) =>
  job?.status === 'done' && typeof job.result?.assessmentId === 'string' ? job.result.assessmentId : null

export function registerAlertRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  // One id per process for jobs this process runs inline for `?wait=true` (claims are per job, so one id is enough).
  const inlineWorkerId = `${defaultWorkerId()}/inline`
  const leaseMs = deps.jobs?.leaseMs ?? DEFAULT_JOB_LEASE_MS
  const maxAttempts = deps.jobs?.maxAttempts ?? DEFAULT_JOB_MAX_ATTEMPTS

  app.post('/v1/alerts/:source', async (c) => {
    const source = validate(AlertSourceParam, c.req.param('source'))
    // The exact bytes, read once: signatures are over them, and JSON is parsed from them only once verified.
    const raw = new Uint8Array(await c.req.arrayBuffer())
    const auth = authenticateSource({ source, header: (n) => c.req.header(n), body: raw, bearer: c.get('principal'), secrets: deps.sources, now: deps.clock?.() ?? new Date() })
    if (!auth.ok) throw new ApiError(auth.code, auth.message)
    c.set('principal', auth.principal)
    const payload = storableJson(parseBody(raw))

    const jobs = new Map<string, Job>()
    const received = await receiveAlerts(
      {
        db: deps.db,
        clock: deps.clock,
        actor: auth.principal.via.startsWith('source:') ? `webhook:${source}` : `webhook:${source}:${auth.principal.identity}`,
        // Each firing alert's job is queued by the statement that stores the alert (same transaction).
        assess: { maxAttempts },
      },
      { format: source, payload },
    )
    if (!received.ok) throw new ApiError('validation_failed', received.error.message, received.error.issues)
    for (const a of received.alerts) if (a.job) jobs.set(a.alertId, a.job)

    if (c.req.query('wait') === 'true') {
      const waitMs = deps.assessWaitMs ?? DEFAULT_ASSESS_WAIT_MS
      const log = c.get('logger')
      const open = [...jobs.entries()].filter(([, j]) => j.status !== 'done' && j.status !== 'dead')
      const settled = await Promise.all(
        open.map(([alertId, j]) => runOrWait(deps, j.id, waitMs, { leaseMs, backoffMs: deps.jobs?.backoffMs, workerId: inlineWorkerId, logger: log }).then((job) => [alertId, job] as const)),
      )
      for (const [alertId, job] of settled) if (job) jobs.set(alertId, job)
    }

    const alerts = received.alerts.map((a) => {
      const job = jobs.get(a.alertId) ?? null
      const assessmentId = assessmentOf(job)
      return { alertId: a.alertId, created: a.created, status: a.status, jobId: job?.id ?? null, jobStatus: job?.status ?? null, assessmentId, pending: job !== null && assessmentId === null && job.status !== 'dead' }
    })
    return c.json(AlertIntakeOutput.parse({ format: received.format, alerts }), 202)
  })

  app.get('/v1/alerts/:id', requireRole('oncall'), async (c) => {
    const alert = await getAlert(deps.db, c.req.param('id'))
    if (!alert) throw new ApiError('not_found', 'no such alert')
    return c.json(alert)
  })
  app.get('/v1/assessments/:id', requireRole('oncall'), async (c) => {
    const a = await getAssessment(deps.db, c.req.param('id'))
    if (!a) throw new ApiError('not_found', 'no such assessment')
    return c.json({ ...a, citations: resolveCitations(a.draft, a.evidencePack) } satisfies AssessmentOutput)
  })
}
