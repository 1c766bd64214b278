import { createHmac } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { answerMessage, esc } from '../../../src/http/slack/blocks.js'
import { isSlackResponseUrl } from '../../../src/http/slack/respond.js'
import { loadSlackDeps, loadSlackUsers, parseSlackUsers } from '../../../src/http/slack/users.js'
import { slackSignature, verifySlackSignature } from '../../../src/http/slack/verify.js'
import type { Answer } from '../../../src/assistant/ask.js'

const SECRET = '8f742231b10e8888abcd99yyyzzz85a5'
const NOW = new Date('2024-05-01T12:00:00Z')
const TS = String(NOW.getTime() / 1000)
const BODY = 'token=x&team_id=T0001&user_id=U2147483697&command=%2Fwarden&text=ask+why+is+disk+full'

/** Signed independently of the code under test, from Slack's documented recipe. */
const sign = (secret: string, ts: string, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`
const verify = (o: Partial<Parameters<typeof verifySlackSignature>[0]>) =>
  verifySlackSignature({ secret: SECRET, timestamp: TS, signature: sign(SECRET, TS, BODY), rawBody: BODY, now: NOW, ...o })

describe('Slack request signature (v0)', () => {
  it('matches Slack\'s documented recipe and accepts a correctly signed request', () => {
    expect(slackSignature(SECRET, TS, BODY)).toBe(sign(SECRET, TS, BODY))
    expect(slackSignature(SECRET, TS, Buffer.from(BODY))).toBe(sign(SECRET, TS, BODY))
    expect(verify({})).toEqual({ ok: true })
  })

  it('refuses a tampered body, a wrong secret and a malformed signature', () => {
    expect(verify({ rawBody: BODY.replace('disk', 'dusk') })).toMatchObject({ ok: false, reason: 'bad_signature' })
    expect(verify({ signature: sign('another-secret', TS, BODY) })).toMatchObject({ ok: false, reason: 'bad_signature' })
    expect(verify({ signature: sign(SECRET, TS, BODY).toUpperCase() })).toMatchObject({ ok: false, reason: 'bad_signature' })
    expect(verify({ signature: 'v0=abc' })).toMatchObject({ ok: false, reason: 'bad_signature' })
    expect(verify({ signature: sign(SECRET, TS, BODY).replace('v0=', 'v1=') })).toMatchObject({ ok: false, reason: 'bad_signature' })
  })

  it('refuses timestamps outside five minutes in either direction, and non-numeric ones', () => {
    for (const offset of [-301, 301, -86_400, 86_400]) {
      const ts = String(Number(TS) + offset)
      expect(verify({ timestamp: ts, signature: sign(SECRET, ts, BODY) })).toMatchObject({ ok: false, reason: 'stale_timestamp' })
    }
    for (const offset of [-300, -1, 0, 299, 300]) {
      const ts = String(Number(TS) + offset)
      expect(verify({ timestamp: ts, signature: sign(SECRET, ts, BODY) })).toEqual({ ok: true })
    }
    // A signature over the same digits still fails when the header is not plain Unix seconds.
    for (const ts of [`${TS}.0`, ` ${TS}`, '1.7e9', '-1', '']) {
      expect(verify({ timestamp: ts, signature: sign(SECRET, ts, BODY) }).ok).toBe(false)
    }
    // The signed timestamp is the header's: changing it after signing breaks the signature.
    expect(verify({ timestamp: String(Number(TS) + 1) })).toMatchObject({ ok: false, reason: 'bad_signature' })
  })

  it('refuses missing headers, and everything when no secret is configured', () => {
    expect(verify({ timestamp: undefined })).toMatchObject({ ok: false, reason: 'missing_headers' })
    expect(verify({ signature: undefined })).toMatchObject({ ok: false, reason: 'missing_headers' })
    expect(verify({ secret: undefined })).toMatchObject({ ok: false, reason: 'not_configured' })
    expect(verify({ secret: '', signature: sign('', TS, BODY) })).toMatchObject({ ok: false, reason: 'not_configured' })
  })

  it('fails verification for any change to the signed body', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200 }), fc.nat(), (body, insert, pos) => {
        const signature = sign(SECRET, TS, body)
        expect(verify({ rawBody: body, signature })).toEqual({ ok: true })
        const at = pos % (body.length + 1)
        const mutated = insert.length > 0 ? body.slice(0, at) + insert + body.slice(at) : body.slice(0, at) + body.slice(at + 1)
        fc.pre(mutated !== body)
        expect(verify({ rawBody: mutated, signature })).toMatchObject({ ok: false, reason: 'bad_signature' })
      }),
      { numRuns: 500 },
    )
  })
})

describe('Slack user map', () => {
  const map = parseSlackUsers({ users: [
    { slack_user: 'U0SAM', team: 'T0001', identity: 'sam', roles: ['reviewer', 'sre', 'sre'] },
    { slack_user: 'U0SAM', identity: 'sam-anywhere', roles: ['oncall'] },
  ] }, 'test')

  it('maps a user to a principal with via slack:<team>/<user>; a team-specific entry wins', () => {
    expect(map.lookup('T0001', 'U0SAM')).toEqual({ identity: 'sam', roles: ['reviewer', 'sre'], via: 'slack:T0001/U0SAM' })
    expect(map.lookup('T0002', 'U0SAM')).toEqual({ identity: 'sam-anywhere', roles: ['oncall'], via: 'slack:T0002/U0SAM' })
    expect(map.lookup('T0001', 'U0NOBODY')).toBeNull()
  })

  it('refuses a bad file with every problem named', () => {
    const bad = () => parseSlackUsers({ users: [
      { slack_user: 'sam', identity: 'sam', roles: ['reviewer'] },
      { slack_user: 'U0X', identity: 'assistant', roles: ['reviewer'] },
      { slack_user: 'U0Y', identity: 'y', roles: ['root'] },
      { slack_user: 'U0Z', identity: 'z', roles: [], extra: 1 },
    ] }, 'map.yaml')
    expect(bad).toThrow(/map\.yaml: users\.0\.slack_user: must be a Slack user id/)
    expect(bad).toThrow(/users\.1\.identity: the assistant identity/)
    expect(bad).toThrow(/users\.2\.roles\.0: unknown role/)
    expect(bad).toThrow(/users\.3: Unrecognized key/)
    expect(() => parseSlackUsers({ users: [{ slack_user: 'U0A', identity: 'a', roles: ['oncall'] }, { slack_user: 'U0A', identity: 'b', roles: ['admin'] }] }, 'm')).toThrow(/users\.1: U0A is mapped twice/)
  })

  it('loads YAML and JSON files; a syntax error names the line', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'slack-users-'))
    writeFileSync(path.join(dir, 'u.json'), JSON.stringify({ users: [{ slack_user: 'U0J', identity: 'jo', roles: ['oncall'] }] }))
    writeFileSync(path.join(dir, 'bad.yaml'), 'users:\n  - slack_user: U0J\n   identity: [\n')
    expect(loadSlackUsers(path.join(dir, 'u.json')).lookup('T0009', 'U0J')?.identity).toBe('jo')
    expect(loadSlackUsers(path.resolve('ingest/reference/slack-users.yaml')).lookup('T0LARKSPUR', 'U0DEMOSAM')).toMatchObject({ identity: 'sam', roles: ['reviewer', 'sre'] })
    expect(() => loadSlackUsers(path.join(dir, 'bad.yaml'))).toThrow(/bad\.yaml: line \d+, column \d+/)
    expect(() => loadSlackUsers(path.join(dir, 'missing.yaml'))).toThrow(/WARDEN_SLACK_USERS: .*cannot read file \(ENOENT\)/)
    // Server wiring: nothing configured → no Slack; a secret alone maps nobody; a bad map fails start-up.
    expect(loadSlackDeps({})).toBeUndefined()
    expect(loadSlackDeps({ signingSecret: 's' })?.users.lookup('T0009', 'U0J')).toBeNull()
    expect(loadSlackDeps({ usersPath: path.join(dir, 'u.json') })).toMatchObject({ signingSecret: undefined })
    expect(() => loadSlackDeps({ signingSecret: 's', usersPath: path.join(dir, 'bad.yaml') })).toThrow(/Invalid configuration/)
  })
})

describe('Slack rendering', () => {
  it('escapes untrusted text so it cannot mention or link', () => {
    expect(esc('<!channel> & <@U123> <https://evil.example|click>')).toBe('&lt;!channel&gt; &amp; &lt;@U123&gt; &lt;https://evil.example|click&gt;')
    fc.assert(fc.property(fc.string(), (s) => {
      const out = esc(s)
      expect(out).not.toMatch(/[<>]/)
      expect(out.replace(/&(amp|lt|gt);/g, '')).not.toContain('&')
    }))
  })

  it('renders an answer with escaped text and citations and no raw angle brackets anywhere', () => {
    const a = {
      id: 'as_1', refused: null, text: 'Check <!here> the volume', sentences: [], injectionFlagged: true, interventions: [],
      citations: [{ ref: 'E1', sourceUri: null, title: 'Disk <@U1>', headingPath: ['Runbook', 'Find <b>'], chunkId: 1, contentHash: 'h' }],
      provenance: { mode: 'deterministic', model: 'm', promptId: 'ask', promptVersion: '1', promptSha256: 'x', fallbackReason: null, latencyMs: 1, tokens: null },
    } as Answer
    const json = JSON.stringify(answerMessage(a))
    expect(json).toContain('Check &lt;!here&gt; the volume')
    expect(json).toContain('[E1] Disk &lt;@U1&gt; › Runbook › Find &lt;b&gt;')
    expect(json).not.toMatch(/<[!@#]/)
  })

  it('posts follow-ups only to Slack hook URLs', () => {
    expect(isSlackResponseUrl('https://hooks.slack.com/commands/T1/1/abc')).toBe(true)
    for (const u of ['http://hooks.slack.com/x', 'https://hooks.slack.com.evil.example/x', 'https://evil.example/hooks.slack.com', 'https://u:p@hooks.slack.com/x', 'https://hooks.slack.com:8443/x', 'not a url', undefined]) {
      expect(isSlackResponseUrl(u)).toBe(false)
    }
  })
})
