import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import type { Logger } from 'pino'
import { z } from 'zod'
import { getAlert, receiveAlerts } from '../alerts/receive.js'
import { ask, AskInput } from '../assistant/ask.js'
import { assessAlert, type AssistantDeps } from '../assistant/assess.js'
import { getAssessment } from '../assistant/store.js'
import { pendingMigrations } from '../db/migrate.js'
import { search, SearchInput } from '../knowledge/search.js'
import { lastCompleteRun } from '../../ingest/runs.js'
import { ApiError, errorBody, onError } from './errors.js'

// Thin routes: validate, call a domain verb, map errors. Authentication, the durable job queue, Slack and
// the reviewer UI build on this app.

export interface AppDeps extends AssistantDeps {
  logger: Logger
  bodyLimitBytes?: number
}

type Env = { Variables: { requestId: string; logger: Logger } }

export const AlertSourceParam = z.enum(['alertmanager', 'grafana', 'pagerduty', 'generic'])
export const AlertIntakeOutput = z.object({
  format: AlertSourceParam,
  alerts: z.array(z.object({ alertId: z.string(), created: z.boolean(), status: z.enum(['firing', 'resolved']), assessmentId: z.string().nullable() })),
})

export function createApp(deps: AppDeps) {
  const app = new Hono<Env>()
  app.use(requestId())
  app.use(async (c, next) => {
    const t0 = performance.now()
    const log = deps.logger.child({ requestId: c.get('requestId') })
    c.set('logger', log)
    await next()
    log.info({ method: c.req.method, route: c.req.routePath, status: c.res.status, durationMs: Math.round((performance.now() - t0) * 10) / 10 }, 'request completed')
  })
  app.use(bodyLimit({ maxSize: deps.bodyLimitBytes ?? 1024 * 1024, onError: (c) => errorBody(c, 'payload_too_large', `request body exceeds ${deps.bodyLimitBytes ?? 1024 * 1024} bytes`) }))
  app.onError(onError)
  app.notFound((c) => errorBody(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`))

  const json = async (c: { req: { json(): Promise<unknown> } }) => {
    try {
      return await c.req.json()
    } catch {
      throw new ApiError('invalid_json', 'request body is not valid JSON')
    }
  }
  const validate = <S extends z.ZodType>(schema: S, value: unknown): z.infer<S> => {
    const r = schema.safeParse(value)
    if (!r.success) throw new ApiError('validation_failed', 'request does not match the schema', r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })))
    return r.data
  }

  app.get('/healthz', (c) => c.json({ status: 'ok' }))
  app.get('/readyz', async (c) => {
    const checks: Record<string, unknown> = {}
    try {
      await deps.db.query('select 1')
      checks.database = 'ok'
      const pending = await pendingMigrations(deps.db)
      checks.migrations = pending.length ? { pending } : 'ok'
      const run = await lastCompleteRun(deps.db)
      checks.knowledge = run ? { lastCompleteRun: run.id, finishedAt: run.finished_at } : 'empty'
    } catch {
      checks.database = 'unreachable'
    }
    checks.policy = { version: deps.reference.policy.version, sha256: deps.reference.policy.sha256 }
    const ready = checks.database === 'ok' && checks.migrations === 'ok'
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503)
  })

  app.get('/v1/search', async (c) => {
    const q = c.req.query()
    const input = validate(SearchInput, { query: q.q ?? q.query, service: q.service, team: q.team, kind: q.kind, k: q.k ? Number(q.k) : undefined, mode: q.mode })
    return c.json({ hits: await search({ db: deps.db, embedder: deps.embedder, efSearch: deps.settings?.efSearch }, input) })
  })

  app.post('/v1/ask', async (c) => c.json(await ask(deps, validate(AskInput, await json(c)))))

  app.post('/v1/alerts/:source', async (c) => {
    const source = validate(AlertSourceParam, c.req.param('source'))
    const received = await receiveAlerts({ db: deps.db }, { format: source, payload: await json(c) })
    if (!received.ok) throw new ApiError('validation_failed', received.error.message, received.error.issues)
    const wait = c.req.query('wait') === 'true'
    const alerts = []
    for (const a of received.alerts) {
      let assessmentId: string | null = null
      if (a.needsAssessment) {
        const job = assessAlert(deps, a.alertId)
        if (wait) assessmentId = (await job).id
        else job.catch((err) => c.get('logger').error({ err, alertId: a.alertId }, 'assessment failed'))
      }
      alerts.push({ ...a, assessmentId })
    }
    return c.json(AlertIntakeOutput.parse({ format: received.format, alerts }), 202)
  })

  app.get('/v1/alerts/:id', async (c) => {
    const alert = await getAlert(deps.db, c.req.param('id'))
    if (!alert) throw new ApiError('not_found', 'no such alert')
    return c.json(alert)
  })
  app.get('/v1/assessments/:id', async (c) => {
    const a = await getAssessment(deps.db, c.req.param('id'))
    if (!a) throw new ApiError('not_found', 'no such assessment')
    return c.json(a)
  })
  return app
}
