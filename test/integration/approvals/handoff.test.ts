import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approve } from '../../../src/approvals/approve.js'
import { claimApproved, completeHandoff } from '../../../src/approvals/claim.js'
import { deliverOutbox } from '../../../src/approvals/deliver.js'
import { getOutbox, verifySignature } from '../../../src/approvals/outbox.js'
import { proposeFromAssessment } from '../../../src/approvals/propose.js'
import { getProposal, type Proposal } from '../../../src/approvals/store.js'
import { verifyAudit } from '../../../src/audit/verify.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { SRE, auditActions, depsFor, seedAssessment, seedTelemetry } from './fixtures.js'

const SECRET = 'test-webhook-secret'

/** A stand-in executor: checks the signature on the raw bytes and acts once per Idempotency-Key. */
function startReceiver(opts: { failFirstAttemptPerKey?: boolean; secret?: string } = {}) {
  const requests: Array<{ key: string; signatureOk: boolean; timestamp: string | undefined; body: string }> = []
  const effective = new Map<string, unknown>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const key = String(req.headers['idempotency-key'] ?? '')
      const signatureOk = verifySignature(raw, opts.secret ?? SECRET, req.headers['x-warden-signature'] as string | undefined)
      const seenBefore = requests.some((r) => r.key === key && r.signatureOk)
      requests.push({ key, signatureOk, timestamp: req.headers['x-warden-timestamp'] as string | undefined, body: raw.toString('utf8') })
      if (!signatureOk) return void res.writeHead(401).end('bad signature')
      // The effect happens at most once per key, however often the same hand-off arrives.
      if (!effective.has(key)) effective.set(key, JSON.parse(raw.toString('utf8')))
      // First attempt: act, then "crash" before acknowledging — the sender must retry and we must not act twice.
      if (opts.failFirstAttemptPerKey && !seenBefore) return void res.writeHead(500).end('executor restarting')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ accepted: true, duplicate: seenBefore }))
    })
  })
  return new Promise<{ url: string; requests: typeof requests; effective: typeof effective; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({ url: `http://127.0.0.1:${port}/warden/handoff?token=abc`, requests, effective, close: () => new Promise((r) => { server.close(() => r()); server.closeAllConnections() }) })
    })
  })
}

describe(`hand-off (${backend})`, () => {
  let t: TestDatabase
  let n = 0
  beforeAll(async () => {
    t = await createTestDatabase()
    await seedTelemetry(t.db, 'checkout-api', { status: 'ok' })
  })
  afterAll(async () => t?.cleanup())

  async function approved(): Promise<Proposal> {
    const { assessmentId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [{ actionId: 'restart_workload', params: { service: 'checkout-api', workload: `checkout-api-h${++n}` } }] })
    const r = await proposeFromAssessment(depsFor(t.db), { assessmentId })
    if (!r.ok || !r.results[0]!.result.ok) throw new Error('proposal refused')
    const a = await approve(depsFor(t.db), { proposalId: r.results[0]!.result.proposal.id, reviewer: SRE })
    if (!a.ok || !a.approved) throw new Error('approval refused')
    return a.proposal
  }

  it('delivers a signed POST, retries after a 500 with backoff, and the executor acts once per idempotency key', async () => {
    const p = await approved()
    const rx = await startReceiver({ failFirstAttemptPerKey: true })
    try {
      const summary = await deliverOutbox({ db: t.db }, { url: rx.url, secret: SECRET, maxAttempts: 4, backoffMs: 25 })
      expect(summary).toMatchObject({ delivered: [p.id], failed: [], attempts: 2 })
      expect(rx.requests.map((r) => r.key)).toEqual([p.idempotencyKey, p.idempotencyKey])
      expect(rx.requests.every((r) => r.signatureOk && /^\d{10}$/.test(r.timestamp ?? ''))).toBe(true)
      expect(rx.requests[0]!.body).toBe(rx.requests[1]!.body) // same bytes on every attempt
      expect(rx.effective.size).toBe(1)
      expect(rx.effective.get(p.idempotencyKey)).toMatchObject({ type: 'warden.approved_action', proposal_id: p.id, action_id: 'restart_workload', params: p.params })
      const row = await getOutbox(t.db, p.id)
      expect(row).toMatchObject({ status: 'delivered', attempts: 2, lastError: 'HTTP 500: executor restarting' })
      expect(Date.parse(row!.deliveredAt!) - Date.parse(row!.createdAt)).toBeGreaterThanOrEqual(20)
      expect(await getProposal(t.db, p.id)).toMatchObject({ status: 'handed_off', handedOffTo: `webhook:${new URL(rx.url).origin}/warden/handoff` })
      expect(await auditActions(t.db, p.id)).toEqual(['proposal.created', 'approval.recorded', 'proposal.approved', 'handoff.queued', 'handoff.attempt_failed', 'handoff.delivered'])
      // Nothing left to send: a second run is a no-op.
      expect(await deliverOutbox({ db: t.db }, { url: rx.url, secret: SECRET, maxAttempts: 4, backoffMs: 25 })).toEqual({ delivered: [], failed: [], attempts: 0 })
      expect(rx.requests).toHaveLength(2)
    } finally {
      await rx.close()
    }
  })

  it('gives up after maxAttempts with the last error on the row; the proposal stays approved', async () => {
    const p = await approved()
    const rx = await startReceiver({ secret: 'the-executor-expects-another-secret' })
    try {
      const t0 = Date.now()
      const summary = await deliverOutbox({ db: t.db }, { url: rx.url, secret: SECRET, maxAttempts: 3, backoffMs: 20 })
      expect(Date.now() - t0).toBeGreaterThanOrEqual(20 + 40) // waited 20 ms, then 40 ms
      expect(summary).toMatchObject({ delivered: [], failed: [p.id], attempts: 3 })
      expect(rx.effective.size).toBe(0)
      expect(await getOutbox(t.db, p.id)).toMatchObject({ status: 'failed', attempts: 3, lastError: 'HTTP 401: bad signature' })
      expect((await getProposal(t.db, p.id))!.status).toBe('approved')
      expect((await auditActions(t.db, p.id)).slice(-3)).toEqual(['handoff.attempt_failed', 'handoff.attempt_failed', 'handoff.failed'])
    } finally {
      await rx.close()
    }
  })

  it('without a webhook, executors claim approved actions (disjoint, leased) and complete the hand-off', async () => {
    const ps = [await approved(), await approved(), await approved()]
    const mine = new Set(ps.map((p) => p.id))
    const [a, b] = await Promise.all([claimApproved({ db: t.db }, { executorId: 'exec-a', limit: 2 }), claimApproved({ db: t.db }, { executorId: 'exec-b', limit: 2 })])
    if (!a.ok || !b.ok) throw new Error('claim refused')
    const claimedA = a.claimed.map((c) => c.outbox.proposalId).filter((id) => mine.has(id))
    const claimedB = b.claimed.map((c) => c.outbox.proposalId).filter((id) => mine.has(id))
    expect(new Set([...claimedA, ...claimedB]).size).toBe(claimedA.length + claimedB.length)
    expect(claimedA.length + claimedB.length).toBe(3)
    const byA = a.claimed.find((c) => mine.has(c.outbox.proposalId))!
    expect(byA.payload).toMatchObject({ type: 'warden.approved_action', action_id: 'restart_workload' })
    expect(byA.outbox).toMatchObject({ status: 'claimed', claimedBy: 'exec-a' })
    const id = byA.outbox.proposalId
    expect(await completeHandoff({ db: t.db }, { proposalId: id, executorId: 'exec-b' })).toMatchObject({ ok: false, code: 'conflict', reason: 'claimed_by_other' })
    expect(await completeHandoff({ db: t.db }, { proposalId: id, executorId: 'exec-a' })).toMatchObject({ ok: true, proposal: { status: 'handed_off', handedOffTo: 'executor:exec-a' }, outbox: { status: 'completed' } })
    expect(await completeHandoff({ db: t.db }, { proposalId: id, executorId: 'exec-a' })).toMatchObject({ ok: false, code: 'conflict', reason: 'not_claimed' })
    expect(await completeHandoff({ db: t.db }, { proposalId: 'pr_nope', executorId: 'exec-a' })).toMatchObject({ ok: false, code: 'not_found' })
    expect((await auditActions(t.db, id)).slice(-2)).toEqual(['handoff.claimed', 'handoff.completed'])
    expect(await claimApproved({ db: t.db }, { executorId: 'assistant', limit: 5 })).toMatchObject({ ok: false, code: 'forbidden' })
  })

  it('a claim whose lease ran out can be claimed again by another executor', async () => {
    const p = await approved()
    const first = await claimApproved({ db: t.db }, { executorId: 'exec-slow', limit: 100, leaseMs: 1000 })
    expect(first.ok && first.claimed.some((c) => c.outbox.proposalId === p.id)).toBe(true)
    const notYet = await claimApproved({ db: t.db }, { executorId: 'exec-fast', limit: 100 })
    expect(notYet.ok && notYet.claimed.some((c) => c.outbox.proposalId === p.id)).toBe(false)
    const later = await claimApproved({ db: t.db, clock: () => new Date(Date.now() + 5000) }, { executorId: 'exec-fast', limit: 100 })
    expect(later.ok && later.claimed.find((c) => c.outbox.proposalId === p.id)?.outbox).toMatchObject({ claimedBy: 'exec-fast', attempts: 2 })
    expect(await completeHandoff({ db: t.db }, { proposalId: p.id, executorId: 'exec-slow' })).toMatchObject({ ok: false, reason: 'claimed_by_other' })
    expect(await completeHandoff({ db: t.db }, { proposalId: p.id, executorId: 'exec-fast' })).toMatchObject({ ok: true })
    expect(await verifyAudit(t.db)).toMatchObject({ ok: true })
  })
})
