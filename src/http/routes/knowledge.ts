import type { Hono } from 'hono'
import { ask, AskInput } from '../../assistant/ask.js'
import { search, SearchInput } from '../../knowledge/search.js'
import { requireRole } from '../auth/middleware.js'
import type { AppDeps, AppEnv } from '../types.js'
import { readJson, validate } from '../validate.js'

export { AskInput, SearchInput }

export function registerKnowledgeRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/search', requireRole('oncall'), async (c) => {
    const q = c.req.query()
    const input = validate(SearchInput, { query: q.q ?? q.query, service: q.service, team: q.team, kind: q.kind, k: q.k ? Number(q.k) : undefined, mode: q.mode })
    return c.json({ hits: await search({ db: deps.db, embedder: deps.embedder, efSearch: deps.settings?.efSearch }, input) })
  })

  app.post('/v1/ask', requireRole('oncall'), async (c) => c.json(await ask(deps, validate(AskInput, await readJson(c)))))
}
