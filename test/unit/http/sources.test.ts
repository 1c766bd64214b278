import crypto from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { authenticateSource, matchesHexHmac, verifyGrafanaSignature, verifyPagerDutySignature } from '../../../src/http/auth/sources.js'

// Signature verification for alert sources, against signatures computed independently here with node:crypto.

const SECRET = 'grafana-shared-secret'
const body = Buffer.from('{"status":"firing","alerts":[{"fingerprint":"f1","labels":{"alertname":"DiskFull"}}]}', 'utf8')
const hmacHex = (secret: string, data: string | Buffer) => crypto.createHmac('sha256', secret).update(data).digest('hex')
const now = new Date('2026-11-21T13:40:00Z')
const nowS = Math.floor(now.getTime() / 1000)

describe('hex HMAC comparison', () => {
  it('accepts the right digest in either case, refuses other digests and malformed input', () => {
    const sig = hmacHex(SECRET, body)
    expect(matchesHexHmac(SECRET, body, sig)).toBe(true)
    expect(matchesHexHmac(SECRET, body, sig.toUpperCase())).toBe(true)
    expect(matchesHexHmac(SECRET, body, ` ${sig} `)).toBe(true)
    expect(matchesHexHmac('other-secret', body, sig)).toBe(false)
    expect(matchesHexHmac(SECRET, Buffer.concat([body, Buffer.from(' ')]), sig)).toBe(false)
    for (const bad of ['', sig.slice(0, 63), `${sig}00`, `sha256=${sig}`, 'z'.repeat(64)]) expect(matchesHexHmac(SECRET, body, bad), bad).toBe(false)
  })

  it('signs the raw bytes: invalid UTF-8 in the body still verifies byte for byte', () => {
    const weird = Buffer.from([0x7b, 0xff, 0xfe, 0x7d])
    expect(matchesHexHmac(SECRET, weird, hmacHex(SECRET, weird))).toBe(true)
    // Decoding and re-encoding would have changed the bytes (U+FFFD replacements) and the digest.
    expect(matchesHexHmac(SECRET, Buffer.from(weird.toString('utf8'), 'utf8'), hmacHex(SECRET, weird))).toBe(false)
  })
})

describe('Grafana signature', () => {
  it('untimestamped: HMAC of the body', () => {
    expect(verifyGrafanaSignature({ secret: SECRET, body, signature: hmacHex(SECRET, body), now })).toEqual({ ok: true })
    expect(verifyGrafanaSignature({ secret: SECRET, body, signature: hmacHex(SECRET, 'x'), now })).toMatchObject({ ok: false })
  })

  it('timestamped: HMAC of `timestamp:body`, within a 5-minute window either side', () => {
    const sign = (ts: number) => hmacHex(SECRET, Buffer.concat([Buffer.from(`${ts}:`), body]))
    for (const skew of [0, -299, 299]) {
      const ts = nowS + skew
      expect(verifyGrafanaSignature({ secret: SECRET, body, signature: sign(ts), timestamp: String(ts), now }), `skew ${skew}`).toEqual({ ok: true })
    }
    for (const skew of [-301, 301, -86_400]) {
      const ts = nowS + skew
      expect(verifyGrafanaSignature({ secret: SECRET, body, signature: sign(ts), timestamp: String(ts), now }), `skew ${skew}`).toMatchObject({ ok: false, reason: expect.stringMatching(/window/) })
    }
    // The timestamp is part of what is signed: moving it forward to dodge the window breaks the signature.
    expect(verifyGrafanaSignature({ secret: SECRET, body, signature: sign(nowS - 3600), timestamp: String(nowS), now })).toMatchObject({ ok: false, reason: 'signature does not match' })
    // A body-only signature does not pass once a timestamp is sent.
    expect(verifyGrafanaSignature({ secret: SECRET, body, signature: hmacHex(SECRET, body), timestamp: String(nowS), now })).toMatchObject({ ok: false })
    expect(verifyGrafanaSignature({ secret: SECRET, body, signature: sign(nowS), timestamp: `${nowS}.5`, now })).toMatchObject({ ok: false, reason: expect.stringMatching(/Unix seconds/) })
  })
})

describe('PagerDuty v3 signature', () => {
  const PD = 'pagerduty-secret'
  const good = `v1=${hmacHex(PD, body)}`
  it('accepts any matching v1 signature among several (secret rotation)', () => {
    expect(verifyPagerDutySignature({ secret: PD, body, header: good })).toEqual({ ok: true })
    expect(verifyPagerDutySignature({ secret: PD, body, header: `v1=${hmacHex('old', body)},${good}` })).toEqual({ ok: true })
    expect(verifyPagerDutySignature({ secret: PD, body, header: `${good}, v1=${'0'.repeat(64)}` })).toEqual({ ok: true })
  })
  it('refuses wrong, unversioned or other-version signatures', () => {
    expect(verifyPagerDutySignature({ secret: PD, body, header: `v1=${hmacHex('old', body)}` })).toMatchObject({ ok: false })
    expect(verifyPagerDutySignature({ secret: PD, body, header: hmacHex(PD, body) })).toMatchObject({ ok: false, reason: expect.stringMatching(/no v1/) })
    expect(verifyPagerDutySignature({ secret: PD, body, header: `v2=${hmacHex(PD, body)}` })).toMatchObject({ ok: false })
    expect(verifyPagerDutySignature({ secret: PD, body, header: '' })).toMatchObject({ ok: false })
  })
})

describe('authenticateSource', () => {
  const token = { identity: 'alertmanager', roles: ['webhook'], via: 'token:tk_1' }
  const oncall = { identity: 'olivia', roles: ['oncall'], via: 'token:tk_2' }
  const secrets = { grafanaHmacSecret: SECRET, pagerdutySecret: 'pd' }
  const headers = (h: Record<string, string>) => (n: string) => h[n.toLowerCase()]
  const base = { body, now, secrets }

  it('token sources need a webhook token: 401 without, 403 with another role', () => {
    expect(authenticateSource({ ...base, source: 'alertmanager', header: headers({}), bearer: token })).toEqual({ ok: true, principal: token })
    expect(authenticateSource({ ...base, source: 'generic', header: headers({}), bearer: null })).toMatchObject({ ok: false, code: 'unauthorized' })
    expect(authenticateSource({ ...base, source: 'alertmanager', header: headers({}), bearer: oncall })).toMatchObject({ ok: false, code: 'forbidden' })
    // A Grafana signature header means nothing on the Alertmanager route.
    expect(authenticateSource({ ...base, source: 'alertmanager', header: headers({ 'x-grafana-alerting-signature': hmacHex(SECRET, body) }), bearer: null })).toMatchObject({ ok: false, code: 'unauthorized' })
  })

  it('a valid signature yields the source principal; a bad one is refused even with a valid token', () => {
    const ok = authenticateSource({ ...base, source: 'grafana', header: headers({ 'x-grafana-alerting-signature': hmacHex(SECRET, body) }), bearer: null })
    expect(ok).toEqual({ ok: true, principal: { identity: 'source:grafana', roles: ['webhook'], via: 'source:grafana' } })
    const pd = authenticateSource({ ...base, source: 'pagerduty', header: headers({ 'x-pagerduty-signature': `v1=${hmacHex('pd', body)}` }), bearer: null })
    expect(pd).toMatchObject({ ok: true, principal: { identity: 'source:pagerduty', via: 'source:pagerduty' } })
    expect(authenticateSource({ ...base, source: 'grafana', header: headers({ 'x-grafana-alerting-signature': hmacHex('x', body) }), bearer: token })).toMatchObject({ ok: false, code: 'unauthorized' })
    expect(authenticateSource({ ...base, source: 'grafana', header: headers({}), bearer: token })).toEqual({ ok: true, principal: token })
  })

  it('without a configured secret a signature cannot authenticate anything', () => {
    const r = authenticateSource({ body, now, secrets: {}, source: 'pagerduty', header: headers({ 'x-pagerduty-signature': `v1=${hmacHex('', body)}` }), bearer: null })
    expect(r).toMatchObject({ ok: false, code: 'unauthorized' })
  })
})
