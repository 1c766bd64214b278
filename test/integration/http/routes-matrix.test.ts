import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { hasAnyRole } from '../../../src/http/auth/roles.js'
import { ErrorOutput, ROUTES, UNDESCRIBED_PREFIXES, buildOpenApi, openApiPath, pathParams, type RouteDescriptor } from '../../../src/http/openapi.js'
import { ProposeInput } from '../../../src/http/routes/proposals.js'
import { backend } from '../../helpers/db.js'
import { FIXTURE_IDENTITIES, createHttpFixture, type FixtureRole, type HttpFixture } from '../../helpers/http.js'

// Every route of the JSON API × every kind of caller. The table the OpenAPI document is built from (ROUTES) is
// the one iterated here, and it is compared with what the app registered, so a route without a descriptor
// fails below by name. This file is about authorisation: an allowed caller may still get 404/422 for the
// placeholder ids and empty bodies sent here; it must never get 401/403, and everyone else must.

const CALLERS = ['none', 'webhook', 'oncall', 'reviewer', 'executor', 'admin'] as const satisfies ReadonlyArray<FixtureRole | 'none'>
type Caller = (typeof CALLERS)[number]

const key = (method: string, path: string) => `${method} ${path}`
const urlOf = (d: RouteDescriptor) => d.examplePath ?? pathParams(d.path).reduce((p, name) => p.replace(`:${name}`, `no-such-${name}`), d.path)
const allowed = (d: RouteDescriptor, caller: Caller) => d.roles.length === 0 || (caller !== 'none' && hasAnyRole({ roles: FIXTURE_IDENTITIES[caller].roles }, d.roles))

describe(`route × role matrix (${backend})`, () => {
  let f: HttpFixture
  beforeAll(async () => {
    f = await createHttpFixture()
  })
  afterAll(async () => f?.cleanup())

  it('has exactly one descriptor for every JSON route the app registers (none for /ui and /v1/slack)', () => {
    const registered = new Set(
      f.app.routes
        .filter((r) => r.method !== 'ALL' && !UNDESCRIBED_PREFIXES.some((p) => r.path === p || r.path.startsWith(`${p}/`)))
        .map((r) => key(r.method, r.path)),
    )
    const described = ROUTES.map((d) => key(d.method, d.path))
    expect(new Set(described).size, 'duplicate descriptors in ROUTES').toBe(described.length)
    expect([...registered].filter((k) => !described.includes(k)), 'routes registered in the app without a descriptor in ROUTES (src/http/openapi.ts)').toEqual([])
    expect(described.filter((k) => !registered.has(k)), 'descriptors in ROUTES for routes the app does not register').toEqual([])
  })

  for (const d of ROUTES) {
    describe(`${d.method} ${d.path} (${d.roles.length ? d.roles.join('|') : 'public'})`, () => {
      for (const caller of CALLERS) {
        const ok = allowed(d, caller)
        it(`${caller}: ${ok ? 'let through' : caller === 'none' ? '401' : '403'}`, async () => {
          const body = d.method === 'GET' || d.method === 'DELETE' ? undefined : {}
          const res = await f.call(d.method, urlOf(d), { as: caller === 'none' ? null : caller, body })
          if (ok) {
            expect([401, 403], `${caller} is allowed`).not.toContain(res.status)
            // Allowed callers with placeholder input get an answer, never a crash.
            expect(res.status === 503 && d.path === '/readyz' ? 200 : res.status).toBeLessThan(500)
          } else {
            expect(res.status).toBe(caller === 'none' ? 401 : 403)
            const err = ErrorOutput.parse(await res.json())
            expect(err.error.code).toBe(caller === 'none' ? 'unauthorized' : 'forbidden')
            expect(err.error.requestId).not.toBe('unknown')
          }
        })
      }
      if (d.roles.length > 0) {
        it('a bad or revoked-looking token: 401', async () => {
          const body = d.method === 'GET' || d.method === 'DELETE' ? undefined : {}
          const res = await f.call(d.method, urlOf(d), { headers: { authorization: 'Bearer wdn_not-a-real-token' }, body })
          expect(res.status).toBe(401)
        })
      }
    })
  }

  it('serves an OpenAPI 3.1 document covering every descriptor, with its roles and schemas', async () => {
    const res = await f.call('GET', '/openapi.json')
    expect(res.status).toBe(200)
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, any>>; components: { securitySchemes: Record<string, any>; schemas: Record<string, unknown> } } // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc).toEqual(JSON.parse(JSON.stringify(buildOpenApi())))
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' })
    // OpenAPI: paths that differ only in template names are the same path and must not both appear.
    const shape = (p: string) => p.replace(/\{[^}]+\}/g, '{}')
    const keys = Object.keys(doc.paths)
    expect(new Set(keys.map(shape)).size, `ambiguous templated paths: ${keys.join(', ')}`).toBe(keys.length)
    const ids = new Set<string>()
    for (const d of ROUTES) {
      const key = keys.find((k) => shape(k) === shape(openApiPath(d.path)))
      const op = key ? doc.paths[key]![d.method.toLowerCase()] : undefined
      expect(op, `${d.method} ${d.path} in the document`).toBeDefined()
      ids.add(op.operationId)
      expect(op['x-roles']).toEqual([...d.roles])
      expect(op.security).toEqual(d.roles.length ? [{ bearerAuth: [] }] : [])
      const templated = [...key!.matchAll(/\{([^}]+)\}/g)].map((m) => m[1])
      expect(op.parameters?.filter((x: { in: string }) => x.in === 'path').map((x: { name: string }) => x.name) ?? [], `${d.path} documents its path parameters`).toEqual(templated)
      expect(templated).toHaveLength(pathParams(d.path).length)
      if (d.body) expect(op.requestBody.content['application/json'].schema.type).toBe('object')
      if (d.roles.length) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']))
    }
    expect(ids.size, 'operationIds are unique').toBe(ROUTES.length)
    // Strict bodies are documented as strict: a client generator will not invent a reviewer field.
    const propose = doc.paths['/v1/proposals']!.post
    expect(propose.requestBody.content['application/json'].schema).toMatchObject({ additionalProperties: false, required: ['actionId', 'params', 'rationale'] })
    expect(Object.keys(propose.requestBody.content['application/json'].schema.properties).sort()).toEqual(Object.keys(ProposeInput.shape).sort())
    expect(doc.paths['/v1/proposals']!.get.parameters.map((p: { name: string }) => p.name)).toEqual(['status', 'limit'])
    // Every $ref points into the document itself.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!)
    expect(refs.length).toBeGreaterThan(0)
    for (const r of refs) expect(doc.components.schemas[r.replace('#/components/schemas/', '')], r).toBeDefined()
  })
})
