import { randomBytes } from 'node:crypto'
import os from 'node:os'
import type { Logger } from 'pino'
import { assessAlert, type AssistantDeps } from '../assistant/assess.js'
import type { Queryable } from '../db/types.js'
import { claimJobs } from './jobs/claim.js'
import { completeJob, extendLease, failJob, type BackoffOptions } from './jobs/complete.js'
import { getJob } from './jobs/enqueue.js'
import { ASSESS_ALERT, type Job } from './jobs/types.js'

// Runs queued assessment jobs. Each of `concurrency` slots claims one job at a time, runs assessAlert (itself
// idempotent per alert: a job retried after a crash, or raced by `?wait=true`, finds the first assessment and
// completes without a second one), renews its lease while the job runs, then completes or fails it. Idle slots
// poll; `wake()` cuts the wait short. `stop()` lets in-flight jobs finish and returns when every slot is idle.

export interface RunOptions extends BackoffOptions {
  leaseMs: number
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>
}

export interface WorkerOptions extends RunOptions {
  concurrency: number
  /** Idle poll interval when the queue is empty. */
  pollMs?: number
  workerId?: string
}

export type JobOutcome = 'done' | 'retry' | 'dead' | 'lost_lease'

export interface Worker {
  id: string
  wake(): void
  stop(): Promise<void>
  stats(): Record<JobOutcome, number>
}

export const defaultWorkerId = () => `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref?.())

/** What a job does, by kind. Only assessments today; an unknown kind fails (and ends up dead, audited). */
async function runJob(deps: AssistantDeps, job: Job): Promise<Record<string, unknown>> {
  if (job.kind === ASSESS_ALERT) {
    const alertId = job.payload.alertId
    if (typeof alertId !== 'string') throw new Error('payload has no alertId')
    const a = await assessAlert(deps, alertId)
    return { assessmentId: a.id, outcome: a.outcome }
  }
  throw new Error(`no runner for job kind ${job.kind}`)
}

/** Runs one claimed job to its end state. Never throws for a job failure; DB errors while recording do. */
export async function processJob(deps: AssistantDeps, job: Job, opts: RunOptions): Promise<JobOutcome> {
  // Renew well before the lease ends so a slow model call is not mistaken for a dead worker.
  const heartbeat = setInterval(() => {
    extendLease(deps.db, job, opts.leaseMs).catch((err) => opts.logger?.warn({ err, jobId: job.id }, 'could not extend job lease'))
  }, Math.max(200, Math.floor(opts.leaseMs / 3)))
  heartbeat.unref?.()
  let result: Record<string, unknown>
  try {
    result = await runJob(deps, job)
  } catch (err) {
    clearInterval(heartbeat)
    const outcome = await failJob(deps.db, job, err, opts)
    opts.logger?.warn({ err, jobId: job.id, kind: job.kind, attempts: job.attempts, outcome }, 'job attempt failed')
    return outcome
  }
  clearInterval(heartbeat)
  return (await completeJob(deps.db, job, result)) ? 'done' : 'lost_lease'
}

export function startWorker(deps: AssistantDeps, opts: WorkerOptions): Worker {
  const id = opts.workerId ?? defaultWorkerId()
  const pollMs = opts.pollMs ?? 1000
  const counts: Record<JobOutcome, number> = { done: 0, retry: 0, dead: 0, lost_lease: 0 }
  const sleepers = new Set<() => void>()
  let stopping = false

  const idle = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        sleepers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, pollMs)
      sleepers.add(done)
    })

  async function slot(slotId: string): Promise<void> {
    while (!stopping) {
      let job: Job | undefined
      try {
        ;[job] = await claimJobs(deps.db, { workerId: slotId, leaseMs: opts.leaseMs, kind: ASSESS_ALERT, limit: 1 })
      } catch (err) {
        // The database is down or restarting: back off and try again; nothing is lost, jobs wait in the table.
        opts.logger?.error({ err, worker: slotId }, 'claiming jobs failed')
      }
      if (!job) {
        await idle()
        continue
      }
      try {
        counts[await processJob(deps, job, opts)]++
      } catch (err) {
        // Recording the outcome failed; the lease runs out and another attempt follows.
        opts.logger?.error({ err, jobId: job.id }, 'recording a job outcome failed')
      }
    }
  }

  const slots = Array.from({ length: opts.concurrency }, (_, i) => slot(`${id}/${i}`))
  const wake = () => {
    for (const s of [...sleepers]) s()
  }
  return {
    id,
    wake,
    stats: () => ({ ...counts }),
    async stop() {
      stopping = true
      wake()
      await Promise.all(slots)
    },
  }
}

/** Polls a job until it is done or dead, or `timeoutMs` has passed; returns it as last seen (null: no such job). */
export async function waitForJob(db: Queryable, jobId: string, timeoutMs: number): Promise<Job | null> {
  const deadline = Date.now() + timeoutMs
  let pause = 10
  for (;;) {
    const job = await getJob(db, jobId)
    if (!job || job.status === 'done' || job.status === 'dead') return job
    const left = deadline - Date.now()
    if (left <= 0) return job
    await sleep(Math.min(pause, left))
    pause = Math.min(pause * 2, 250)
  }
}

/**
 * `?wait=true`: if nobody holds the job, claim and run it here (so a lone process without workers still
 * answers with an assessment); otherwise wait for whoever has it. Bounded by `timeoutMs` either way; a job
 * still running at the deadline keeps running and completes on its own. The claim makes this exclusive with
 * the workers: no job is processed twice at once.
 */
export async function runOrWait(deps: AssistantDeps, jobId: string, timeoutMs: number, opts: RunOptions & { workerId: string }): Promise<Job | null> {
  const deadline = Date.now() + timeoutMs
  if (timeoutMs > 0) {
    const [mine] = await claimJobs(deps.db, { workerId: opts.workerId, leaseMs: opts.leaseMs, kind: ASSESS_ALERT, jobId, limit: 1 })
    if (mine) {
      const run = processJob(deps, mine, opts).catch((err) => {
        opts.logger?.error({ err, jobId }, 'recording a job outcome failed')
      })
      let timer: NodeJS.Timeout | undefined
      await Promise.race([run, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))])
      clearTimeout(timer)
    }
  }
  return waitForJob(deps.db, jobId, Math.max(0, deadline - Date.now()))
}
