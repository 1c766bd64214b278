import { appendAudit } from '../audit/append.js'
import type { Database } from '../db/types.js'
import { signBody, toOutbox, type OutboxRow } from './outbox.js'
import { transition } from './store.js'

// Hand-off by webhook: POSTs each approved action to the configured executor URL. Still no execution here —
// the executor decides how (and whether) to act; Warden only tells it what humans approved. Delivery is
// at-least-once: a lost response means a second POST, so every request carries the proposal's
// Idempotency-Key and the executor dedups on it. Rows are leased in a short transaction and the HTTP call
// happens outside any transaction (never hold a connection, or PGlite's only session, across the network).

export interface DeliverOptions {
  url: string
  secret: string
  fetch?: typeof fetch
  /** Attempts per row before it is marked `failed`. */
  maxAttempts: number
  /** Wait after the first failure; doubles after each further one. */
  backoffMs: number
  timeoutMs?: number
  /** How long a leased row is ours; a crashed deliverer's rows become due again after it. */
  leaseMs?: number
  limit?: number
}

export interface DeliverSummary {
  delivered: string[]
  failed: string[]
  attempts: number
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function leaseDue(db: Database, leaseMs: number, limit: number): Promise<OutboxRow[]> {
  const now = new Date()
  const { rows } = await db.query<Record<string, unknown>>(
    `update handoff_outbox set status = 'delivering', lease_until = $2
     where id in (select id from handoff_outbox
                  where (status = 'pending' and next_attempt_at <= $1) or (status = 'delivering' and lease_until <= $1)
                  order by next_attempt_at, id limit $3 for update skip locked)
     returning *`,
    [now.toISOString(), new Date(now.getTime() + leaseMs).toISOString(), limit],
  )
  return rows.map(toOutbox)
}

async function post(row: OutboxRow, opts: DeliverOptions): Promise<{ ok: true; status: number } | { ok: false; error: string }> {
  try {
    const res = await (opts.fetch ?? fetch)(opts.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-warden-signature': signBody(row.body, opts.secret),
        'x-warden-timestamp': String(Math.floor(Date.now() / 1000)),
        'idempotency-key': row.idempotencyKey,
      },
      body: row.body,
      signal: AbortSignal.timeout(opts.timeoutMs ?? 10_000),
    })
    const text = await res.text().catch(() => '')
    return res.ok ? { ok: true, status: res.status } : { ok: false, error: `HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}` }
  } catch (err) {
    return { ok: false, error: (err as Error).message.slice(0, 300) }
  }
}

/** Where it went, without credentials or query strings (they may carry tokens). */
const target = (url: string) => {
  const u = new URL(url)
  return `${u.origin}${u.pathname}`
}

async function record(db: Database, row: OutboxRow, outcome: Awaited<ReturnType<typeof post>>, opts: DeliverOptions): Promise<'delivered' | 'retry' | 'failed' | 'lost_lease'> {
  const now = new Date()
  const attempts = row.attempts + 1
  const subject = `proposal:${row.proposalId}`
  return db.transaction(async (tx) => {
    // Our lease is the fencing token: if it ran out and another deliverer took the row, its result counts.
    const held = await tx.query("select id from handoff_outbox where id = $1 and status = 'delivering' and lease_until = $2 for update", [row.id, row.leaseUntil])
    if (held.rows.length === 0) return 'lost_lease'
    if (outcome.ok) {
      await tx.query(`update handoff_outbox set status = 'delivered', attempts = $2, last_attempt_at = $3, delivered_at = $3, lease_until = null where id = $1`, [row.id, attempts, now.toISOString()])
      const p = await transition(tx, row.proposalId, 'approved', 'handed_off', { at: now, handedOffTo: `webhook:${target(opts.url)}` })
      await appendAudit(tx, { actor: 'system:handoff', action: 'handoff.delivered', subject, data: { outbox_id: row.id, attempts, http_status: outcome.status, url: target(opts.url), handed_off: p !== null } }, now)
      return 'delivered'
    }
    const final = attempts >= opts.maxAttempts
    const next = new Date(now.getTime() + opts.backoffMs * 2 ** (attempts - 1))
    await tx.query(
      `update handoff_outbox set status = $2, attempts = $3, last_error = $4, last_attempt_at = $5, next_attempt_at = $6, lease_until = null where id = $1`,
      [row.id, final ? 'failed' : 'pending', attempts, outcome.error, now.toISOString(), next.toISOString()],
    )
    await appendAudit(tx, { actor: 'system:handoff', action: final ? 'handoff.failed' : 'handoff.attempt_failed', subject, data: { outbox_id: row.id, attempts, error: outcome.error, url: target(opts.url), ...(final ? {} : { next_attempt_at: next.toISOString() }) } }, now)
    return final ? 'failed' : 'retry'
  })
}

/**
 * Delivers every due outbox row, retrying failures with exponential backoff until each is delivered or has
 * used maxAttempts; returns when nothing it attempted is left to retry. Safe to run from several replicas.
 */
export async function deliverOutbox(deps: { db: Database }, opts: DeliverOptions): Promise<DeliverSummary> {
  const summary: DeliverSummary = { delivered: [], failed: [], attempts: 0 }
  const leaseMs = opts.leaseMs ?? Math.max(30_000, 2 * (opts.timeoutMs ?? 10_000))
  const retrying = new Map<number, number>() // outbox id → when it is due again
  for (;;) {
    const batch = await leaseDue(deps.db, leaseMs, opts.limit ?? 20)
    if (batch.length === 0) {
      if (retrying.size === 0) return summary
      await sleep(Math.max(0, Math.min(...retrying.values()) - Date.now()) + 5)
      // Rows another deliverer took meanwhile are theirs now.
      const { rows } = await deps.db.query<{ id: number }>("select id from handoff_outbox where id = any($1::bigint[]) and status = 'pending'", [[...retrying.keys()]])
      const still = new Set(rows.map((r) => r.id))
      for (const id of retrying.keys()) if (!still.has(id)) retrying.delete(id)
      continue
    }
    for (const row of batch) {
      const outcome = await post(row, opts)
      summary.attempts++
      const result = await record(deps.db, row, outcome, opts)
      retrying.delete(row.id)
      if (result === 'delivered') summary.delivered.push(row.proposalId)
      else if (result === 'failed') summary.failed.push(row.proposalId)
      else if (result === 'retry') retrying.set(row.id, Date.now() + opts.backoffMs * 2 ** row.attempts)
    }
  }
}
