import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { appendAudit, appendAuditRows, canonicalJson, chainHash, type AuditEntry } from '../../../src/audit/append.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// audit_append (migration 011) takes the audit lock, reads the tip and inserts in one statement, assembling
// the body around the seq and hashing it in SQL. These tests check that what it writes is exactly what the
// JavaScript chain (canonicalJson, chainHash, verifyAudit) expects, whatever the data, and that the chain keeps
// one tip under concurrent appenders, including appenders that still lock and insert from the client.

describe(`audit append in one statement (${backend})`, () => {
  let t: TestDatabase
  const T0 = new Date('2026-11-21T10:00:00.123Z')
  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())

  const tip = async () => (await t.db.query<{ seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1')).rows[0] ?? null
  const stored = async (seq: number) => (await t.db.query<{ seq: number; at: Date; actor: string; action: string; subject: string; body: string; prev_hash: string; hash: string }>('select * from audit_log where seq = $1', [seq])).rows[0]!

  it('writes several rows in order, linked to the tip, with the canonical body and the chain hash', async () => {
    const before = await tip()
    const entries: AuditEntry[] = [
      { actor: 'webhook:alertmanager', action: 'alert.received', subject: 'alert:al_1', data: { z: 1, a: { y: [1, 'two', null], b: true } } },
      { actor: 'sam "the reviewer"', action: 'alert.redelivered', subject: 'alert:al_"2"\\', data: {} },
      { actor: 'système', action: 'x.y', subject: 'x:ünïcødé 🚨', data: { text: 'line\nbreak\ttab \u0001 "quoted" \\ back', n: -0.5e-7, big: 12345678901234 } },
    ]
    const rows = await t.db.transaction((tx) => appendAuditRows(tx, entries, T0))
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3].map((i) => (before?.seq ?? 0) + i))
    for (const [i, r] of rows.entries()) {
      const e = entries[i]!
      const db = await stored(r.seq)
      expect(db.body).toBe(canonicalJson({ seq: r.seq, at: T0.toISOString(), actor: e.actor, action: e.action, subject: e.subject, data: e.data }))
      expect(db).toMatchObject({ actor: e.actor, action: e.action, subject: e.subject, prev_hash: r.prev_hash, hash: r.hash })
      expect(new Date(db.at).toISOString()).toBe(T0.toISOString())
      expect(db.hash).toBe(chainHash(db.prev_hash, db.body))
      expect(db.prev_hash).toBe(i === 0 ? (before?.hash ?? '0'.repeat(64)) : rows[i - 1]!.hash)
    }
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })

  it('an empty batch writes nothing and takes no lock', async () => {
    const before = await tip()
    expect(await t.db.transaction((tx) => appendAuditRows(tx, []))).toEqual([])
    expect(await tip()).toEqual(before)
  })

  it('any JSON data round-trips: the body the database assembled and hashed is the one verify recomputes', async () => {
    // Columns are text, which cannot hold NUL; inside data anything goes (the body escapes it as JSON).
    const text = fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/\u0000/g, ''))
    const data = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ actor: text, action: text, subject: text, data }), { minLength: 1, maxLength: 3 }), async (entries) => {
        const rows = await t.db.transaction((tx) => appendAuditRows(tx, entries as AuditEntry[], T0))
        for (const r of rows) expect((await stored(r.seq)).body).toBe(r.body)
      }),
      { numRuns: 40 },
    )
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })

  it('a rolled-back transaction leaves no row, and the next append links to the committed tip', async () => {
    const before = (await tip())!
    await expect(
      t.db.transaction(async (tx) => {
        await appendAudit(tx, { actor: 'a', action: 'x.rolled_back', subject: 'x:1', data: {} })
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(await tip()).toEqual(before)
    const next = await t.db.transaction((tx) => appendAudit(tx, { actor: 'a', action: 'x.after', subject: 'x:2', data: {} }))
    expect(next).toMatchObject({ seq: before.seq + 1, prev_hash: before.hash })
  })

  it(`concurrent appenders, old-style (lock, read, insert from the client) and new, keep one chain${backend === 'pglite' ? ' (PGlite serialises; the race runs on Postgres)' : ''}`, async () => {
    const before = (await tip())!
    // What appendAudit did before migration 011; a replica still running it during a rolling deploy.
    const oldStyle = async (i: number) =>
      t.db.transaction(async (tx) => {
        await tx.query('select 1 from audit_log limit 0')
        await tx.query("select pg_advisory_xact_lock(hashtextextended('warden:audit', 0))")
        const { rows } = await tx.query<{ seq: number; hash: string }>('select seq, hash from audit_log order by seq desc limit 1')
        const seq = Number(rows[0]!.seq) + 1
        const at = T0.toISOString()
        const body = canonicalJson({ seq, at, actor: 'old', action: 'x.old', subject: `x:${i}`, data: { i } })
        await tx.query('insert into audit_log (seq, at, actor, action, subject, body, prev_hash, hash) values ($1, $2, $3, $4, $5, $6, $7, $8)', [seq, at, 'old', 'x.old', `x:${i}`, body, rows[0]!.hash, chainHash(rows[0]!.hash, body)])
      })
    const newStyle = (i: number) =>
      t.db.transaction(async (tx) => {
        // Work before the audit row runs while others hold the lock.
        await tx.query('select pg_sleep(0.002)')
        await appendAuditRows(tx, [{ actor: 'new', action: 'x.new', subject: `x:${i}`, data: { i } }, { actor: 'new', action: 'x.new2', subject: `x:${i}`, data: { i } }], T0)
      })
    const N = 40
    await Promise.all(Array.from({ length: N }, (_, i) => (i % 4 === 0 ? oldStyle(i) : newStyle(i))))
    const after = (await tip())!
    const oldCount = Array.from({ length: N }, (_, i) => i).filter((i) => i % 4 === 0).length
    expect(after.seq - before.seq).toBe(oldCount + (N - oldCount) * 2)
    // Each new-style transaction's two rows are adjacent: nobody slipped in between them.
    const { rows } = await t.db.query<{ seq: number; action: string; subject: string }>('select seq, action, subject from audit_log where seq > $1 order by seq', [before.seq])
    rows.forEach((r, i) => {
      if (r.action === 'x.new') expect(rows[i + 1]).toMatchObject({ action: 'x.new2', subject: r.subject })
    })
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true, rows: after.seq })
  })
})
