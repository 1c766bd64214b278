import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { authenticateToken, createToken, hashToken, listTokens, revokeToken } from '../../../src/http/auth/tokens.js'
import { amPayload } from '../../helpers/alerts.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

describe(`API tokens and route roles (${backend})`, () => {
  let f: HttpFixture
  beforeAll(async () => {
    f = await createHttpFixture()
  })
  afterAll(async () => f?.cleanup())

  it('stores only the hash of a token and authenticates the token to its identity and roles', async () => {
    const { token, row } = await createToken(f.t.db, { name: 'ci', identity: 'carol', roles: ['oncall', 'dba'] }, 'ada')
    const { rows } = await f.t.db.query<{ token_hash: string }>('select token_hash from api_tokens where id = $1', [row.id])
    expect(rows[0]!.token_hash).toBe(hashToken(token))
    expect(JSON.stringify(await f.t.db.query('select * from api_tokens'))).not.toContain(token)
    expect(await authenticateToken(f.t.db, token)).toEqual({ identity: 'carol', roles: ['dba', 'oncall'], via: `token:${row.id}` })
    expect(await revokeToken(f.t.db, row.id, 'ada')).toBe(true)
    expect(await revokeToken(f.t.db, row.id, 'ada')).toBe(false)
    expect(await authenticateToken(f.t.db, token)).toBeNull()
    expect((await listTokens(f.t.db)).find((t) => t.id === row.id)?.revokedAt).not.toBeNull()
    const audit = await f.t.db.query<{ action: string }>("select action from audit_log where subject = $1 order by seq", [`token:${row.id}`])
    expect(audit.rows.map((r) => r.action)).toEqual(['token.created', 'token.revoked'])
  })

  it('refuses a token for the assistant or with an unknown role', async () => {
    await expect(createToken(f.t.db, { name: 'x', identity: 'assistant', roles: ['admin'] }, 'ada')).rejects.toThrow(/assistant/)
    await expect(createToken(f.t.db, { name: 'x', identity: 'mallory', roles: ['root'] }, 'ada')).rejects.toThrow(/roles must be among/)
  })

  it('answers 401 without a token or with a bad one, 403 with the wrong role', async () => {
    const none = await f.call('GET', '/v1/search?q=disk')
    expect(none.status).toBe(401)
    expect(await none.json()).toMatchObject({ error: { code: 'unauthorized', requestId: expect.any(String) } })
    const bad = await f.call('GET', '/v1/search?q=disk', { headers: { authorization: 'Bearer wdn_not-a-token' } })
    expect(bad.status).toBe(401)
    const webhookAsks = await f.call('POST', '/v1/ask', { as: 'webhook', body: { question: 'how do I restart cart-api?' } })
    expect(webhookAsks.status).toBe(403)
    expect(((await webhookAsks.json()) as { error: { code: string } }).error.code).toBe('forbidden')
    const oncallPostsAlert = await f.call('POST', '/v1/alerts/alertmanager', { as: 'oncall', body: amPayload({ name: 'X', labels: {}, summary: 's', description: 'd' }) })
    expect(oncallPostsAlert.status).toBe(403)
    expect((await f.t.db.query('select count(*)::int as n from alerts')).rows[0]).toEqual({ n: 0 })
  })

  it('lets the right role through; admin holds every API role', async () => {
    expect((await f.call('GET', '/v1/search?q=disk', { as: 'oncall' })).status).toBe(200)
    expect((await f.call('GET', '/v1/search?q=disk', { as: 'reviewer' })).status).toBe(200)
    expect((await f.call('GET', '/v1/search?q=disk', { as: 'admin' })).status).toBe(200)
    expect((await f.call('GET', '/healthz')).status).toBe(200)
  })
})
