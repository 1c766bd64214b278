import { Writable } from 'node:stream'
import fc from 'fast-check'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { REDACT_CENSOR, REDACTED_ENV, REDACTED_HEADERS, logRedaction, redactValue } from '../../../src/http/redact.js'

// Our logger configuration writing to memory: whatever shape a secret is logged in, its value never reaches
// the output, and what is not a secret is left alone.

function memoryLogger() {
  const lines: string[] = []
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      cb()
    },
  })
  const logger = pino({ level: 'debug', ...logRedaction() }, stream)
  return { logger, text: () => lines.join('\n'), records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const TOKEN = 'wdn_Qm9vbV90aGlzX2lzX2Ffc2VjcmV0X3Rva2VuXzAxMjM0NTY3'
const SECRETS = {
  bearer: TOKEN,
  cookie: 'warden_session=s3ss10n-c00kie-value',
  pagerduty: 'v1=2f3a9c0d4e5b6a7c8d9e0f1a2b3c4d5e',
  grafana: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
  slack: 'v0=9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  openai: 'sk-proj-AbCdEfGhIjKlMnOpQrStUvWx',
  executor: 'executor-hmac-secret-value-42',
  password: 'hunter2-but-longer',
}

describe('log redaction', () => {
  it('censors credential headers, nested secrets, env secrets and child bindings, keeping the rest', () => {
    const m = memoryLogger()
    const req = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${SECRETS.bearer}`,
        cookie: SECRETS.cookie,
        'x-pagerduty-signature': SECRETS.pagerduty,
        'x-grafana-alerting-signature': SECRETS.grafana,
        'X-Slack-Signature': SECRETS.slack,
        'content-type': 'application/json',
      },
    }
    const deep = { a: { b: { c: { d: { e: { apiKey: SECRETS.openai, password: SECRETS.password } } } } } }
    const config = { env: { OPENAI_API_KEY: SECRETS.openai, WARDEN_EXECUTOR_SECRET: SECRETS.executor, PORT: 8080 }, executor: { url: 'https://exec.example', secret: SECRETS.executor } }
    m.logger.child({ requestId: 'r-1', token: SECRETS.bearer }).info({ req, deep, config, list: [{ token: SECRETS.bearer }] }, 'request')

    const out = m.text()
    for (const [name, value] of Object.entries(SECRETS)) expect(out, name).not.toContain(value)
    const [rec] = m.records() as Array<Record<string, any>>
    expect(rec!.req.headers).toEqual({
      authorization: REDACT_CENSOR, cookie: REDACT_CENSOR, 'x-pagerduty-signature': REDACT_CENSOR,
      'x-grafana-alerting-signature': REDACT_CENSOR, 'X-Slack-Signature': REDACT_CENSOR, 'content-type': 'application/json',
    })
    expect(rec!.deep.a.b.c.d.e).toEqual({ apiKey: REDACT_CENSOR, password: REDACT_CENSOR })
    expect(rec!.config).toEqual({ env: { OPENAI_API_KEY: REDACT_CENSOR, WARDEN_EXECUTOR_SECRET: REDACT_CENSOR, PORT: 8080 }, executor: { url: 'https://exec.example', secret: REDACT_CENSOR } })
    expect(rec!.token).toBe(REDACT_CENSOR)
    expect(rec!.requestId).toBe('r-1')
    expect(rec!.list).toEqual([{ token: REDACT_CENSOR }])
    // The logged objects themselves are untouched: they may be live request or config objects.
    expect(req.headers.authorization).toBe(`Bearer ${SECRETS.bearer}`)
    expect(config.env.OPENAI_API_KEY).toBe(SECRETS.openai)
  })

  it('covers every documented header and environment variable by name', () => {
    const obj = Object.fromEntries([...REDACTED_HEADERS, ...REDACTED_ENV].map((k) => [k, `value-of-${k}`]))
    const r = redactValue({ nested: obj }) as { nested: Record<string, string> }
    for (const k of [...REDACTED_HEADERS, ...REDACTED_ENV]) expect(r.nested[k], k).toBe(REDACT_CENSOR)
  })

  it('keeps figures that only look like secrets by name (LLM token counts, token ids)', () => {
    const m = memoryLogger()
    m.logger.info({ tokens: { prompt: 812, completion: 96 }, tokenId: 'tok_01', route: '/v1/tokens/:id', status: 200 }, 'done')
    expect(m.records()[0]).toMatchObject({ tokens: { prompt: 812, completion: 96 }, tokenId: 'tok_01', route: '/v1/tokens/:id', status: 200 })
  })

  it('scrubs credentials quoted in messages, format arguments and errors', () => {
    const m = memoryLogger()
    const err = Object.assign(new Error(`upstream refused Authorization: Bearer ${SECRETS.bearer}`), { request: { headers: { authorization: `Bearer ${SECRETS.bearer}` } }, apiKey: SECRETS.openai })
    m.logger.error({ err }, `call with ${SECRETS.bearer} failed`)
    m.logger.warn('retrying with key %s', SECRETS.openai)
    m.logger.error({ cause: new Error(`token ${SECRETS.bearer}`) }, 'wrapped')
    const out = m.text()
    for (const [name, value] of Object.entries(SECRETS)) expect(out, name).not.toContain(value)
    const [first, , third] = m.records() as Array<Record<string, any>>
    expect(first!.err).toMatchObject({ type: 'Error', message: `upstream refused Authorization: Bearer ${REDACT_CENSOR}`, apiKey: REDACT_CENSOR, request: { headers: { authorization: REDACT_CENSOR } } })
    expect(first!.err.stack).toContain('redact.test.ts')
    expect(first!.msg).toBe(`call with ${REDACT_CENSOR} failed`)
    expect(third!.cause).toMatchObject({ type: 'Error', message: `token ${REDACT_CENSOR}` })
  })

  it('never lets a secret under a sensitive key through, at any nesting depth or shape (property)', () => {
    const sensitiveKey = fc.constantFrom('token', 'apiKey', 'secret', 'password', 'authorization', 'Cookie', 'x-slack-signature', 'WARDEN_PAGERDUTY_SECRET', 'csrfToken', 'OPENAI_API_KEY')
    const plainKey = fc.constantFrom('a', 'data', 'headers', 'items', 'config', 'env', 'meta')
    const secret = fc.stringMatching(/^[A-Za-z0-9]{12,40}$/).map((s) => `S3CR3T${s}`)
    fc.assert(
      fc.property(fc.array(fc.tuple(plainKey, fc.boolean()), { maxLength: 10 }), sensitiveKey, secret, (pathSpec, key, value) => {
        // Build {a: [{data: {…{key: value}}}]}: the path mixes objects and arrays.
        let obj: unknown = { [key]: value, harmless: 'kept' }
        for (const [k, inArray] of [...pathSpec].reverse()) obj = { [k]: inArray ? [obj] : obj }
        const m = memoryLogger()
        m.logger.info(obj as object, 'property')
        expect(m.text()).not.toContain(value)
        expect(m.text()).toContain('kept')
      }),
      { numRuns: 300 },
    )
  })
})
