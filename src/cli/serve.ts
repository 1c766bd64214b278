import { serve } from '@hono/node-server'
import path from 'node:path'
import { runIngest } from '../../ingest/pipeline.js'
import { createApp } from '../http/app.js'
import { loadSlackDeps } from '../http/slack/users.js'
import { assistantDeps, openContext } from './context.js'

/** `warden serve`; with `demo`, first ingests the shipped demo corpus when the knowledge base is empty. */
export async function serveCommand(opts: { demo?: boolean }): Promise<void> {
  const ctx = await openContext()
  const deps = assistantDeps(ctx)
  // A bad Slack user map stops start-up here, listing every problem.
  const slack = loadSlackDeps({ signingSecret: ctx.config.env.WARDEN_SLACK_SIGNING_SECRET, usersPath: ctx.config.env.WARDEN_SLACK_USERS })
  if (opts.demo) {
    const { rows } = await ctx.db.query<{ n: number }>("select count(*)::int as n from sources where status = 'active'")
    if (rows[0]!.n === 0) {
      const corpus = path.resolve(ctx.config.env.WARDEN_DEMO_CORPUS)
      ctx.logger.info({ corpus }, 'knowledge base is empty: ingesting the demo corpus')
      const s = await runIngest({ db: ctx.db, embedder: ctx.embedder }, { inputs: [corpus], maxBytes: ctx.config.env.WARDEN_INGEST_MAX_BYTES })
      ctx.logger.info({ run: s.runId, status: s.status, counts: s.counts }, 'demo corpus ingested')
    }
  }
  const app = createApp({ ...deps, logger: ctx.logger, slack })
  const server = serve({ fetch: app.fetch, hostname: ctx.config.env.HOST, port: ctx.config.env.PORT }, (info) => {
    process.stdout.write(`Warden is listening on http://${info.address}:${info.port}  (database: ${ctx.db.kind}, mode: ${deps.llm ? `llm ${deps.llm.model}` : 'deterministic'})\n`)
  })
  const stop = () => {
    server.close()
    void ctx.close().finally(() => process.exit(0))
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
