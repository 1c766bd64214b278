import { randomBytes } from 'node:crypto'
import type { Queryable } from '../../db/types.js'
import { ASSESS_ALERT, toJob, type Job } from './types.js'

// Enqueueing is idempotent per (kind, dedupe key): a re-delivered alert finds the job its first delivery
// queued, whatever state that job is in, and never queues a second one. Called with the transaction that
// stores the alert, so a stored firing alert always has its job (and a rolled-back delivery has neither).
// Not audited on its own: the `alert.received` row written in the same transaction records the delivery,
// and the job it implies is fully determined by it (kind assess_alert, key = alert id).

export interface EnqueueInput {
  kind: string
  dedupeKey: string
  payload: Record<string, unknown>
  maxAttempts: number
  runAt?: Date
}

export const newJobId = () => `job_${randomBytes(8).toString('hex')}`

/** The job for (kind, dedupeKey): newly queued (`created`) or the existing one as it stands. */
export async function enqueueJob(q: Queryable, input: EnqueueInput, now: Date = new Date()): Promise<{ job: Job; created: boolean }> {
  const at = now.toISOString()
  const inserted = await q.query<Record<string, unknown>>(
    `insert into jobs (id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at, created_at, updated_at)
     values ($1, $2, $3, $4, 'queued', 0, $5, $6, $7, $7)
     on conflict (kind, dedupe_key) do nothing returning *`,
    [newJobId(), input.kind, JSON.stringify(input.payload), input.dedupeKey, input.maxAttempts, (input.runAt ?? now).toISOString(), at],
  )
  if (inserted.rows[0]) return { job: toJob(inserted.rows[0]), created: true }
  const existing = await q.query<Record<string, unknown>>('select * from jobs where kind = $1 and dedupe_key = $2', [input.kind, input.dedupeKey])
  return { job: toJob(existing.rows[0]!), created: false }
}

/** The assessment job of a stored alert. */
export function enqueueAssessment(q: Queryable, alertId: string, opts: { maxAttempts: number }, now?: Date) {
  return enqueueJob(q, { kind: ASSESS_ALERT, dedupeKey: alertId, payload: { alertId }, maxAttempts: opts.maxAttempts }, now)
}

export async function getJob(q: Queryable, id: string): Promise<Job | null> {
  const { rows } = await q.query<Record<string, unknown>>('select * from jobs where id = $1', [id])
  return rows[0] ? toJob(rows[0]) : null
}
