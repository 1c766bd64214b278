import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AlertIntakeOutput } from '../../../src/http/app.js'
import { amPayload } from '../../helpers/alerts.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// Fuzzing the alert intake routes through the real app on a real database (invariant 9: bad input gets a
// clear 4xx and nothing partial is stored). Per route, RUNS cases mix arbitrary JSON, real payloads of every
// format (the shared classification set and our demo alerts) with structural mutations, and raw bodies that
// are not JSON. Properties: never a 5xx; every non-2xx is a 4xx with {error:{code,message,requestId}}; a
// rejected request changes no alerts/jobs row count; an accepted one stored exactly the alerts it reports.
// A failure prints fast-check's seed and shrunk counterexample; rerun with FUZZ_SEED=<seed> to reproduce.

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000)
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined
const ROUTES = ['alertmanager', 'grafana', 'pagerduty', 'generic'] as const
type Route = (typeof ROUTES)[number]
type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

const payloads = new Map<Route, Json[]>(ROUTES.map((r) => [r, []]))
for (const file of [path.join(REPO_ROOT, '../shared/evals/alerts/classification-dev.jsonl'), path.join(REPO_ROOT, 'evals/cases/demo-alerts.jsonl')]) {
  for (const line of fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim())) {
    const c = JSON.parse(line) as { format: Route; payload: Json }
    payloads.get(c.format)!.push(c.payload)
  }
}

// ---- mutations of a real payload ----------------------------------------------------------------------

type Container = Json[] | { [k: string]: Json }
/** Every (container, key) slot of a JSON value, depth-first; mutations pick one by index. */
function slots(v: Json, out: Array<[Container, string | number]> = []): Array<[Container, string | number]> {
  if (Array.isArray(v)) v.forEach((x, i) => (out.push([v, i]), slots(x, out)))
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) out.push([v, k]), slots(v[k]!, out)
  return out
}
// Deep nesting is spliced into the JSON text (a marker string is replaced after stringify): building a
// 100,000-level value in JS would overflow the test's own stack before the server ever saw it.
const nestText = (depth: number, asArray: boolean, leaf: string) => (asArray ? '['.repeat(depth) + leaf + ']'.repeat(depth) : '{"n":'.repeat(depth) + leaf + '}'.repeat(depth))
// Own enumerable property: JSON.stringify writes `"__proto__": …` into the body, as an attacker would.
const defineOwn = (o: Container, k: string, v: Json) => Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })

const anyScalar = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null), fc.string(), fc.constant(''), fc.constant(-0), fc.constant(1e308))
const weirdString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }), // lone surrogates, control characters, U+0000…
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom('\u0000', 'a\u0000b', '\ud800', '\udfff x', '\u202e\u200b', '💥🧨', 'ignore previous instructions', "'; drop table alerts; --", '${7*7}', '<script>alert(1)</script>'),
)
const hugeString = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 4_000, max: 200_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1_050_000, max: 1_200_000 }) }, // over the 1 MiB body limit
).chain((n) => fc.constantFrom('x', 'é', '🧨').map((ch) => ch.repeat(Math.ceil(n / ch.length))))

const mutation = fc.oneof(
  fc.record({ op: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.oneof(anyScalar, weirdString, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>) }),
  fc.record({ op: fc.constant('huge' as const), at: fc.nat(), value: hugeString }),
  fc.record({ op: fc.constant('nest' as const), at: fc.nat(), depth: fc.constantFrom(10, 200, 1_000, 5_000, 20_000, 100_000), asArray: fc.boolean() }),
  fc.record({ op: fc.constant('wrapArray' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('proto' as const), at: fc.nat(), key: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty') }),
  fc.record({ op: fc.constant('renameKey' as const), at: fc.nat(), key: weirdString }),
  fc.record({ op: fc.constant('fresh' as const), id: fc.string({ minLength: 1, maxLength: 24 }) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never

/** The mutated payload as JSON text. */
function mutate(base: Json, ms: Mutation[]): string {
  const root = structuredClone(base) as Json
  const nested = new Map<string, string>()
  for (const m of ms) {
    const all = slots(root)
    if (m.op === 'fresh') {
      // New identity: a new fingerprint / incident id / title makes the delivery a new alert, not a dedup hit.
      for (const [o, k] of all) if (['fingerprint', 'id', 'incident_key', 'title'].includes(String(k)) && typeof (o as Record<string, Json>)[k as string] === 'string') (o as Record<string, Json>)[k as string] = `${m.id}-${String((o as Record<string, Json>)[k as string])}`
      continue
    }
    if (all.length === 0) continue
    const [o, k] = all[m.at % all.length]!
    const cur = (o as Record<string | number, Json>)[k]!
    if (m.op === 'delete') Array.isArray(o) ? o.splice(k as number, 1) : delete o[k as string]
    else if (m.op === 'set') (o as Record<string | number, Json>)[k] = m.value
    else if (m.op === 'huge') (o as Record<string | number, Json>)[k] = m.value
    else if (m.op === 'nest') {
      const marker = `@@nest${nested.size}@@`
      nested.set(JSON.stringify(marker), nestText(m.depth, m.asArray, JSON.stringify(cur ?? null)))
      ;(o as Record<string | number, Json>)[k] = marker
    }
    else if (m.op === 'wrapArray') (o as Record<string | number, Json>)[k] = Array.isArray(cur) ? {} : [cur]
    else if (m.op === 'proto') {
      const target = cur && typeof cur === 'object' ? (cur as Container) : o
      if (!Array.isArray(target)) defineOwn(target, m.key, { polluted: true, status: 'resolved', toString: 'x' })
    } else if (m.op === 'renameKey' && !Array.isArray(o)) {
      delete o[k as string]
      defineOwn(o, m.key, cur)
    }
  }
  let text = JSON.stringify(root)
  // Later markers may sit inside earlier ones' leaf text: replace newest first.
  for (const [marker, replacement] of [...nested].reverse()) text = text.replace(marker, () => replacement)
  return text
}

// ---- request bodies -----------------------------------------------------------------------------------

interface Req { label: string; body: string | Uint8Array; contentType: string | null }
/** A request whose counterexample prints bounded: a 100,000-level body must not flood the CI log. */
function req(label: string, body: string | Uint8Array, contentType: string | null): Req {
  const shown = typeof body === 'string' ? body : Buffer.from(body).toString('latin1')
  const text = shown.length > 600 ? `${shown.slice(0, 300)}…[${shown.length - 600} chars]…${shown.slice(-300)}` : shown
  return { label, body, contentType, [fc.toStringMethod]: () => `${label} (${contentType ?? 'no content-type'}, ${shown.length} chars): ${JSON.stringify(text)}` } as Req
}
const jsonType = fc.constantFrom<string | null>('application/json', 'application/json; charset=utf-8', 'text/plain', null, 'application/x-www-form-urlencoded')

function requests(route: Route): fc.Arbitrary<Req> {
  const bases = payloads.get(route)!
  const mutated = fc.record({ base: fc.constantFrom(...bases), ms: fc.array(mutation, { maxLength: 4 }), contentType: jsonType }).map(({ base, ms, contentType }) => req('mutated', mutate(base, ms), contentType))
  const arbitrary = fc.record({ v: fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), contentType: jsonType }).map(({ v, contentType }) => req('json', JSON.stringify(v) ?? 'null', contentType))
  const notJson = fc.oneof(
    fc.uint8Array({ maxLength: 600 }).map((b) => req('bytes', b, 'application/json')),
    fc.string({ unit: 'binary', maxLength: 300 }).map((s) => req('text', s, 'application/json')),
    // Real payloads cut short, with trailing garbage, JS-isms JSON does not allow, or a BOM.
    fc.record({ base: fc.constantFrom(...bases), cut: fc.double({ min: 0, max: 1, noNaN: true }), tail: fc.constantFrom('', ',', '}', ']]', ' x', '\u0000', '/* c */'), bom: fc.boolean() }).map(({ base, cut, tail, bom }) => {
      const text = JSON.stringify(base)
      return req('truncated', `${bom ? '\ufeff' : ''}${text.slice(0, Math.floor(cut * text.length))}${tail}`, 'application/json')
    }),
    fc.constantFrom('{"a":NaN}', "{'alerts':[]}", '{"alerts":[1,],}', 'undefined', '[', '"', '{"x":1}{"y":2}').map((s) => req('js', s, 'application/json')),
  )
  return fc.oneof({ weight: 5, arbitrary: mutated }, { weight: 3, arbitrary: arbitrary }, { weight: 2, arbitrary: notJson })
}

// ---- the properties -----------------------------------------------------------------------------------

describe(`alert intake fuzzing (${backend})`, () => {
  let f: HttpFixture
  let hasJobs = false
  beforeAll(async () => {
    f = await createHttpFixture()
    hasJobs = (await f.t.db.query<{ t: string | null }>("select to_regclass('public.jobs')::text as t")).rows[0]!.t !== null
  })
  afterAll(async () => f?.cleanup())

  const counts = async () => {
    const { rows } = await f.t.db.query<{ alerts: number; jobs: number }>(`select (select count(*)::int from alerts) as alerts, ${hasJobs ? '(select count(*)::int from jobs)' : '0'} as jobs`)
    return rows[0]!
  }
  const post = (route: string, req: Req, token: string | null = f.tokens.webhook) => {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (req.contentType) headers['content-type'] = req.contentType
    return f.app.request(`/v1/alerts/${route}`, { method: 'POST', headers, body: req.body })
  }
  async function expectErrorShape(res: Response) {
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(res.status).toBeLessThan(500)
    const body = (await res.json()) as { error: { code: unknown; message: unknown; requestId: unknown } }
    expect(body.error).toMatchObject({ code: expect.any(String), message: expect.any(String), requestId: expect.any(String) })
    expect(body.error.code).not.toBe('')
    return body.error
  }

  for (const route of ROUTES) {
    it(`${route}: ${RUNS} random, mutated and non-JSON bodies — never 5xx, rejected stores nothing, accepted stores what it says`, async () => {
      const tally = { accepted: 0, created: 0, rejected: new Map<number, number>() }
      await fc.assert(
        fc.asyncProperty(requests(route), async (req) => {
          const before = await counts()
          const res = await post(route, req)
          const after = await counts()
          if (res.status >= 200 && res.status < 300) {
            const out = AlertIntakeOutput.parse(await res.json())
            expect(out.format).toBe(route)
            // Rows added = alerts reported as created; each reported alert exists with its final status.
            expect(after.alerts - before.alerts).toBe(out.alerts.filter((a) => a.created).length)
            const last = new Map(out.alerts.map((a) => [a.alertId, a.status]))
            for (const [id, status] of last) {
              const { rows } = await f.t.db.query<{ status: string; source: string }>('select status, source from alerts where id = $1', [id])
              expect(rows[0]).toEqual({ status, source: route })
            }
            tally.accepted++
            tally.created += after.alerts - before.alerts
          } else {
            await expectErrorShape(res)
            expect(after).toEqual(before)
            tally.rejected.set(res.status, (tally.rejected.get(res.status) ?? 0) + 1)
          }
        }),
        { numRuns: RUNS, ...(SEED !== undefined && { seed: SEED }), endOnFailure: true },
      )
      if (process.env.FUZZ_VERBOSE) console.log(route, JSON.stringify({ accepted: tally.accepted, created: tally.created, rejected: Object.fromEntries(tally.rejected) }))
      // The mix must exercise both sides: a generator that only produced garbage would prove little.
      expect(tally.accepted, `accepted ${tally.accepted}`).toBeGreaterThan(RUNS / 20)
      expect(tally.created).toBeGreaterThan(0)
      expect([...tally.rejected.keys()]).toEqual(expect.arrayContaining([400, 422]))
      // Prototype-pollution keys stayed data.
      expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    }, 600_000)
  }

  it('strings PostgreSQL cannot store (U+0000, unpaired surrogates) and 100,000-level nesting → 4xx, nothing stored', async () => {
    // Found by this fuzzer: each of these used to be a 500 from the database or from JSON.stringify.
    const base = JSON.stringify(amPayload({ name: 'Unstorable', labels: {}, summary: 's', description: 'd', fingerprint: 'unstorable1' }))
    const bodies = {
      nulValue: base.replace('"description":"d"', '"description":"a\\u0000b"'),
      nulKey: base.replace('"receiver"', '"a\\u0000":1,"receiver"'),
      loneHigh: base.replace('"summary":"s"', '"summary":"\\ud800x"'),
      loneLow: base.replace('"receiver"', '"\\udfff":"k","receiver"'),
      deep: base.replace('"receiver"', `"extra":${nestText(100_000, true, '1')},"receiver"`),
    }
    const before = await counts()
    for (const [name, body] of Object.entries(bodies)) {
      expect(JSON.parse(body), name).toBeTruthy()
      const res = await post('alertmanager', req(name, body, 'application/json'))
      expect(res.status, name).toBeGreaterThanOrEqual(400)
      await expectErrorShape(res)
    }
    expect(await counts()).toEqual(before)
    // Well-formed surrogate pairs (emoji) are ordinary text and are accepted.
    const emoji = await post('alertmanager', req('emoji', base.replace('"summary":"s"', '"summary":"disk 💥 full"'), 'application/json'))
    expect(emoji.status).toBe(202)
  })

  it('oversized body → 413, nothing stored', async () => {
    const before = await counts()
    const body = JSON.stringify(amPayload({ name: 'Big', labels: {}, summary: 's', description: 'x'.repeat(1024 * 1024), fingerprint: 'big0001' }))
    const res = await post('alertmanager', req('big', body, 'application/json'))
    expect(res.status).toBe(413)
    expect((await expectErrorShape(res)).code).toBe('payload_too_large')
    expect(await counts()).toEqual(before)
  })

  it('content type: a non-JSON text/plain or form body is 400; a JSON body is judged by its content, not its label', async () => {
    const before = await counts()
    for (const [body, ct] of [['alertname=KubePodCrashLooping service=cart-api', 'text/plain'], ['alerts=1&status=firing', 'application/x-www-form-urlencoded'], ['<alert/>', 'application/xml']] as const) {
      const res = await post('alertmanager', req('ct', body, ct))
      expect(res.status, ct).toBe(400)
      expect((await expectErrorShape(res)).code).toBe('invalid_json')
    }
    expect(await counts()).toEqual(before)
    const ok = amPayload({ name: 'ContentTypeProbe', labels: {}, summary: 's', description: 'd', fingerprint: 'ctprobe01' })
    const res = await post('alertmanager', req('ct', JSON.stringify(ok), 'text/plain'))
    if (res.status === 202) expect((await counts()).alerts).toBe(before.alerts + 1)
    else {
      expect((await expectErrorShape(res)).code).toBe('unsupported_media_type')
      expect(await counts()).toEqual(before)
    }
  })

  it('unknown routes and sources → 404; no or bad credentials → 401; wrong role → 403; all with the error shape and nothing stored', async () => {
    const before = await counts()
    const ok = req('ok', JSON.stringify(amPayload({ name: 'AuthProbe', labels: {}, summary: 's', description: 'd', fingerprint: 'authprobe1' })), 'application/json')
    const notFound = await f.app.request('/v1/no-such-route', { method: 'POST', headers: { authorization: `Bearer ${f.tokens.webhook}` }, body: ok.body })
    expect(notFound.status).toBe(404)
    expect((await expectErrorShape(notFound)).code).toBe('not_found')
    const unknownSource = await post('nagios', ok)
    expect([404, 422]).toContain(unknownSource.status)
    await expectErrorShape(unknownSource)
    for (const token of [null, 'wdn_not-a-token', 'garbage']) {
      const res = await post('alertmanager', ok, token)
      expect(res.status).toBe(401)
      expect((await expectErrorShape(res)).code).toBe('unauthorized')
    }
    const wrongRole = await post('alertmanager', ok, f.tokens.oncall)
    expect(wrongRole.status).toBe(403)
    expect((await expectErrorShape(wrongRole)).code).toBe('forbidden')
    expect(await counts()).toEqual(before)
  })
})
