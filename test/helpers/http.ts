import path from 'node:path'
import pino from 'pino'
import { runIngest } from '../../ingest/pipeline.js'
import { createApp, type AppDeps } from '../../src/http/app.js'
import { createToken } from '../../src/http/auth/tokens.js'
import { createLocalEmbeddings } from '../../src/knowledge/embeddings/local.js'
import { loadReference } from '../../src/policy/reference.js'
import { REPO_ROOT } from './cli.js'
import { createTestDatabase, type TestDatabase } from './db.js'

// An in-process Warden API on a fresh test database (PGlite or the CI Postgres), with one real token per
// role. Requests go through app.request(); nothing of ours is mocked.

export const demoReference = () =>
  loadReference({
    catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
    taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
    policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
  })

/** Identities the fixture creates tokens for: token name → identity and roles. */
export const FIXTURE_IDENTITIES = {
  webhook: { identity: 'alertmanager', roles: ['webhook'] },
  oncall: { identity: 'olivia', roles: ['oncall'] },
  oncall2: { identity: 'omar', roles: ['oncall'] },
  reviewer: { identity: 'sam', roles: ['reviewer', 'sre'] },
  reviewer2: { identity: 'sasha', roles: ['reviewer', 'sre'] },
  lead: { identity: 'lee', roles: ['reviewer', 'oncall-lead', 'sre'] },
  dba: { identity: 'dana', roles: ['reviewer', 'dba'] },
  executor: { identity: 'executor-1', roles: ['executor'] },
  admin: { identity: 'ada', roles: ['admin'] },
} as const
export type FixtureRole = keyof typeof FIXTURE_IDENTITIES

export interface HttpFixture {
  t: TestDatabase
  deps: AppDeps
  app: ReturnType<typeof createApp>
  tokens: Record<FixtureRole, string>
  /** app.request with JSON body and bearer token of `as`. */
  call(method: string, url: string, opts?: { as?: FixtureRole | null; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<Response>
  cleanup(): Promise<void>
}

export async function createHttpFixture(opts: { ingestDemo?: boolean; deps?: Partial<AppDeps> } = {}): Promise<HttpFixture> {
  const t = await createTestDatabase()
  const embedder = createLocalEmbeddings()
  if (opts.ingestDemo) await runIngest({ db: t.db, embedder }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 1 << 21 })
  const deps: AppDeps = { db: t.db, embedder, reference: demoReference(), llm: null, logger: pino({ level: 'silent' }), ...opts.deps }
  const app = createApp(deps)
  const tokens = {} as Record<FixtureRole, string>
  for (const [name, who] of Object.entries(FIXTURE_IDENTITIES)) {
    tokens[name as FixtureRole] = (await createToken(t.db, { name, identity: who.identity, roles: [...who.roles] }, 'test')).token
  }
  return {
    t,
    deps,
    app,
    tokens,
    call(method, url, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) }
      if (o.as) headers.authorization = `Bearer ${tokens[o.as]}`
      let body: string | undefined = o.raw
      if (o.body !== undefined) {
        body = JSON.stringify(o.body)
        headers['content-type'] ??= 'application/json'
      }
      return Promise.resolve(app.request(url, { method, headers, body }))
    },
    cleanup: () => t.cleanup(),
  }
}
