import { serve } from '@hono/node-server'
import path from 'node:path'
import { runIngest } from '../../ingest/pipeline.js'
import { recordPolicyLoad } from '../approvals/policy-versions.js'
import type { Database } from '../db/types.js'
import { createToken } from '../http/auth/tokens.js'
import { createApp } from '../http/app.js'
import { loadSlackDeps } from '../http/slack/users.js'
import { assistantDeps, openContext } from './context.js'
import { startBackgroundWork } from './workers.js'

/** Longest a graceful shutdown waits for in-flight jobs and loops before exiting anyway (leases cover the rest). */
const SHUTDOWN_GRACE_MS = 30_000

/** `warden serve`; with `demo` (`warden up`), first ingests the demo corpus when the knowledge base is empty. */
export async function serveCommand(opts: { demo?: boolean }): Promise<void> {
  const ctx = await openContext()
  const env = ctx.config.env
  const deps = assistantDeps(ctx)
  // A bad Slack user map stops start-up here, listing every problem.
  const slack = loadSlackDeps({ signingSecret: env.WARDEN_SLACK_SIGNING_SECRET, usersPath: env.WARDEN_SLACK_USERS })
  // Every proposal references the policy it was made under: record this one (once per content hash).
  const policy = await recordPolicyLoad(ctx.db, deps.reference.policy)
  ctx.logger.info({ version: deps.reference.policy.version, sha256: deps.reference.policy.sha256, new: policy.recorded }, 'policy loaded')
  let demoTokens: Array<[string, string]> = []
  if (opts.demo) {
    const { rows } = await ctx.db.query<{ n: number }>("select count(*)::int as n from sources where status = 'active'")
    if (rows[0]!.n === 0) {
      const corpus = path.resolve(env.WARDEN_DEMO_CORPUS)
      ctx.logger.info({ corpus }, 'knowledge base is empty: ingesting the demo corpus')
      const s = await runIngest({ db: ctx.db, embedder: ctx.embedder }, { inputs: [corpus], maxBytes: env.WARDEN_INGEST_MAX_BYTES })
      ctx.logger.info({ run: s.runId, status: s.status, counts: s.counts }, 'demo corpus ingested')
    }
    if (env.WARDEN_DEMO_TOKENS && ctx.db.kind === 'pglite') demoTokens = await createDemoTokens(ctx.db)
  }
  const app = createApp({
    ...deps,
    logger: ctx.logger,
    slack,
    bodyLimitBytes: env.WARDEN_BODY_LIMIT_BYTES,
    assessWaitMs: env.WARDEN_ASSESS_WAIT_MS,
    jobs: { leaseMs: env.WARDEN_JOB_LEASE_MS, maxAttempts: env.WARDEN_JOB_MAX_ATTEMPTS },
    sources: { grafanaHmacSecret: env.WARDEN_GRAFANA_HMAC_SECRET, pagerdutySecret: env.WARDEN_PAGERDUTY_SECRET },
    uiSessionSecret: env.WARDEN_UI_SESSION_SECRET,
  })
  const server = serve({ fetch: app.fetch, hostname: env.HOST, port: env.PORT }, (info) => {
    const url = `http://${info.address.includes(':') ? `[${info.address}]` : info.address}:${info.port}`
    process.stdout.write(`Warden is listening on ${url}  (database: ${ctx.db.kind}, mode: ${deps.llm ? `llm ${deps.llm.model}` : 'deterministic'})\n`)
    if (demoTokens.length) printDemoTokens(demoTokens, url)
  })
  const background = startBackgroundWork({ deps, config: ctx.config, logger: ctx.logger })

  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    ctx.logger.info({ signal }, 'shutting down: no new requests, waiting for jobs in flight')
    const force = setTimeout(() => {
      ctx.logger.warn('shutdown grace period over: exiting with work in flight (its leases expire and it is retried)')
      process.exit(1)
    }, SHUTDOWN_GRACE_MS)
    force.unref()
    server.close()
    void background
      .stop()
      .catch((err) => ctx.logger.error({ err }, 'stopping background work failed'))
      .then(() => ctx.close())
      .then(() => process.exit(0), () => process.exit(1))
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

/**
 * `warden worker`: the background work without the HTTP API. Assessments are CPU work in this process; on a
 * busy intake, run API replicas with WARDEN_WORKER_CONCURRENCY=0 and assess in worker processes (Postgres only:
 * the embedded database admits one process).
 */
export async function workerCommand(): Promise<void> {
  const ctx = await openContext()
  const deps = assistantDeps(ctx)
  await recordPolicyLoad(ctx.db, deps.reference.policy)
  const concurrency = Math.max(1, ctx.config.env.WARDEN_WORKER_CONCURRENCY)
  const config = { ...ctx.config, env: { ...ctx.config.env, WARDEN_WORKER_CONCURRENCY: concurrency } }
  const background = startBackgroundWork({ deps, config, logger: ctx.logger })
  process.stdout.write(`Warden worker running (${concurrency} assessment slots, database: ${ctx.db.kind}); Ctrl-C stops it after jobs in flight\n`)
  const stop = () => void background.stop().then(() => ctx.close()).then(() => process.exit(0), () => process.exit(1))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

/** `warden up` on the embedded database with no tokens yet: one token per demo role, shown once. */
async function createDemoTokens(db: Database): Promise<Array<[string, string]>> {
  const { rows } = await db.query<{ n: number }>('select count(*)::int as n from api_tokens')
  if (rows[0]!.n > 0) return []
  const demo: Array<[string, string, string[]]> = [
    ['admin', 'demo-admin', ['admin']],
    ['oncall', 'demo-oncall', ['oncall']],
    ['reviewer', 'demo-reviewer', ['reviewer', 'sre']],
    ['webhook', 'demo-webhook', ['webhook']],
  ]
  const out: Array<[string, string]> = []
  for (const [name, identity, roles] of demo) out.push([`${name} (${roles.join(', ')})`, (await createToken(db, { name: `demo-${name}`, identity, roles }, 'system:demo')).token])
  return out
}

function printDemoTokens(tokens: Array<[string, string]>, url: string): void {
  const oncall = tokens.find(([n]) => n.startsWith('oncall'))![1]
  process.stdout.write(
    [
      '',
      'DEMO API TOKENS — for this embedded demo database only; shown once, stored hashed. Anyone holding them',
      'acts with their roles: do not use them beyond a local demo (revoke them, or start from a fresh data dir).',
      ...tokens.map(([n, t]) => `  ${n.padEnd(24)} ${t}`),
      '',
      `Try: curl -s -H 'authorization: Bearer ${oncall}' '${url}/v1/search?q=orderbook-db+disk+full&k=3'`,
      '',
    ].join('\n'),
  )
}
