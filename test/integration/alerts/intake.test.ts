import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import type { Database } from '../../../src/db/types.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// Intake stores each alert and, in the same statement, its assessment job, then writes the audit rows last.
// Checked here: dedup (same fingerprint + start → same alert, same job, never a second one), resolved alerts get
// no job, a failed delivery leaves nothing behind, and concurrent deliveries keep one alert, one job, one chain.

const T0 = new Date('2026-11-21T14:00:00Z')

describe(`alert intake with its assessment job (${backend})`, () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())

  const deliver = (payload: unknown, onStored?: Parameters<typeof receiveAlerts>[0]['onStored']) =>
    receiveAlerts({ db: t.db, clock: () => T0, assess: { maxAttempts: 4 }, onStored }, { format: 'alertmanager', payload })
  const alert = (fingerprint: string, extra: Partial<Parameters<typeof amPayload>[0]> = {}) =>
    amPayload({ name: 'KubePodCrashLooping', labels: { pod: `p-${fingerprint}` }, summary: 'crash looping', description: 'restarts', fingerprint, ...extra })
  const count = async (sql: string, params: unknown[] = []) => (await t.db.query<{ n: number }>(`select count(*)::int n from ${sql}`, params)).rows[0]!.n
  const actions = async (alertId: string) => (await t.db.query<{ action: string }>('select action from audit_log where subject = $1 order by seq', [`alert:${alertId}`])).rows.map((r) => r.action)

  it('a new firing alert is stored with one queued job; a re-delivery finds the same alert and job', async () => {
    const first = await deliver(alert('fp-new'))
    if (!first.ok) throw new Error('rejected')
    const a = first.alerts[0]!
    expect(a).toMatchObject({ created: true, status: 'firing', needsAssessment: true })
    expect(a.job).toMatchObject({ kind: 'assess_alert', dedupeKey: a.alertId, payload: { alertId: a.alertId }, status: 'queued', attempts: 0, maxAttempts: 4, runAt: T0.toISOString() })
    const again = await deliver(alert('fp-new'))
    if (!again.ok) throw new Error('rejected')
    expect(again.alerts[0]).toMatchObject({ alertId: a.alertId, created: false, needsAssessment: false, job: a.job })
    expect(await count("jobs where dedupe_key = $1", [a.alertId])).toBe(1)
    expect(await actions(a.alertId)).toEqual(['alert.received', 'alert.redelivered'])
  })

  it('a resolved alert gets no job, and its later firing delivery does not queue one', async () => {
    const r = await deliver(alert('fp-resolved', { status: 'resolved' }))
    if (!r.ok) throw new Error('rejected')
    expect(r.alerts[0]).toMatchObject({ created: true, status: 'resolved', job: null })
    const f = await deliver(alert('fp-resolved'))
    if (!f.ok) throw new Error('rejected')
    expect(f.alerts[0]).toMatchObject({ alertId: r.alerts[0]!.alertId, status: 'resolved', job: null })
    expect(await count('jobs where dedupe_key = $1', [r.alerts[0]!.alertId])).toBe(0)
  })

  it('without `assess` nothing is queued (the CLI and fixtures path)', async () => {
    const r = await receiveAlerts({ db: t.db }, { format: 'alertmanager', payload: alert('fp-noassess') })
    if (!r.ok) throw new Error('rejected')
    expect(r.alerts[0]!.job).toBeUndefined()
    expect(await count('jobs where dedupe_key = $1', [r.alerts[0]!.alertId])).toBe(0)
  })

  it('a delivery of several alerts, one of them twice, queues one job per alert and audits in delivery order', async () => {
    const p = alert('fp-multi-1')
    p.alerts.push({ ...alert('fp-multi-2').alerts[0]!}, { ...p.alerts[0]! })
    const r = await deliver(p)
    if (!r.ok) throw new Error('rejected')
    const [x, y, z] = r.alerts
    expect(z!.alertId).toBe(x!.alertId)
    expect(z!.job!.id).toBe(x!.job!.id)
    expect(y!.job!.id).not.toBe(x!.job!.id)
    expect(await count('jobs where dedupe_key = any($1)', [[x!.alertId, y!.alertId]])).toBe(2)
    const { rows } = await t.db.query<{ subject: string; action: string }>("select subject, action from audit_log where subject = any($1) order by seq", [[`alert:${x!.alertId}`, `alert:${y!.alertId}`]])
    expect(rows).toEqual([
      { subject: `alert:${x!.alertId}`, action: 'alert.received' },
      { subject: `alert:${y!.alertId}`, action: 'alert.received' },
      { subject: `alert:${x!.alertId}`, action: 'alert.redelivered' },
    ])
  })

  it('a delivery that fails part-way stores nothing: no alert, no job, no audit row', async () => {
    const before = { alerts: await count('alerts'), jobs: await count('jobs'), audit: await count('audit_log') }
    const p = alert('fp-fail-1')
    p.alerts.push({ ...alert('fp-fail-2').alerts[0]! })
    let n = 0
    await expect(
      deliver(p, async () => {
        if (++n === 2) throw new Error('disk full')
      }),
    ).rejects.toThrow('disk full')
    expect({ alerts: await count('alerts'), jobs: await count('jobs'), audit: await count('audit_log') }).toEqual(before)
  })

  it(`concurrent deliveries of one alert make one alert and one job${backend === 'pglite' ? ' (PGlite serialises; the race runs on Postgres)' : ''}`, async () => {
    const N = 8
    const results = await Promise.all(Array.from({ length: N }, () => deliver(alert('fp-race'))))
    const got = results.map((r) => (r.ok ? r.alerts[0]! : null))
    const alertIds = new Set(got.map((a) => a!.alertId))
    expect(alertIds.size).toBe(1)
    const [alertId] = [...alertIds]
    expect(got.filter((a) => a!.created)).toHaveLength(1)
    expect(new Set(got.map((a) => a!.job!.id)).size).toBe(1)
    expect(await count('jobs where dedupe_key = $1', [alertId])).toBe(1)
    expect((await t.db.query<{ deliveries: number }>('select deliveries from alerts where id = $1', [alertId])).rows[0]!.deliveries).toBe(N)
    expect(await actions(alertId!)).toEqual(['alert.received', ...Array(N - 1).fill('alert.redelivered')])
  })

  // The storing transaction commits asynchronously (the audit lock is not held through a disk flush);
  // receiveAlerts returns only once a later synchronous commit has flushed the WAL past it.
  it.runIf(backend === 'postgres')('returns only once the delivery is flushed to disk (WAL flush position past its commit)', async () => {
    const afterCommit: string[] = []
    const db: Database = {
      ...t.db,
      async transaction(fn) {
        const out = await t.db.transaction(fn)
        // The insert position right after COMMIT returned lies past the commit record.
        afterCommit.push((await t.db.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn)
        return out
      },
    }
    for (let i = 0; i < 5; i++) {
      const r = await receiveAlerts({ db, assess: { maxAttempts: 3 } }, { format: 'alertmanager', payload: alert(`fp-durable-${i}`) })
      expect(r.ok).toBe(true)
      const { rows } = await t.db.query<{ ok: boolean }>('select pg_current_wal_flush_lsn() >= $1::pg_lsn as ok', [afterCommit[i]])
      expect(rows[0]!.ok).toBe(true)
    }
  })

  it('many concurrent new alerts: every alert has its job and its audit row, and the chain verifies', async () => {
    const before = { alerts: await count('alerts'), jobs: await count('jobs') }
    const N = 40
    const results = await Promise.all(Array.from({ length: N }, (_, i) => deliver(alert(`fp-burst-${i}`))))
    expect(results.every((r) => r.ok && r.alerts[0]!.created && r.alerts[0]!.job?.status === 'queued')).toBe(true)
    expect({ alerts: await count('alerts'), jobs: await count('jobs') }).toEqual({ alerts: before.alerts + N, jobs: before.jobs + N })
    for (const r of results) if (r.ok) expect(await actions(r.alerts[0]!.alertId)).toEqual(['alert.received'])
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })
})
