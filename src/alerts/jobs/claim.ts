import { withTransaction, type Database } from '../../db/types.js'
import { markDead } from './complete.js'
import { toJob, type Job } from './types.js'

// Claiming. `FOR UPDATE SKIP LOCKED` lets any number of workers (threads of one process or replicas) pick
// from the same table at once, each getting different rows and nobody waiting on anybody. A claim is a
// lease: status `running`, locked_by, and locked_until = run_at = now + lease. A job whose lease ran out
// (its worker crashed or hung) is due again and the next claim takes it over, counting a new attempt.
// Claims are not audited: a lease is scheduling, not a decision; what a job produces (an assessment) or how
// it ends badly (a failed attempt, a dead job) is.

export interface ClaimOptions {
  workerId: string
  leaseMs: number
  /** Jobs of this kind only. */
  kind: string
  limit?: number
  /** Claim this job only (`?wait=true` runs its own alert's job when nobody else has it). */
  jobId?: string
  now?: Date
}

export async function claimJobs(db: Database, opts: ClaimOptions): Promise<Job[]> {
  const now = opts.now ?? new Date()
  const until = new Date(now.getTime() + opts.leaseMs).toISOString()
  await buryExhausted(db, opts.kind, now, opts.jobId)
  const { rows } = await db.query<Record<string, unknown>>(
    `update jobs set status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2, run_at = $2, updated_at = $3
     where id in (select id from jobs
                  where kind = $4 and status in ('queued', 'failed', 'running') and run_at <= $3 and attempts < max_attempts
                    and ($5::text is null or id = $5)
                  order by run_at, id limit $6 for update skip locked)
     returning *`,
    [opts.workerId, until, now.toISOString(), opts.kind, opts.jobId ?? null, opts.limit ?? 1],
  )
  return rows.map(toJob).sort((a, b) => a.runAt.localeCompare(b.runAt) || a.id.localeCompare(b.id))
}

/**
 * A job whose last allowed attempt lost its lease (the worker died mid-run, e.g. a job that crashes the
 * process) is never retried again: it goes to `dead` with its audit row instead of looping forever.
 */
async function buryExhausted(db: Database, kind: string, now: Date, jobId?: string): Promise<void> {
  // Cheap unlocked probe first: on the hot path there is nothing to bury and no transaction is opened.
  const probe = await db.query<{ id: string }>(
    `select id from jobs where kind = $1 and status = 'running' and run_at <= $2 and attempts >= max_attempts and ($3::text is null or id = $3) limit 1`,
    [kind, now.toISOString(), jobId ?? null],
  )
  if (probe.rows.length === 0) return
  await withTransaction(db, async (tx) => {
    const { rows } = await tx.query<Record<string, unknown>>(
      `select * from jobs where kind = $1 and status = 'running' and run_at <= $2 and attempts >= max_attempts and ($3::text is null or id = $3)
       order by run_at, id limit 100 for update skip locked`,
      [kind, now.toISOString(), jobId ?? null],
    )
    for (const job of rows.map(toJob)) await markDead(tx, job, `lease expired on the last attempt (${job.attempts}/${job.maxAttempts}); worker ${job.lockedBy ?? 'unknown'} did not finish`, now)
  })
}
