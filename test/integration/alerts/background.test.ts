import http from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { approve } from '../../../src/approvals/approve.js'
import { proposeFromAssessment } from '../../../src/approvals/propose.js'
import { getProposal } from '../../../src/approvals/store.js'
import { enqueueAssessment } from '../../../src/alerts/jobs/enqueue.js'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { waitForJob } from '../../../src/alerts/worker.js'
import { every, startBackgroundWork } from '../../../src/cli/workers.js'
import { parseConfig } from '../../../src/config/env.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { SRE, depsFor, reference, seedAssessment, seedTelemetry } from '../approvals/fixtures.js'

// The background work `warden serve` starts, wired from configuration: job workers assess queued alerts, the
// sweeper expires overdue proposals, and with an executor URL the deliverer hands approved actions off.

const silent = pino({ level: 'silent' })
const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

describe('every()', () => {
  it('never overlaps runs, survives a failing run, and stop() waits for the run in flight', async () => {
    let running = 0
    let maxRunning = 0
    let runs = 0
    let release!: () => void
    const held = new Promise<void>((r) => (release = r))
    const loop = every('test', 1, async () => {
      running++
      maxRunning = Math.max(maxRunning, running)
      runs++
      try {
        if (runs === 2) throw new Error('a bad run')
        if (runs === 4) await held
      } finally {
        running--
      }
    }, silent)
    await until('the fourth run', async () => runs >= 4)
    let stopped = false
    const stopping = loop.stop().then(() => (stopped = true))
    await new Promise((r) => setTimeout(r, 30))
    expect(stopped).toBe(false)
    release()
    await stopping
    expect(runs).toBe(4)
    expect(maxRunning).toBe(1)
  })
})

describe(`background work of warden serve (${backend})`, () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase()
    await seedTelemetry(t.db, 'checkout-api', { status: 'ok' })
  })
  afterAll(async () => t?.cleanup())

  it('assesses queued alerts, expires overdue proposals and delivers approved ones to the executor', async () => {
    const received: Array<{ signature: string | undefined; body: string }> = []
    const executor = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => (body += c))
      req.on('end', () => {
        received.push({ signature: req.headers['x-warden-signature'] as string | undefined, body })
        res.writeHead(200).end('{}')
      })
    })
    await new Promise<void>((r) => executor.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(executor.address() as AddressInfo).port}/hooks/warden`
    const config = parseConfig({ WARDEN_WORKER_CONCURRENCY: '2', WARDEN_SWEEP_INTERVAL_MS: '100', WARDEN_DELIVER_INTERVAL_MS: '100', WARDEN_EXECUTOR_URL: url, WARDEN_EXECUTOR_SECRET: 'executor-secret' })

    // A queued alert, as intake leaves it.
    const r = await receiveAlerts(
      { db: t.db, onStored: async (tx, a) => void (await enqueueAssessment(tx, a.alertId, { maxAttempts: 3 })) },
      { format: 'alertmanager', payload: amPayload({ name: 'KubePodCrashLooping', fingerprint: 'bg-1', labels: { namespace: 'shop', container: 'cart-api' }, summary: 'crash looping', description: 'OOMKilled' }) },
    )
    if (!r.ok) throw new Error('fixture alert rejected')
    const { rows } = await t.db.query<{ id: string }>('select id from jobs where dedupe_key = $1', [r.alerts[0]!.alertId])
    // A proposal made a day ago (overdue now) and one approved now (waiting for hand-off).
    const proposalFor = async (workload: string, clock?: () => Date) => {
      const { assessmentId } = await seedAssessment(t.db, { service: 'checkout-api', actions: [{ actionId: 'restart_workload', params: { service: 'checkout-api', workload } }] })
      const p = await proposeFromAssessment(depsFor(t.db, clock), { assessmentId })
      if (!p.ok || !p.results[0]!.result.ok) throw new Error('proposal refused')
      return p.results[0]!.result.proposal
    }
    const overdue = await proposalFor('checkout-api-bg1', () => new Date(Date.now() - 86_400_000))
    const toHandOff = await proposalFor('checkout-api-bg2')
    const a = await approve(depsFor(t.db), { proposalId: toHandOff.id, reviewer: SRE })
    expect(a).toMatchObject({ ok: true, approved: true })

    const bg = startBackgroundWork({ deps: { db: t.db, embedder: createLocalEmbeddings(), reference, llm: null }, config, logger: silent })
    try {
      expect(await waitForJob(t.db, rows[0]!.id, 30_000)).toMatchObject({ status: 'done', result: { assessmentId: expect.any(String) } })
      await until('the sweeper', async () => (await getProposal(t.db, overdue.id))!.status === 'expired')
      await until('the deliverer', async () => (await getProposal(t.db, toHandOff.id))!.status === 'handed_off')
    } finally {
      await bg.stop()
      executor.close()
    }
    expect(received).toHaveLength(1)
    expect(received[0]!.signature).toEqual(expect.any(String))
    expect(JSON.parse(received[0]!.body)).toMatchObject({ type: 'warden.approved_action', proposal_id: toHandOff.id })
  })
})
