import type { Queryable } from '../db/types.js'
import { GENESIS_HASH, chainHash, type AuditRow } from './append.js'

// Walks the audit chain in seq order and recomputes it. The append-only trigger stops ordinary writers; this
// catches everyone else (a superuser who disabled the trigger, a restored backup, a hand-edited dump).
// Limit: removing rows from the END of the chain leaves a valid shorter chain. Detecting that needs the tip
// hash kept somewhere else (an external anchor); `rows` and the last hash are returned for that purpose.

export interface VerifyResult {
  ok: boolean
  /** Rows walked. */
  rows: number
  /** Hash of the last row walked (the tip), for comparison with an external anchor. */
  tip: string
  firstBroken?: { seq: number; reason: string }
}

const PAGE = 1000

export async function* auditRows(db: Queryable, opts: { since?: string; afterSeq?: number } = {}): AsyncGenerator<AuditRow> {
  let after = opts.afterSeq ?? 0
  for (;;) {
    const { rows } = await db.query<AuditRow & { at: string | Date }>(
      `select seq, at, actor, action, subject, body, prev_hash, hash from audit_log
       where seq > $1 and ($2::timestamptz is null or at >= $2) order by seq limit $3`,
      [after, opts.since ?? null, PAGE],
    )
    for (const r of rows) yield { ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() }
    if (rows.length < PAGE) return
    after = Number(rows[rows.length - 1]!.seq)
  }
}

/** Why this row breaks the chain, given the previous row's seq and hash; null when it links correctly. */
export function checkLink(row: AuditRow, prev: { seq: number; hash: string }): string | null {
  if (row.seq !== prev.seq + 1) return row.seq > prev.seq + 1 ? `rows ${prev.seq + 1}…${row.seq - 1} are missing` : `seq ${row.seq} follows ${prev.seq}`
  if (row.prev_hash !== prev.hash) return `prev_hash does not match the hash of row ${prev.seq}`
  if (chainHash(row.prev_hash, row.body) !== row.hash) return 'hash does not match prev_hash + body (row altered)'
  let body: Record<string, unknown>
  try {
    body = JSON.parse(row.body) as Record<string, unknown>
  } catch {
    return 'body is not JSON'
  }
  for (const k of ['seq', 'action', 'subject', 'actor'] as const) {
    if (body[k] !== row[k]) return `column ${k} (${JSON.stringify(row[k])}) differs from the hashed body (${JSON.stringify(body[k])})`
  }
  if (typeof body.at !== 'string' || Date.parse(body.at) !== Date.parse(row.at)) return `column at differs from the hashed body`
  return null
}

export async function verifyAudit(db: Queryable): Promise<VerifyResult> {
  let prev = { seq: 0, hash: GENESIS_HASH }
  let rows = 0
  let firstBroken: VerifyResult['firstBroken']
  for await (const row of auditRows(db)) {
    rows++
    if (!firstBroken) {
      const reason = checkLink(row, prev)
      // A gap is reported at the first missing seq: that is where the chain breaks.
      if (reason) firstBroken = { seq: row.seq > prev.seq + 1 ? prev.seq + 1 : row.seq, reason }
    }
    prev = { seq: row.seq, hash: row.hash }
  }
  return { ok: !firstBroken, rows, tip: prev.hash, ...(firstBroken ? { firstBroken } : {}) }
}

/** JSONL export (one row per line, body verbatim so anyone can recompute the chain) from `since` on. */
export async function* exportAudit(db: Queryable, opts: { since?: string | Date } = {}): AsyncGenerator<string> {
  const since = opts.since instanceof Date ? opts.since.toISOString() : opts.since
  for await (const r of auditRows(db, { since })) {
    yield `${JSON.stringify({ seq: r.seq, at: r.at, actor: r.actor, action: r.action, subject: r.subject, body: r.body, prev_hash: r.prev_hash, hash: r.hash })}\n`
  }
}
