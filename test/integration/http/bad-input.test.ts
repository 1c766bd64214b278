import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// JSON that parses but that PostgreSQL cannot store (U+0000 and unpaired surrogates in text/jsonb) must be a
// 422 naming the path on every JSON route, not a 500 from inside the transaction, and must leave nothing behind.
describe(`unstorable JSON on the JSON routes (${backend})`, () => {
  let f: HttpFixture
  const count = async (table: string) => (await f.t.db.query<{ n: number }>(`select count(*)::int as n from ${table}`)).rows[0]!.n
  beforeAll(async () => {
    f = await createHttpFixture()
  })
  afterAll(async () => f?.cleanup())

  it('refuses a question with U+0000 with 422 and the path, storing no answer', async () => {
    const before = await count('assessments')
    const res = await f.call('POST', '/v1/ask', { as: 'oncall', body: { question: 'why is cart-api\u0000 slow?' } })
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: { code: string; requestId: string; details: Array<{ path: string }> } }
    expect(body.error.code).toBe('validation_failed')
    expect(body.error.requestId).toEqual(expect.any(String))
    expect(body.error.details.map((d) => d.path)).toContain('question')
    expect(await count('assessments')).toBe(before)
  })

  it('refuses an unpaired surrogate (raw JSON escape) and over-deep nesting with 422', async () => {
    const lone = await f.call('POST', '/v1/ask', { as: 'oncall', raw: '{"question":"disk \\ud800 full"}', headers: { 'content-type': 'application/json' } })
    expect(lone.status).toBe(422)
    const deep = await f.call('POST', '/v1/ask', { as: 'oncall', raw: `{"question":"x","extra":${'['.repeat(200)}${']'.repeat(200)}}`, headers: { 'content-type': 'application/json' } })
    expect(deep.status).toBe(422)
    expect(((await deep.json()) as { error: { message: string } }).error.message).toMatch(/cannot be stored/)
  })

  it('refuses a human proposal whose params carry U+0000, with no proposal and no audit row', async () => {
    const [proposals, audit] = [await count('proposals'), await count('audit_log')]
    const res = await f.call('POST', '/v1/proposals', { as: 'oncall', body: { actionId: 'restart_pods', params: { service: 'cart\u0000api' }, rationale: 'x' } })
    expect(res.status).toBe(422)
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/cannot be stored/)
    expect([await count('proposals'), await count('audit_log')]).toEqual([proposals, audit])
  })

  it('still answers an ordinary question (the check is not a blanket refusal)', async () => {
    const res = await f.call('POST', '/v1/ask', { as: 'oncall', body: { question: 'how do I find what fills the orderbook-db disk? ünïcode ✓ 🙂' } })
    expect(res.status).toBe(200)
  })
})
