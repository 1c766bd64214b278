import type { Hono } from 'hono'
import { pendingMigrations } from '../../db/migrate.js'
import { lastCompleteRun } from '../../../ingest/runs.js'
import type { AppDeps, AppEnv } from '../types.js'

// Unauthenticated: load balancers and orchestrators probe these.
export function registerHealthRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
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
    } catch (err) {
      c.get('logger').warn({ err }, 'readiness check failed')
      checks.database = 'unreachable'
    }
    checks.policy = { version: deps.reference.policy.version, sha256: deps.reference.policy.sha256 }
    const ready = checks.database === 'ok' && checks.migrations === 'ok'
    return c.json({ status: ready ? 'ready' : 'not_ready', checks }, ready ? 200 : 503)
  })
}
