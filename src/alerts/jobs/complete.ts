import { appendAudit } from '../../audit/append.js'
import { withTransaction, type Queryable, type Transaction } from '../../db/types.js'
import { JOBS_ACTOR, scrubError, toJob, type Job } from './types.js'

// Ending an attempt. Every write is guarded by the claim (id, running, locked_by, attempts): a worker that
// lost its lease gets `lost_lease` and changes nothing. A failure is retried after an exponential backoff
// until max_attempts, then the job is `dead`. Failed attempts and dead jobs are audited (same transaction);
// success is not audited here because its product is (assessAlert writes `assessment.created`).

export interface BackoffOptions {
  /** Wait after the first failed attempt; doubles after each further one. */
  backoffMs?: number
  maxBackoffMs?: number
}
export const DEFAULT_BACKOFF_MS = 2_000
export const DEFAULT_MAX_BACKOFF_MS = 5 * 60_000

const CLAIM_GUARD = `id = $1 and status = 'running' and locked_by = $2 and attempts = $3`
const claimParams = (job: Job) => [job.id, job.lockedBy, job.attempts]

export function backoffDelay(attempts: number, opts: BackoffOptions = {}): number {
  const base = opts.backoffMs ?? DEFAULT_BACKOFF_MS
  return Math.min(opts.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS, base * 2 ** Math.max(0, attempts - 1))
}

/** Marks the claimed job done with its result; false when the claim is no longer ours. */
export async function completeJob(q: Queryable, job: Job, result: Record<string, unknown>, now: Date = new Date()): Promise<boolean> {
  const { rows } = await q.query(
    `update jobs set status = 'done', result = $4, locked_by = null, locked_until = null, last_error = null, updated_at = $5
     where ${CLAIM_GUARD} returning id`,
    [...claimParams(job), JSON.stringify(result), now.toISOString()],
  )
  return rows.length === 1
}

/** Pushes the lease of a job still being worked on; false when the claim is no longer ours. */
export async function extendLease(q: Queryable, job: Job, leaseMs: number, now: Date = new Date()): Promise<boolean> {
  const until = new Date(now.getTime() + leaseMs).toISOString()
  const { rows } = await q.query(`update jobs set locked_until = $4, run_at = $4, updated_at = $5 where ${CLAIM_GUARD} returning id`, [...claimParams(job), until, now.toISOString()])
  return rows.length === 1
}

export type FailOutcome = 'retry' | 'dead' | 'lost_lease'

/** Records a failed attempt: `failed` with a backoff until the next try, or `dead` after the last one. */
export async function failJob(q: Queryable, job: Job, err: unknown, opts: BackoffOptions = {}, now: Date = new Date()): Promise<FailOutcome> {
  const error = scrubError(err)
  return withTransaction(q, async (tx) => {
    const held = await tx.query<Record<string, unknown>>(`select * from jobs where ${CLAIM_GUARD} for update`, claimParams(job))
    if (!held.rows[0]) return 'lost_lease'
    const current = toJob(held.rows[0])
    if (current.attempts >= current.maxAttempts) {
      await markDead(tx, current, error, now)
      return 'dead'
    }
    const next = new Date(now.getTime() + backoffDelay(current.attempts, opts))
    await tx.query(
      `update jobs set status = 'failed', run_at = $2, locked_by = null, locked_until = null, last_error = $3, updated_at = $4 where id = $1`,
      [job.id, next.toISOString(), error, now.toISOString()],
    )
    await appendAudit(tx, { actor: JOBS_ACTOR, action: 'job.attempt_failed', subject: `job:${job.id}`, data: { kind: job.kind, payload: job.payload, attempts: current.attempts, max_attempts: current.maxAttempts, error, next_attempt_at: next.toISOString() } }, now)
    return 'retry'
  })
}

/** Gives up on a job the caller has locked (row first, audit row last, as everywhere). */
export async function markDead(tx: Transaction, job: Job, error: string, now: Date): Promise<void> {
  await tx.query(
    `update jobs set status = 'dead', locked_by = null, locked_until = null, last_error = $2, updated_at = $3 where id = $1`,
    [job.id, error.slice(0, 500), now.toISOString()],
  )
  await appendAudit(tx, { actor: JOBS_ACTOR, action: 'job.dead', subject: `job:${job.id}`, data: { kind: job.kind, payload: job.payload, attempts: job.attempts, max_attempts: job.maxAttempts, error } }, now)
}
