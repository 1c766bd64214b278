import { randomBytes } from 'node:crypto'
import { appendAuditRows, type AuditEntry } from '../audit/append.js'
import type { Database, Transaction } from '../db/types.js'
import { newJobId } from './jobs/enqueue.js'
import { ASSESS_ALERT, toJob, type Job } from './jobs/types.js'
import { dedupKey, normalizeAlert } from './normalize/index.js'
import type { AlertSource, CanonicalAlert } from './types.js'

// Alert intake: normalize, then store idempotently. The same alert delivered again (same source,
// fingerprint and start) maps to the same row; a resolved delivery updates the status and is never re-assessed.

export interface ReceivedAlert {
  alertId: string
  created: boolean
  status: 'firing' | 'resolved'
  /** True only for a newly stored firing alert: everything else already has, or must not get, an assessment. */
  needsAssessment: boolean
  /**
   * With `assess`: the alert's assessment job (queued with it, or the one an earlier delivery queued); null for
   * an alert that is resolved. Absent without `assess`.
   */
  job?: Job | null
}

export type ReceiveResult =
  | { ok: true; format: AlertSource; alerts: ReceivedAlert[] }
  | { ok: false; error: { code: 'invalid_payload'; message: string; issues: Array<{ path: string; message: string }> } }

export const newId = (prefix: string) => `${prefix}_${randomBytes(8).toString('hex')}`

export async function receiveAlerts(
  deps: {
    db: Database
    clock?: () => Date
    actor?: string
    /** Runs in the storing transaction after each alert (e.g. enqueue its assessment): the two commit together. */
    onStored?: (tx: Transaction, alert: ReceivedAlert) => Promise<void>
    /**
     * Queue an assessment job for every firing alert in the same statement that stores it (one round trip
     * instead of two); idempotent per alert like enqueueAssessment: a re-delivery finds the first job.
     */
    assess?: { maxAttempts: number }
  },
  input: { format: AlertSource | 'auto'; payload: unknown },
): Promise<ReceiveResult> {
  const normalized = normalizeAlert(input.format, input.payload)
  if (!normalized.ok) return normalized
  const now = deps.clock?.() ?? new Date()
  const actor = deps.actor ?? `webhook:${normalized.format}`
  // All alerts of one delivery are stored together or not at all.
  const alerts = await deps.db.transaction(async (tx) => {
    const out: ReceivedAlert[] = []
    const audit: AuditEntry[] = []
    for (const a of normalized.alerts) {
      const { stored, entry } = await storeAlert(tx, a, input.payload, now, actor, deps.assess)
      await deps.onStored?.(tx, stored)
      out.push(stored)
      audit.push(entry)
    }
    // The audit rows go last, in one statement: the audit lock is held from there to COMMIT and every other
    // writer waits on it, so the inserts above (and the enqueues) run in parallel with other deliveries.
    await appendAuditRows(tx, audit, now)
    return out
  })
  await flushedToDisk(deps.db)
  return { ok: true, format: normalized.format, alerts }
}

/**
 * Why intake commits asynchronously and then waits here. The audit lock is held until the transaction ends,
 * and a synchronous COMMIT ends only after its WAL is flushed: every intake would wait for one disk flush
 * per earlier delivery, one after another (fdatasync ~2.7 ms on the bench machine caps that near 350/s
 * before any other work). The storing transaction therefore sets synchronous_commit off (see storeAlert):
 * its COMMIT releases the lock as soon as the commit record is written. Before the caller may acknowledge
 * the delivery, this waits for the flush with a tiny transaction that writes WAL and commits synchronously
 * (a transactional logical message, ignored by everything but logical decoding): its commit record lies
 * after ours, so once it is flushed ours is too, and concurrent deliveries share flushes (group commit).
 * A transaction that only takes an xid would not do: with no WAL of its own it commits without a flush.
 * A crash before the flush loses the delivery whole (alert, job and audit row, and anything later in the
 * WAL that depends on it, so the chain stays a prefix), never a delivery that was acknowledged.
 */
async function flushedToDisk(db: Database): Promise<void> {
  await db.query("select pg_logical_emit_message(true, 'warden', 'intake')")
}

async function storeAlert(tx: Transaction, a: CanonicalAlert, payload: unknown, now: Date, actor: string, assess?: { maxAttempts: number }): Promise<{ stored: ReceivedAlert; entry: AuditEntry }> {
  const at = now.toISOString()
  // The job insert reads the alert's id and status from the alert insert (data-modifying CTE), so a new
  // firing alert and its job cost one round trip; $16 null (no `assess`) leaves jobs alone. toJob ignores the
  // extra columns (commit_mode, alert_*).
  const { rows } = await tx.query<Record<string, unknown> & { alert_id: string; alert_status: 'firing' | 'resolved'; inserted: boolean }>(
    `with a as (
       insert into alerts (id, source, dedup_key, fingerprint, status, name, labels, annotations, summary, description,
                           starts_at, links, severity, payload, received_at, resolved_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, case when $5 = 'resolved' then $15::timestamptz end)
       on conflict (dedup_key) do update set
         deliveries = alerts.deliveries + 1,
         status = case when excluded.status = 'resolved' then 'resolved' else alerts.status end,
         resolved_at = case when excluded.status = 'resolved' and alerts.status = 'firing' then excluded.received_at else alerts.resolved_at end
       returning id, status, (xmax = 0) as inserted
     ), j as (
       insert into jobs (id, kind, payload, dedupe_key, status, attempts, max_attempts, run_at, created_at, updated_at)
       select $17, $18, jsonb_build_object('alertId', a.id), a.id, 'queued', 0, $16, $15, $15, $15 from a
       where $16::int is not null and a.status = 'firing'
       on conflict (kind, dedupe_key) do nothing
       returning *
     )
     -- Asynchronous commit for this transaction only (set_config local), rather than one more round trip;
     -- receiveAlerts waits for the flush before it returns (flushedToDisk).
     select set_config('synchronous_commit', 'off', true) as commit_mode, a.id as alert_id, a.status as alert_status, a.inserted, j.* from a left join j on true`,
    [newId('al'), a.source, dedupKey(a), a.fingerprint, a.status, a.name, JSON.stringify(a.labels), JSON.stringify(a.annotations), a.summary, a.description, a.startsAt, JSON.stringify(a.links), a.severity, JSON.stringify(payload), at, assess?.maxAttempts ?? null, newJobId(), ASSESS_ALERT],
  )
  const row = rows[0]!
  const stored: ReceivedAlert = { alertId: row.alert_id, created: row.inserted, status: row.alert_status, needsAssessment: row.inserted && row.alert_status === 'firing' }
  if (assess) {
    if (row.id) stored.job = toJob(row)
    else if (row.alert_status === 'firing') {
      // The job an earlier delivery queued: a separate statement, whose fresh snapshot also sees one committed
      // by a concurrent first delivery this statement waited for.
      const existing = await tx.query<Record<string, unknown>>('select * from jobs where kind = $1 and dedupe_key = $2', [ASSESS_ALERT, row.alert_id])
      stored.job = existing.rows[0] ? toJob(existing.rows[0]) : null
    } else stored.job = null
  }
  const action = row.inserted ? 'alert.received' : a.status === 'resolved' ? 'alert.resolved' : 'alert.redelivered'
  return { stored, entry: { actor, action, subject: `alert:${row.alert_id}`, data: { source: a.source, fingerprint: a.fingerprint, name: a.name, status: row.alert_status } } }
}

export interface AlertRow extends CanonicalAlert {
  id: string
  deliveries: number
  receivedAt: string
  resolvedAt: string | null
}

export async function getAlert(db: Pick<Database, 'query'>, id: string): Promise<AlertRow | null> {
  const { rows } = await db.query<Record<string, unknown>>('select * from alerts where id = $1', [id])
  const r = rows[0]
  if (!r) return null
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null)
  return {
    id: r.id as string,
    source: r.source as AlertSource,
    fingerprint: r.fingerprint as string,
    status: r.status as 'firing' | 'resolved',
    name: r.name as string,
    labels: r.labels as Record<string, string>,
    annotations: r.annotations as Record<string, string>,
    summary: r.summary as string,
    description: r.description as string,
    startsAt: iso(r.starts_at),
    links: r.links as string[],
    severity: (r.severity as string | null) ?? null,
    deliveries: r.deliveries as number,
    receivedAt: iso(r.received_at)!,
    resolvedAt: iso(r.resolved_at),
  }
}
