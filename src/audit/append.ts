import { sha256 } from '../../ingest/hash.js'
import type { Transaction } from '../db/types.js'

// Every state change calls appendAudit with the transaction that makes the change, so the change and its
// audit row commit or roll back together.

export const GENESIS_HASH = '0'.repeat(64)

export interface AuditEntry {
  actor: string
  action: string
  /** `<type>:<id>`, e.g. `alert:al_…`, `ingest_run:run_…`. */
  subject: string
  data: Record<string, unknown>
}

export interface AuditRow {
  seq: number
  at: string
  actor: string
  action: string
  subject: string
  body: string
  prev_hash: string
  hash: string
}

/** JSON with sorted keys at every level: the same value always serialises to the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys)
  if (v instanceof Date) return v.toISOString()
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    )
  }
  return v
}

export function chainHash(prevHash: string, body: string): string {
  return sha256(`${prevHash}\n${body}`)
}

export async function appendAudit(tx: Transaction, entry: AuditEntry, now: Date = new Date()): Promise<AuditRow> {
  // Serialise appenders for the rest of this transaction: the chain has exactly one tip.
  await tx.query("select pg_advisory_xact_lock(hashtextextended('warden:audit', 0))")
  const { rows } = await tx.query<{ seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1')
  const seq = (rows[0]?.seq ?? 0) + 1
  const prev = rows[0]?.hash ?? GENESIS_HASH
  const at = now.toISOString()
  const body = canonicalJson({ seq, at, actor: entry.actor, action: entry.action, subject: entry.subject, data: entry.data })
  const hash = chainHash(prev, body)
  await tx.query(
    'insert into audit_log (seq, at, actor, action, subject, body, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8)',
    [seq, at, entry.actor, entry.action, entry.subject, body, prev, hash],
  )
  return { seq, at, actor: entry.actor, action: entry.action, subject: entry.subject, body, prev_hash: prev, hash }
}
