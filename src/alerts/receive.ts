import { randomBytes } from 'node:crypto'
import { appendAudit } from '../audit/append.js'
import type { Database, Transaction } from '../db/types.js'
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
  },
  input: { format: AlertSource | 'auto'; payload: unknown },
): Promise<ReceiveResult> {
  const normalized = normalizeAlert(input.format, input.payload)
  if (!normalized.ok) return normalized
  const now = deps.clock?.() ?? new Date()
  // All alerts of one delivery are stored together or not at all.
  const alerts = await deps.db.transaction(async (tx) => {
    const out: ReceivedAlert[] = []
    for (const a of normalized.alerts) {
      const stored = await storeAlert(tx, a, input.payload, now, deps.actor ?? `webhook:${normalized.format}`)
      await deps.onStored?.(tx, stored)
      out.push(stored)
    }
    return out
  })
  return { ok: true, format: normalized.format, alerts }
}

async function storeAlert(tx: Parameters<Parameters<Database['transaction']>[0]>[0], a: CanonicalAlert, payload: unknown, now: Date, actor: string): Promise<ReceivedAlert> {
  const id = newId('al')
  const { rows } = await tx.query<{ id: string; status: 'firing' | 'resolved'; inserted: boolean; was: string | null }>(
    `insert into alerts (id, source, dedup_key, fingerprint, status, name, labels, annotations, summary, description,
                         starts_at, links, severity, payload, received_at, resolved_at)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, case when $5 = 'resolved' then $15::timestamptz end)
     on conflict (dedup_key) do update set
       deliveries = alerts.deliveries + 1,
       status = case when excluded.status = 'resolved' then 'resolved' else alerts.status end,
       resolved_at = case when excluded.status = 'resolved' and alerts.status = 'firing' then excluded.received_at else alerts.resolved_at end
     returning id, status, (xmax = 0) as inserted, null::text as was`,
    [id, a.source, dedupKey(a), a.fingerprint, a.status, a.name, JSON.stringify(a.labels), JSON.stringify(a.annotations), a.summary, a.description, a.startsAt, JSON.stringify(a.links), a.severity, JSON.stringify(payload), now.toISOString()],
  )
  const row = rows[0]!
  const action = row.inserted ? 'alert.received' : a.status === 'resolved' ? 'alert.resolved' : 'alert.redelivered'
  await appendAudit(tx, { actor, action, subject: `alert:${row.id}`, data: { source: a.source, fingerprint: a.fingerprint, name: a.name, status: row.status } }, now)
  return { alertId: row.id, created: row.inserted, status: row.status, needsAssessment: row.inserted && row.status === 'firing' }
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
