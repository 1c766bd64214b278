import { Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { requestId } from 'hono/request-id'
import { bearerAuth } from './auth/middleware.js'
import { ApiError, errorBody, onError } from './errors.js'
import { createMetrics, routeLabel } from './metrics.js'
import { registerOpenApiRoute } from './openapi.js'
import { registerAlertRoutes } from './routes/alerts.js'
import { registerAuditRoutes } from './routes/audit.js'
import { registerHandoffRoutes } from './routes/handoffs.js'
import { registerHealthRoutes } from './routes/health.js'
import { registerKnowledgeRoutes } from './routes/knowledge.js'
import { registerMetricsRoute } from './routes/metrics.js'
import { registerProposalRoutes } from './routes/proposals.js'
import { registerSlackRoutes } from './routes/slack.js'
import { registerTokenRoutes } from './routes/tokens.js'
import type { AppDeps, AppEnv } from './types.js'
import { registerUiRoutes } from './ui/index.js'

// Thin routes: validate, authorise, call a domain verb, map errors. Route groups live in routes/*.ts and
// each exports the zod schemas it validates with, for tests and the OpenAPI document.

export type { AppDeps, AppEnv } from './types.js'
export { AlertIntakeOutput, AlertSourceParam } from './routes/alerts.js'

export function createApp(deps: AppDeps) {
  const app = new Hono<AppEnv>()
  const limit = deps.bodyLimitBytes ?? 1024 * 1024
  const metrics = deps.metrics ?? createMetrics({ db: deps.db, logger: deps.logger, clock: deps.clock })
  app.use(requestId())
  app.use(async (c, next) => {
    const t0 = performance.now()
    const log = deps.logger.child({ requestId: c.get('requestId') })
    c.set('logger', log)
    c.set('principal', null)
    await next()
    // Who and how it ended, never with what credential (the logger redacts, and the token is not logged at all).
    const status = c.res.status
    const outcome = status < 400 ? 'ok' : status === 401 || status === 403 ? 'denied' : status < 500 ? 'rejected' : 'error'
    const principal = c.get('principal')
    log.info({ method: c.req.method, route: routeLabel(c), status, outcome, errorCode: c.error instanceof ApiError ? c.error.code : undefined, principal: principal?.identity ?? null, via: principal?.via, durationMs: Math.round((performance.now() - t0) * 10) / 10 }, 'request completed')
  })
  app.use(metrics.middleware)
  app.use(bodyLimit({ maxSize: limit, onError: (c) => errorBody(c, 'payload_too_large', `request body exceeds ${limit} bytes`) }))
  app.use('/v1/*', bearerAuth(deps.db))
  app.onError(onError)
  app.notFound((c) => errorBody(c, 'not_found', `no route for ${c.req.method} ${c.req.path}`))

  registerHealthRoutes(app, deps)
  registerMetricsRoute(app, metrics)
  registerKnowledgeRoutes(app, deps)
  registerAlertRoutes(app, deps)
  registerProposalRoutes(app, deps)
  registerHandoffRoutes(app, deps)
  registerAuditRoutes(app, deps)
  registerTokenRoutes(app, deps)
  registerOpenApiRoute(app)
  registerUiRoutes(app, deps)
  registerSlackRoutes(app, deps)
  return app
}
