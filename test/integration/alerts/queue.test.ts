import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { claimJobs } from '../../../src/alerts/jobs/claim.js'
import { backoffDelay, completeJob, failJob } from '../../../src/alerts/jobs/complete.js'
import { enqueueAssessment, enqueueJob, getJob } from '../../../src/alerts/jobs/enqueue.js'
import { ASSESS_ALERT } from '../../../src/alerts/jobs/types.js'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { startWorker, waitForJob } from '../../../src/alerts/worker.js'
import type { AssistantDeps } from '../../../src/assistant/assess.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { demoReference } from '../../helpers/http.js'

// The assessment job queue on a real database: dedupe, exclusive claims, leases, backoff, dead jobs, and
// workers that pick up what a previous (crashed or stopped) process left behind.

const KIND = 'test_job'
const T0 = new Date('2026-11-21T14:00:00Z')
const at = (ms: number) => new Date(T0.getTime() + ms)

describe(`job queue (${backend})`, () => {
  let t: TestDatabase
  let deps: AssistantDeps
  beforeAll(async () => {
    t = await createTestDatabase()
    deps = { db: t.db, embedder: createLocalEmbeddings(), reference: demoReference(), llm: null }
  })
  afterAll(async () => t?.cleanup())
  beforeEach(async () => {
    await t.db.query('delete from jobs where kind = $1', [KIND])
  })

  const enqueue = (key: string, maxAttempts = 3) => enqueueJob(t.db, { kind: KIND, dedupeKey: key, payload: { key }, maxAttempts }, T0)
  const audit = async (subject: string) => (await t.db.query<{ action: string; body: string }>('select action, body from audit_log where subject = $1 order by seq', [subject])).rows

  it('queues a job once per (kind, dedupe key), whatever state the first one is in', async () => {
    const a = await enqueue('k1')
    const b = await enqueue('k1')
    expect(a.created).toBe(true)
    expect(b).toEqual({ created: false, job: a.job })
    const [claimed] = await claimJobs(t.db, { kind: KIND, workerId: 'w', leaseMs: 1000, now: T0 })
    await completeJob(t.db, claimed!, { n: 1 }, T0)
    const again = await enqueue('k1')
    expect(again.created).toBe(false)
    expect(again.job).toMatchObject({ id: a.job.id, status: 'done', result: { n: 1 } })
    expect((await t.db.query<{ n: number }>('select count(*)::int n from jobs where kind = $1', [KIND])).rows[0]!.n).toBe(1)
  })

  it(`concurrent claimers get disjoint jobs and together get every job once${backend === 'pglite' ? ' (PGlite serialises them; the race itself runs on Postgres)' : ''}`, async () => {
    const N = 60
    for (let i = 0; i < N; i++) await enqueue(`race-${i}`)
    const claimer = async (w: number) => {
      const mine: string[] = []
      for (;;) {
        const got = await claimJobs(t.db, { kind: KIND, workerId: `w${w}`, leaseMs: 60_000, limit: 3, now: T0 })
        if (got.length === 0) return mine
        for (const j of got) {
          expect(j).toMatchObject({ status: 'running', lockedBy: `w${w}`, attempts: 1 })
          mine.push(j.id)
        }
      }
    }
    const results = await Promise.all(Array.from({ length: 8 }, (_, w) => claimer(w)))
    const all = results.flat()
    expect(new Set(all).size).toBe(all.length)
    expect(all.length).toBe(N)
    if (backend === 'postgres') expect(results.filter((r) => r.length > 0).length).toBeGreaterThan(1)
    const { rows } = await t.db.query<{ status: string; attempts: number; n: number }>('select status, attempts, count(*)::int n from jobs where kind = $1 group by 1, 2', [KIND])
    expect(rows).toEqual([{ status: 'running', attempts: 1, n: N }])
  })

  it('an expired lease makes the job claimable again; the first worker can then no longer complete it', async () => {
    const { job } = await enqueue('lease')
    const [a] = await claimJobs(t.db, { kind: KIND, workerId: 'A', leaseMs: 1000, now: T0 })
    expect(a!.id).toBe(job.id)
    expect(await claimJobs(t.db, { kind: KIND, workerId: 'B', leaseMs: 1000, now: at(999) })).toEqual([])
    const [b] = await claimJobs(t.db, { kind: KIND, workerId: 'B', leaseMs: 1000, now: at(1000) })
    expect(b).toMatchObject({ id: job.id, lockedBy: 'B', attempts: 2 })
    expect(await completeJob(t.db, a!, { by: 'A' }, at(1100))).toBe(false)
    expect(await failJob(t.db, a!, new Error('late'), {}, at(1100))).toBe('lost_lease')
    expect(await completeJob(t.db, b!, { by: 'B' }, at(1200))).toBe(true)
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'done', result: { by: 'B' }, lockedBy: null, attempts: 2 })
  })

  it('failures back off exponentially, then the job is dead after max attempts, each step audited', async () => {
    const { job } = await enqueue('flaky', 3)
    const opts = { backoffMs: 1000, maxBackoffMs: 60_000 }
    let now = T0
    const outcomes: string[] = []
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [c] = await claimJobs(t.db, { kind: KIND, workerId: 'w', leaseMs: 30_000, now })
      expect(c).toMatchObject({ id: job.id, attempts: attempt })
      outcomes.push(await failJob(t.db, c!, new Error(`boom ${attempt} at postgres://warden:hunter2@db:5432/x with Bearer wdn_abcdef`), opts, now))
      const after = (await getJob(t.db, job.id))!
      if (attempt < 3) {
        expect(after.status).toBe('failed')
        expect(Date.parse(after.runAt) - now.getTime()).toBe(backoffDelay(attempt, opts))
        // Not due before its backoff has passed.
        expect(await claimJobs(t.db, { kind: KIND, workerId: 'w', leaseMs: 30_000, now: new Date(Date.parse(after.runAt) - 1) })).toEqual([])
        now = new Date(after.runAt)
      }
    }
    expect(outcomes).toEqual(['retry', 'retry', 'dead'])
    expect([backoffDelay(1, opts), backoffDelay(2, opts)]).toEqual([1000, 2000])
    const dead = (await getJob(t.db, job.id))!
    expect(dead).toMatchObject({ status: 'dead', attempts: 3, lockedBy: null })
    // Operators see the error, never the credentials in it.
    expect(dead.lastError).toMatch(/boom 3/)
    expect(dead.lastError).not.toMatch(/hunter2|wdn_abcdef/)
    expect(await claimJobs(t.db, { kind: KIND, workerId: 'w', leaseMs: 30_000, now: at(86_400_000) })).toEqual([])
    const rows = await audit(`job:${job.id}`)
    expect(rows.map((r) => r.action)).toEqual(['job.attempt_failed', 'job.attempt_failed', 'job.dead'])
    expect(rows.map((r) => r.body).join('\n')).not.toMatch(/hunter2|wdn_abcdef/)
    expect((await verifyAudit(t.db)).ok).toBe(true)
  })

  it('a job whose worker died on its last attempt is buried as dead (audited), not retried forever', async () => {
    const { job } = await enqueue('poison', 2)
    await claimJobs(t.db, { kind: KIND, workerId: 'crash-1', leaseMs: 1000, now: T0 })
    const [second] = await claimJobs(t.db, { kind: KIND, workerId: 'crash-2', leaseMs: 1000, now: at(1000) })
    expect(second!.attempts).toBe(2)
    expect(await claimJobs(t.db, { kind: KIND, workerId: 'w', leaseMs: 1000, now: at(2000) })).toEqual([])
    expect(await getJob(t.db, job.id)).toMatchObject({ status: 'dead', attempts: 2, lastError: expect.stringMatching(/lease expired.*crash-2/) })
    expect((await audit(`job:${job.id}`)).map((r) => r.action)).toEqual(['job.dead'])
  })

  describe('workers running assessments', () => {
    const deliver = async (fingerprint: string) => {
      const r = await receiveAlerts(
        { db: t.db, onStored: async (tx, a) => void (a.status === 'firing' && (await enqueueAssessment(tx, a.alertId, { maxAttempts: 3 }))) },
        { format: 'alertmanager', payload: amPayload({ name: 'KubePodCrashLooping', fingerprint, labels: { namespace: 'shop', container: 'cart-api' }, summary: 'cart-api crash looping', description: 'OOMKilled 9 times' }) },
      )
      if (!r.ok) throw new Error('fixture alert rejected')
      const job = (await t.db.query<{ id: string }>('select id from jobs where kind = $1 and dedupe_key = $2', [ASSESS_ALERT, r.alerts[0]!.alertId])).rows[0]!
      return { alertId: r.alerts[0]!.alertId, jobId: job.id }
    }
    const assessmentsFor = async (alertId: string) => (await t.db.query<{ id: string }>('select id from assessments where alert_id = $1', [alertId])).rows

    it('a new worker (after a restart) picks up queued jobs and jobs a crashed worker held; one assessment per alert', async () => {
      const queued = await deliver('restart-1')
      const held = await deliver('restart-2')
      // A worker of the previous process claimed this one with a short lease and died.
      const [claimed] = await claimJobs(t.db, { kind: ASSESS_ALERT, workerId: 'dead-process/0', leaseMs: 1000, jobId: held.jobId })
      expect(claimed!.id).toBe(held.jobId)
      const w = startWorker(deps, { concurrency: 2, leaseMs: 30_000, pollMs: 50 })
      try {
        const first = await waitForJob(t.db, queued.jobId, 30_000)
        const second = await waitForJob(t.db, held.jobId, 30_000)
        expect(first).toMatchObject({ status: 'done', attempts: 1, result: { assessmentId: expect.any(String) } })
        expect(second).toMatchObject({ status: 'done', attempts: 2, result: { assessmentId: expect.any(String) } })
        for (const [x, j] of [[queued, first], [held, second]] as const) expect(await assessmentsFor(x.alertId)).toEqual([{ id: j!.result!.assessmentId }])
      } finally {
        await w.stop()
      }
    })

    it('a job for an alert that already has an assessment completes with that one, not a second', async () => {
      const x = await deliver('idem-1')
      const w = startWorker(deps, { concurrency: 1, leaseMs: 30_000, pollMs: 50 })
      const done = await waitForJob(t.db, x.jobId, 30_000)
      await w.stop()
      // Re-run it as if the completion had been lost (a crash between the assessment and `done`).
      await t.db.query("update jobs set status = 'queued', result = null, run_at = now() where id = $1", [x.jobId])
      const w2 = startWorker(deps, { concurrency: 1, leaseMs: 30_000, pollMs: 50 })
      const again = await waitForJob(t.db, x.jobId, 30_000)
      await w2.stop()
      expect(again).toMatchObject({ status: 'done', result: { assessmentId: done!.result!.assessmentId } })
      expect(await assessmentsFor(x.alertId)).toHaveLength(1)
      expect((await audit(`assessment:${done!.result!.assessmentId}`)).map((r) => r.action)).toEqual(['assessment.created'])
    })

    it('stop() waits for the job in flight, and starts nothing new', async () => {
      const x = await deliver('stop-1')
      let release!: () => void
      const gate = new Promise<void>((r) => (release = r))
      let entered!: () => void
      const inJob = new Promise<void>((r) => (entered = r))
      // The embedder is the external edge of an assessment: hold it until the test lets go.
      const slow: AssistantDeps = { ...deps, embedder: { id: deps.embedder.id, dim: deps.embedder.dim, embed: async (texts) => (entered(), await gate, deps.embedder.embed(texts)) } }
      const w = startWorker(slow, { concurrency: 1, leaseMs: 30_000, pollMs: 50 })
      await inJob
      let stopped = false
      const stopping = w.stop().then(() => (stopped = true))
      const later = await deliver('stop-2')
      await new Promise((r) => setTimeout(r, 100))
      expect(stopped).toBe(false)
      expect((await getJob(t.db, x.jobId))!.status).toBe('running')
      release()
      await stopping
      expect((await getJob(t.db, x.jobId))!.status).toBe('done')
      expect((await getJob(t.db, later.jobId))!.status).toBe('queued')
      expect(w.stats()).toMatchObject({ done: 1, retry: 0, dead: 0 })
    })

    it('a job that keeps failing ends dead with its audit row while the worker keeps running', async () => {
      const x = await deliver('fails-1')
      await t.db.query('update jobs set max_attempts = 2 where id = $1', [x.jobId])
      const broken: AssistantDeps = { ...deps, embedder: { id: deps.embedder.id, dim: deps.embedder.dim, embed: async () => Promise.reject(new Error('embedding service unreachable')) } }
      const w = startWorker(broken, { concurrency: 1, leaseMs: 30_000, pollMs: 20, backoffMs: 10 })
      const end = await waitForJob(t.db, x.jobId, 30_000)
      await w.stop()
      expect(end).toMatchObject({ status: 'dead', attempts: 2, lastError: expect.stringMatching(/embedding service unreachable/) })
      expect((await audit(`job:${x.jobId}`)).map((r) => r.action)).toEqual(['job.attempt_failed', 'job.dead'])
      expect(await assessmentsFor(x.alertId)).toEqual([])
    })
  })
})
