import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertIntakeOutput, AssessmentOutput } from '../../../src/http/routes/alerts.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// GET /v1/assessments/:id on the demo knowledge base: the stored annotation plus its citations resolved to
// source URI, heading path and passage — each one an item of the evidence pack the draft was built from.
describe(`GET /v1/assessments/:id (${backend})`, () => {
  let f: HttpFixture
  let assessmentId: string
  beforeAll(async () => {
    f = await createHttpFixture({ ingestDemo: true })
    const body = amPayload({
      name: 'KubePodCrashLooping',
      labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' },
      summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping',
      description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.',
    })
    const res = await f.call('POST', '/v1/alerts/alertmanager?wait=true', { as: 'webhook', body })
    expect(res.status).toBe(202)
    assessmentId = AlertIntakeOutput.parse(await res.json()).alerts[0]!.assessmentId!
    expect(assessmentId).toBeTruthy()
  })
  afterAll(async () => f?.cleanup())

  it('resolves every cited ref of the draft to its evidence item: source, heading path, passage, hashes', async () => {
    const res = await f.call('GET', `/v1/assessments/${assessmentId}`, { as: 'oncall' })
    expect(res.status).toBe(200)
    const a = AssessmentOutput.parse(await res.json())
    const cited = new Set([...a.draft.causes, ...a.draft.steps, ...a.draft.similarIncidents, ...a.draft.actions].flatMap((x) => x.citations))
    expect(cited.size).toBeGreaterThan(0)
    expect(new Set(a.citations.map((c) => c.ref))).toEqual(cited)
    const items = new Map(a.evidencePack.items.map((i) => [i.ref, i]))
    for (const c of a.citations) {
      const item = items.get(c.ref)!
      expect(c).toMatchObject({ sourceUri: item.sourceUri, headingPath: item.headingPath, passage: item.text, chunkId: item.chunkId, contentHash: item.contentHash })
      expect(c.citedBy.length).toBeGreaterThan(0)
    }
    // Runbook steps cite passages of documents with a source and a heading path.
    const step = a.citations.find((c) => c.citedBy.some((w) => w.startsWith('steps[')) && c.kind === 'chunk')
    expect(step?.sourceUri).toMatch(/^file:\/\//)
    expect(step!.headingPath.length).toBeGreaterThan(0)
  })

  it('404 for an unknown id, 401 without a token, 403 for a webhook token', async () => {
    expect((await f.call('GET', '/v1/assessments/as_missing', { as: 'oncall' })).status).toBe(404)
    expect((await f.call('GET', `/v1/assessments/${assessmentId}`)).status).toBe(401)
    expect((await f.call('GET', `/v1/assessments/${assessmentId}`, { as: 'webhook' })).status).toBe(403)
  })
})
