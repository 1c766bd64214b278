import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { claimJobs } from '../../../src/alerts/jobs/claim.js'
import { ASSESS_ALERT } from '../../../src/alerts/jobs/types.js'
import { AlertIntakeOutput } from '../../../src/http/app.js'
import { amPayload } from '../../helpers/alerts.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// Alert intake through HTTP: each source's authentication, the 202 shape, dedupe into one job and one
// assessment, resolved deliveries recorded but not assessed, `?wait=true`, and nothing stored on rejection.

const GRAFANA_SECRET = 'grafana-hmac-secret-for-tests'
const PD_SECRET = 'pagerduty-v3-secret-for-tests'
const hmac = (secret: string, data: string | Buffer) => crypto.createHmac('sha256', secret).update(data).digest('hex')

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const demo = new Map<string, Json>()
for (const line of fs.readFileSync(path.join(REPO_ROOT, 'evals/cases/demo-alerts.jsonl'), 'utf8').split('\n').filter((l) => l.trim())) {
  const c = JSON.parse(line) as { format: string; payload: Json }
  if (!demo.has(c.format)) demo.set(c.format, c.payload)
}
/** A demo Grafana payload made a distinct alert by `tag`. */
function grafana(tag: string): Json {
  const p = structuredClone(demo.get('grafana')!)
  for (const a of p.alerts) a.fingerprint = `${tag}-${a.fingerprint}`
  return p
}
function pagerduty(tag: string): Json {
  const p = structuredClone(demo.get('pagerduty')!)
  p.event.data.id = `${tag}-${p.event.data.id}`
  p.event.data.incident_key = `${tag}-${p.event.data.incident_key}`
  return p
}

describe(`alert intake (${backend})`, () => {
  let f: HttpFixture
  beforeAll(async () => {
    f = await createHttpFixture({ ingestDemo: true, deps: { sources: { grafanaHmacSecret: GRAFANA_SECRET, pagerdutySecret: PD_SECRET }, assessWaitMs: 60_000 } })
  })
  afterAll(async () => f?.cleanup())

  const counts = async () =>
    (await f.t.db.query<{ alerts: number; jobs: number; assessments: number }>(
      'select (select count(*)::int from alerts) as alerts, (select count(*)::int from jobs) as jobs, (select count(*)::int from assessments) as assessments',
    )).rows[0]!
  /** POST the exact bytes `raw` with the given headers (no token unless one is passed). */
  const post = (route: string, raw: string, headers: Record<string, string> = {}) =>
    f.call('POST', `/v1/alerts/${route}`, { raw, headers: { 'content-type': 'application/json', ...headers } })
  const bearer = (role: 'webhook' | 'oncall' = 'webhook') => ({ authorization: `Bearer ${f.tokens[role]}` })
  const accepted = async (res: Response) => {
    expect(res.status, await res.clone().text()).toBe(202)
    return AlertIntakeOutput.parse(await res.json())
  }
  async function expectRejected(res: Promise<Response>, status: number, code: string) {
    const before = await counts()
    const r = await res
    expect(r.status).toBe(status)
    expect(await r.json()).toMatchObject({ error: { code, message: expect.any(String), requestId: expect.any(String) } })
    expect(await counts()).toEqual(before)
  }

  describe('Alertmanager and generic: webhook bearer token', () => {
    it('202 with the alert and its queued job; nothing is assessed inline', async () => {
      const before = await counts()
      const out = await accepted(await post('alertmanager', JSON.stringify(amPayload({ name: 'KubePodCrashLooping', fingerprint: 'am-1', labels: { namespace: 'shop', container: 'cart-api' }, summary: 'cart-api crash looping', description: 'OOMKilled' })), bearer()))
      expect(out.format).toBe('alertmanager')
      expect(out.alerts).toEqual([{ alertId: expect.any(String), created: true, status: 'firing', jobId: expect.any(String), jobStatus: 'queued', assessmentId: null, pending: true }])
      const { rows } = await f.t.db.query('select kind, dedupe_key, status, payload from jobs where id = $1', [out.alerts[0]!.jobId])
      expect(rows).toEqual([{ kind: ASSESS_ALERT, dedupe_key: out.alerts[0]!.alertId, status: 'queued', payload: { alertId: out.alerts[0]!.alertId } }])
      expect(await counts()).toEqual({ alerts: before.alerts + 1, jobs: before.jobs + 1, assessments: before.assessments })
      const audit = await f.t.db.query<{ actor: string; action: string }>('select actor, action from audit_log where subject = $1', [`alert:${out.alerts[0]!.alertId}`])
      expect(audit.rows).toEqual([{ actor: 'webhook:alertmanager:alertmanager', action: 'alert.received' }])
    })

    it('401 without or with a bad token, 403 with a non-webhook token; nothing stored', async () => {
      const body = JSON.stringify(amPayload({ name: 'Probe', fingerprint: 'am-auth', labels: {}, summary: 's', description: 'd' }))
      await expectRejected(post('alertmanager', body), 401, 'unauthorized')
      await expectRejected(post('alertmanager', body, { authorization: 'Bearer wdn_nope' }), 401, 'unauthorized')
      await expectRejected(post('alertmanager', body, bearer('oncall')), 403, 'forbidden')
      await expectRejected(post('generic', JSON.stringify(demo.get('generic')), {}), 401, 'unauthorized')
      // A Grafana signature does not open other routes.
      await expectRejected(post('generic', JSON.stringify(demo.get('generic')), { 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, JSON.stringify(demo.get('generic'))) }), 401, 'unauthorized')
    })

    it('the same alert delivered twice → one alert, one job, one assessment', async () => {
      const body = JSON.stringify({ ...demo.get('generic'), fingerprint: 'generic-dedupe-1' })
      const first = await accepted(await post('generic', body, bearer()))
      const second = await accepted(await post('generic?wait=true', body, bearer()))
      const third = await accepted(await post('generic?wait=true', body, bearer()))
      expect(second.alerts[0]).toMatchObject({ alertId: first.alerts[0]!.alertId, created: false, jobId: first.alerts[0]!.jobId, jobStatus: 'done', pending: false, assessmentId: expect.any(String) })
      expect(third.alerts[0]!.assessmentId).toBe(second.alerts[0]!.assessmentId)
      const n = async (sql: string) => (await f.t.db.query<{ n: number }>(sql, [first.alerts[0]!.alertId])).rows[0]!.n
      expect(await n('select count(*)::int n from jobs where dedupe_key = $1')).toBe(1)
      expect(await n('select count(*)::int n from assessments where alert_id = $1')).toBe(1)
      expect(await n('select deliveries n from alerts where id = $1')).toBe(3)
    })

    it('resolved deliveries are recorded, never queued or assessed', async () => {
      const before = await counts()
      const out = await accepted(await post('alertmanager', JSON.stringify(amPayload({ name: 'DiskFull', fingerprint: 'am-resolved', status: 'resolved', labels: {}, summary: 's', description: 'd' })), bearer()))
      expect(out.alerts).toEqual([{ alertId: expect.any(String), created: true, status: 'resolved', jobId: null, jobStatus: null, assessmentId: null, pending: false }])
      expect(await counts()).toEqual({ ...before, alerts: before.alerts + 1 })
    })

    it('?wait=true answers with the assessment of every firing alert of the delivery', async () => {
      const p = amPayload({ name: 'KubePodCrashLooping', fingerprint: 'am-wait-1', labels: { namespace: 'shop', container: 'cart-api' }, summary: 'cart-api crash looping', description: 'restarted 9 times, OOMKilled' })
      const second: Json = { ...p.alerts[0]!, fingerprint: 'am-wait-2', labels: { ...p.alerts[0]!.labels, container: 'checkout-api' } }
      ;(p.alerts as Json[]).push(second)
      const out = await accepted(await post('alertmanager?wait=true', JSON.stringify(p), bearer()))
      expect(out.alerts).toHaveLength(2)
      for (const a of out.alerts) {
        expect(a).toMatchObject({ status: 'firing', jobStatus: 'done', pending: false, assessmentId: expect.any(String) })
        const res = await f.call('GET', `/v1/assessments/${a.assessmentId}`, { as: 'oncall' })
        expect(await res.json()).toMatchObject({ id: a.assessmentId, alertId: a.alertId })
      }
    })
  })

  describe('Grafana: HMAC of the raw body, or a webhook token', () => {
    it('accepts a valid signature over the exact bytes, as the source principal', async () => {
      // Odd whitespace: a signature over re-serialised JSON would not match these bytes.
      const raw = JSON.stringify(grafana('g-sig'), null, 3) + '\n'
      const out = await accepted(await post('grafana', raw, { 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, raw) }))
      expect(out.alerts[0]).toMatchObject({ created: true, status: 'firing', jobStatus: 'queued' })
      const audit = await f.t.db.query<{ actor: string }>('select actor from audit_log where subject = $1', [`alert:${out.alerts[0]!.alertId}`])
      expect(audit.rows).toEqual([{ actor: 'webhook:grafana' }])
    })

    it('refuses a wrong or missing signature, and a bad signature even with a valid token', async () => {
      const raw = JSON.stringify(grafana('g-bad'))
      await expectRejected(post('grafana', raw, { 'x-grafana-alerting-signature': hmac('wrong-secret', raw) }), 401, 'unauthorized')
      await expectRejected(post('grafana', raw, { 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, raw.replace('firing', 'resolved')) }), 401, 'unauthorized')
      await expectRejected(post('grafana', raw, { 'x-grafana-alerting-signature': 'not-hex' }), 401, 'unauthorized')
      await expectRejected(post('grafana', raw), 401, 'unauthorized')
      await expectRejected(post('grafana', raw, { ...bearer(), 'x-grafana-alerting-signature': hmac('wrong-secret', raw) }), 401, 'unauthorized')
      await accepted(await post('grafana', raw, bearer()))
    })

    it('timestamped signatures: `timestamp:body` within 5 minutes; a replay inside the window only re-delivers', async () => {
      const raw = JSON.stringify(grafana('g-ts'))
      const now = Math.floor(Date.now() / 1000)
      const signed = (ts: number) => ({ 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, `${ts}:${raw}`), 'x-grafana-alerting-signature-timestamp': String(ts) })
      await expectRejected(post('grafana', raw, signed(now - 360)), 401, 'unauthorized')
      await expectRejected(post('grafana', raw, signed(now + 360)), 401, 'unauthorized')
      // A fresh timestamp on an old signature is a different message.
      await expectRejected(post('grafana', raw, { ...signed(now - 360), 'x-grafana-alerting-signature-timestamp': String(now) }), 401, 'unauthorized')
      const first = await accepted(await post('grafana', raw, signed(now - 60)))
      const replay = await accepted(await post('grafana', raw, signed(now - 60)))
      expect(replay.alerts[0]).toMatchObject({ alertId: first.alerts[0]!.alertId, created: false, jobId: first.alerts[0]!.jobId })
    })

    it('a valid signature on a malformed body is 400; on the wrong format 422; nothing stored', async () => {
      const broken = '{"alerts": [ {"status": "firing"'
      await expectRejected(post('grafana', broken, { 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, broken) }), 400, 'invalid_json')
      const wrong = JSON.stringify(pagerduty('g-wrong'))
      await expectRejected(post('grafana', wrong, { 'x-grafana-alerting-signature': hmac(GRAFANA_SECRET, wrong) }), 422, 'validation_failed')
      // Signature first: an unauthenticated malformed body learns nothing about parsing.
      await expectRejected(post('grafana', broken, { 'x-grafana-alerting-signature': hmac('x', broken) }), 401, 'unauthorized')
    })
  })

  describe('PagerDuty: X-PagerDuty-Signature v1, or a webhook token', () => {
    it('accepts any matching v1 signature of the raw body', async () => {
      const raw = JSON.stringify(pagerduty('pd-1'))
      const out = await accepted(await post('pagerduty', raw, { 'x-pagerduty-signature': `v1=${hmac('rotated-out', raw)},v1=${hmac(PD_SECRET, raw)}` }))
      expect(out.alerts[0]).toMatchObject({ created: true, status: 'firing', jobStatus: 'queued', pending: true })
      await accepted(await post('pagerduty', JSON.stringify(pagerduty('pd-2')), bearer()))
    })

    it('refuses wrong, missing or unversioned signatures; nothing stored', async () => {
      const raw = JSON.stringify(pagerduty('pd-bad'))
      await expectRejected(post('pagerduty', raw, { 'x-pagerduty-signature': `v1=${hmac('rotated-out', raw)}` }), 401, 'unauthorized')
      await expectRejected(post('pagerduty', raw, { 'x-pagerduty-signature': hmac(PD_SECRET, raw) }), 401, 'unauthorized')
      await expectRejected(post('pagerduty', raw, { 'x-pagerduty-signature': `v1=${hmac(PD_SECRET, `${raw} `)}` }), 401, 'unauthorized')
      await expectRejected(post('pagerduty', raw), 401, 'unauthorized')
    })
  })

  it('malformed JSON → 400 invalid_json, a payload of another format → 422; nothing stored', async () => {
    await expectRejected(post('alertmanager', '{"alerts": [', bearer()), 400, 'invalid_json')
    await expectRejected(post('alertmanager', '', bearer()), 400, 'invalid_json')
    await expectRejected(post('alertmanager', JSON.stringify(demo.get('generic')), bearer()), 422, 'validation_failed')
    await expectRejected(post('pagerduty', JSON.stringify(amPayload({ name: 'X', labels: {}, summary: 's', description: 'd' })), bearer()), 422, 'validation_failed')
  })
})

describe(`alert intake: ?wait=true is bounded (${backend})`, () => {
  let f: HttpFixture
  beforeAll(async () => {
    f = await createHttpFixture({ deps: { assessWaitMs: 300 } })
  })
  afterAll(async () => f?.cleanup())

  it('a job another worker holds is not run again: the wait ends with pending and no second assessment', async () => {
    const payload = amPayload({ name: 'KubePodCrashLooping', fingerprint: 'held-1', labels: { container: 'cart-api' }, summary: 's', description: 'd' })
    const first = AlertIntakeOutput.parse(await (await f.call('POST', '/v1/alerts/alertmanager', { as: 'webhook', body: payload })).json())
    const [held] = await claimJobs(f.t.db, { kind: ASSESS_ALERT, workerId: 'other-replica/0', leaseMs: 600_000, jobId: first.alerts[0]!.jobId! })
    expect(held).toBeDefined()
    const res = await f.call('POST', '/v1/alerts/alertmanager?wait=true', { as: 'webhook', body: payload })
    expect(res.status).toBe(202)
    expect(AlertIntakeOutput.parse(await res.json()).alerts).toEqual([{ alertId: first.alerts[0]!.alertId, created: false, status: 'firing', jobId: first.alerts[0]!.jobId, jobStatus: 'running', assessmentId: null, pending: true }])
    expect((await f.t.db.query('select locked_by, attempts from jobs where id = $1', [held!.id])).rows).toEqual([{ locked_by: 'other-replica/0', attempts: 1 }])
    expect((await f.t.db.query<{ n: number }>('select count(*)::int n from assessments')).rows[0]!.n).toBe(0)
  })
})
