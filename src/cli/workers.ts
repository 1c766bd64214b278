import type { Logger } from 'pino'
import { deliverOutbox } from '../approvals/deliver.js'
import { sweepExpired } from '../approvals/sweep.js'
import { startWorker } from '../alerts/worker.js'
import type { AssistantDeps } from '../assistant/assess.js'
import type { Config } from '../config/env.js'

// The background work of `warden serve`: assessment job workers, the proposal expiry sweeper and, when an
// executor URL is configured, the hand-off deliverer. All three are safe to run on every replica (SKIP LOCKED
// claims and leases), so there is no leader to elect. stop() ends them and waits for work in flight.

/** Hand-off delivery: attempts per outbox row and the first retry delay (doubling), per deliverer pass. */
const DELIVER_MAX_ATTEMPTS = 6
const DELIVER_BACKOFF_MS = 1_000

export interface Loop {
  stop(): Promise<void>
}

/** Runs `fn` now and then every `intervalMs` after each run ends (never overlapping); errors are logged. */
export function every(name: string, intervalMs: number, fn: () => Promise<void>, logger: Logger): Loop {
  let stopping = false
  let cancelSleep = () => {}
  const run = (async () => {
    while (!stopping) {
      try {
        await fn()
      } catch (err) {
        logger.error({ err, loop: name }, 'background loop run failed')
      }
      if (stopping) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs)
        cancelSleep = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  })()
  return {
    async stop() {
      stopping = true
      cancelSleep()
      await run
    },
  }
}

export function startBackgroundWork(input: { deps: AssistantDeps; config: Config; logger: Logger }): Loop {
  const { deps, config, logger } = input
  const env = config.env
  const worker =
    env.WARDEN_WORKER_CONCURRENCY > 0
      ? startWorker(deps, { concurrency: env.WARDEN_WORKER_CONCURRENCY, leaseMs: env.WARDEN_JOB_LEASE_MS, logger: logger.child({ component: 'jobs' }) })
      : null
  const sweeper = every('sweeper', env.WARDEN_SWEEP_INTERVAL_MS, async () => {
    const { expired } = await sweepExpired({ db: deps.db })
    if (expired.length) logger.info({ expired: expired.map((p) => p.id) }, 'expired overdue proposals')
  }, logger)
  const executor = config.executor
  const deliverer = executor
    ? every('deliverer', env.WARDEN_DELIVER_INTERVAL_MS, async () => {
        const s = await deliverOutbox({ db: deps.db }, { url: executor.url, secret: executor.secret, maxAttempts: DELIVER_MAX_ATTEMPTS, backoffMs: DELIVER_BACKOFF_MS })
        if (s.attempts) logger.info({ delivered: s.delivered, failed: s.failed, attempts: s.attempts }, 'hand-off delivery pass')
      }, logger)
    : null
  logger.info({ workers: env.WARDEN_WORKER_CONCURRENCY, workerId: worker?.id, sweepMs: env.WARDEN_SWEEP_INTERVAL_MS, deliverer: executor ? 'on' : 'off' }, 'background work started')
  return {
    async stop() {
      await Promise.all([worker?.stop(), sweeper.stop(), deliverer?.stop()])
    },
  }
}
