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

/**
 * Appends one audit row in the caller's transaction. Call it as the LAST statement of the transaction: the
 * audit lock it takes is held until commit and serialises every writer of every kind, so whatever the
 * transaction does after it runs with all other writers waiting.
 */
export async function appendAudit(tx: Transaction, entry: AuditEntry, now: Date = new Date()): Promise<AuditRow> {
  return (await appendAuditRows(tx, [entry], now))[0]!
}

/**
 * Appends several rows, in order, in one round trip (a delivery of many alerts writes one row per alert).
 * The lock, the tip read and the inserts happen inside audit_append (migration 011), so the lock is held for
 * one statement plus the COMMIT instead of a client round trip per step.
 */
export async function appendAuditRows(tx: Transaction, entries: readonly AuditEntry[], now: Date = new Date()): Promise<AuditRow[]> {
  if (entries.length === 0) return []
  const at = now.toISOString()
  const parts = entries.map((e) => bodyParts(e, at))
  const { rows } = await tx.query<{ seq: number | string; prev_hash: string; hash: string }>(
    'select seq, prev_hash, hash from audit_append($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])',
    [entries.map(() => at), entries.map((e) => e.actor), entries.map((e) => e.action), entries.map((e) => e.subject), parts.map((p) => p.head), parts.map((p) => p.tail)],
  )
  if (rows.length !== entries.length) throw new Error(`audit_append wrote ${rows.length} rows for ${entries.length} entries`)
  return rows.map((r, i) => {
    const e = entries[i]!
    const seq = Number(r.seq)
    const body = canonicalJson({ seq, at, actor: e.actor, action: e.action, subject: e.subject, data: e.data })
    // The database assembled and hashed the body; recompute both here so a difference (say a non-UTF-8
    // server encoding) aborts the transaction instead of committing a row that verify would reject.
    if (`${parts[i]!.head}${seq}${parts[i]!.tail}` !== body || chainHash(r.prev_hash, body) !== r.hash) {
      throw new Error(`audit_append produced a row that does not match the canonical body or hash (seq ${seq})`)
    }
    return { seq, at, actor: e.actor, action: e.action, subject: e.subject, body, prev_hash: r.prev_hash, hash: r.hash }
  })
}

/**
 * The canonical body around its seq. Top-level keys sort as action, actor, at, data, seq, subject, so the
 * body is `{…data…,"seq":` + seq + `,"subject":…}`: everything but the seq is known before the lock.
 */
function bodyParts(e: AuditEntry, at: string): { head: string; tail: string } {
  const before = canonicalJson({ action: e.action, actor: e.actor, at, data: e.data })
  return { head: `${before.slice(0, -1)},"seq":`, tail: `,"subject":${JSON.stringify(e.subject)}}` }
}
