import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GENESIS_HASH, appendAudit, chainHash } from '../../../src/audit/append.js'
import { exportAudit, verifyAudit } from '../../../src/audit/verify.js'
import { runAuditExport, runAuditVerify, type CliIo } from '../../../src/cli/audit.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

const sink = () => {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { out: (s) => void out.push(s), err: (s) => void err.push(s) }
  return { io, out, err }
}

describe(`audit chain verification (${backend})`, () => {
  let t: TestDatabase
  const T0 = Date.parse('2026-11-01T10:00:00Z')
  beforeAll(async () => {
    t = await createTestDatabase()
    for (let i = 1; i <= 12; i++) {
      await t.db.transaction((tx) => appendAudit(tx, { actor: i % 2 ? 'sam' : 'assistant', action: i % 3 ? 'proposal.created' : 'approval.recorded', subject: `proposal:pr_${i}`, data: { i, nested: { b: 1.5, a: [i, 'x'] } } }, new Date(T0 + i * 60_000)))
    }
  })
  afterAll(async () => t?.cleanup())

  /** Tampering needs what an attacker with superuser rights would do: switch the append-only trigger off. */
  async function tamper(sql: string, params: unknown[] = []) {
    await t.db.transaction(async (tx) => {
      await tx.query('ALTER TABLE audit_log DISABLE TRIGGER USER')
      await tx.query(sql, params)
      await tx.query('ALTER TABLE audit_log ENABLE TRIGGER USER')
    })
  }
  const row = async (seq: number) => (await t.db.query<{ body: string; hash: string; action: string }>('select body, hash, action from audit_log where seq = $1', [seq])).rows[0]!

  it('verifies an intact chain', async () => {
    const r = await verifyAudit(t.db)
    expect(r).toEqual({ ok: true, rows: 12, tip: (await row(12)).hash })
  })

  it('refuses plain UPDATE, DELETE and TRUNCATE through the trigger', async () => {
    await expect(t.db.query("update audit_log set body = '{}' where seq = 3")).rejects.toThrow(/append-only/)
    await expect(t.db.query('delete from audit_log where seq = 3')).rejects.toThrow(/append-only/)
    await expect(t.db.query('truncate audit_log')).rejects.toThrow(/append-only/)
    expect((await verifyAudit(t.db)).ok).toBe(true)
  })

  it('reports an altered body at its own seq, and a re-hashed one at the next link', async () => {
    const original = await row(4)
    const forged = original.body.replace('"i":4', '"i":40')
    await tamper('update audit_log set body = $1 where seq = 4', [forged])
    expect(await verifyAudit(t.db)).toMatchObject({ ok: false, rows: 12, firstBroken: { seq: 4, reason: expect.stringMatching(/hash does not match/) } })
    // A careful forger also recomputes the row's hash: the next row's prev_hash no longer matches.
    await tamper('update audit_log set hash = $1 where seq = 4', [chainHash((await t.db.query<{ hash: string }>('select hash from audit_log where seq = 3')).rows[0]!.hash, forged)])
    expect(await verifyAudit(t.db)).toMatchObject({ ok: false, firstBroken: { seq: 5, reason: expect.stringMatching(/prev_hash/) } })
    await tamper('update audit_log set body = $1, hash = $2 where seq = 4', [original.body, original.hash])
    expect((await verifyAudit(t.db)).ok).toBe(true)
  })

  it('reports a column that disagrees with the hashed body', async () => {
    await tamper("update audit_log set action = 'proposal.rejected' where seq = 6")
    expect(await verifyAudit(t.db)).toMatchObject({ ok: false, firstBroken: { seq: 6, reason: expect.stringMatching(/column action/) } })
    await tamper("update audit_log set action = 'approval.recorded' where seq = 6")
    expect((await verifyAudit(t.db)).ok).toBe(true)
  })

  it('reports a deleted row at the first missing seq; the CLI exits 1 and prints it', async () => {
    await tamper('delete from audit_log where seq = 7')
    expect(await verifyAudit(t.db)).toMatchObject({ ok: false, rows: 11, firstBroken: { seq: 7, reason: 'rows 7…7 are missing' } })
    const s = sink()
    expect(await runAuditVerify(t.db, {}, s.io)).toBe(1)
    expect(s.err.join('')).toMatch(/audit chain broken at seq 7: rows 7…7 are missing/)
  })

  it('exports JSONL from a time on, with bodies verbatim so the chain can be checked outside Warden', async () => {
    const lines: string[] = []
    for await (const l of exportAudit(t.db)) lines.push(l)
    expect(lines).toHaveLength(11)
    const rows = lines.map((l) => JSON.parse(l) as { seq: number; at: string; body: string; prev_hash: string; hash: string })
    expect(rows[0]!.prev_hash).toBe(GENESIS_HASH)
    for (const r of rows) expect(chainHash(r.prev_hash, r.body)).toBe(r.hash)
    const s = sink()
    expect(await runAuditExport(t.db, { since: new Date(T0 + 10 * 60_000).toISOString() }, s.io)).toBe(0)
    expect(s.out.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([10, 11, 12])
    const bad = sink()
    expect(await runAuditExport(t.db, { since: 'yesterday-ish' }, bad.io)).toBe(2)
    expect(bad.err.join('')).toMatch(/--since must be an ISO 8601 time/)
  })

  it('the CLI verify exits 0 on an intact chain', async () => {
    const fresh = await createTestDatabase()
    try {
      await fresh.db.transaction((tx) => appendAudit(tx, { actor: 'sam', action: 'x.y', subject: 'x:1', data: {} }))
      const s = sink()
      expect(await runAuditVerify(fresh.db, {}, s.io)).toBe(0)
      expect(s.out.join('')).toMatch(/audit chain ok: 1 rows/)
      const j = sink()
      expect(await runAuditVerify(fresh.db, { json: true }, j.io)).toBe(0)
      expect(JSON.parse(j.out.join(''))).toMatchObject({ ok: true, rows: 1 })
    } finally {
      await fresh.cleanup()
    }
  })
})
