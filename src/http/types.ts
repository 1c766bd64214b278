import type { Logger } from 'pino'
import type { AssistantDeps } from '../assistant/assess.js'
import type { Principal } from './auth/roles.js'
import type { Metrics } from './metrics.js'
import type { SlackDeps } from './slack/types.js'

/** Per-request variables every route and middleware can read. */
export type AppEnv = {
  Variables: {
    requestId: string
    logger: Logger
    /** Set by authentication middleware; null on unauthenticated requests. */
    principal: Principal | null
  }
}

/** Everything the HTTP app needs, built once by `warden serve` (or by a test). Only external things are faked. */
export interface AppDeps extends AssistantDeps {
  logger: Logger
  bodyLimitBytes?: number
  clock?: () => Date
  /** `?wait=true` bound for alert intake. */
  assessWaitMs?: number
  /** Assessment job queue: lease for jobs run inline by `?wait=true`, attempts before a job is dead. */
  jobs?: { leaseMs?: number; maxAttempts?: number; backoffMs?: number }
  /** Alert-source authentication besides `webhook` tokens. */
  sources?: { grafanaHmacSecret?: string; pagerdutySecret?: string }
  /** Signs reviewer-UI session cookies; unset → a random key per process (a restart logs everyone out). */
  uiSessionSecret?: string
  /** Slack slash commands and buttons: signing secret and user map. Unset → Slack requests are refused (401). */
  slack?: SlackDeps
  /** Prometheus registry and request timer (src/http/metrics.ts); createApp builds one when absent. */
  metrics?: Metrics
}
