import type { Hono } from 'hono'
import { z } from 'zod'
import { getAlert, receiveAlerts } from '../../alerts/receive.js'
import { assessAlert } from '../../assistant/assess.js'
import { getAssessment } from '../../assistant/store.js'
import { requireRole } from '../auth/middleware.js'
import { ApiError } from '../errors.js'
import type { AppDeps, AppEnv } from '../types.js'
import { readJson, validate } from '../validate.js'

export const AlertSourceParam = z.enum(['alertmanager', 'grafana', 'pagerduty', 'generic'])
export const AlertIntakeOutput = z.object({
  format: AlertSourceParam,
  alerts: z.array(z.object({ alertId: z.string(), created: z.boolean(), status: z.enum(['firing', 'resolved']), assessmentId: z.string().nullable() })),
})
export type AlertIntakeOutput = z.infer<typeof AlertIntakeOutput>

export function registerAlertRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.post('/v1/alerts/:source', requireRole('webhook'), async (c) => {
    const source = validate(AlertSourceParam, c.req.param('source'))
    const received = await receiveAlerts({ db: deps.db }, { format: source, payload: await readJson(c) })
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

  app.get('/v1/alerts/:id', requireRole('oncall'), async (c) => {
    const alert = await getAlert(deps.db, c.req.param('id'))
    if (!alert) throw new ApiError('not_found', 'no such alert')
    return c.json(alert)
  })
  app.get('/v1/assessments/:id', requireRole('oncall'), async (c) => {
    const a = await getAssessment(deps.db, c.req.param('id'))
    if (!a) throw new ApiError('not_found', 'no such assessment')
    return c.json(a)
  })
}
