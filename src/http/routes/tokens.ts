import type { Hono } from 'hono'
import { z } from 'zod'
import { CreateTokenInput, createToken, listTokens, revokeToken } from '../auth/tokens.js'
import { requireRole } from '../auth/middleware.js'
import { ApiError } from '../errors.js'
import type { AppDeps, AppEnv } from '../types.js'
import { readJson, validate } from '../validate.js'

// API token administration (admin only). The secret is returned once, by the create call; the database keeps
// its hash and no response ever carries the hash. The acting admin is recorded as the creator / revoker.

export { CreateTokenInput }

export const TokenOutput = z.object({
  id: z.string(),
  name: z.string(),
  identity: z.string(),
  roles: z.array(z.string()),
  createdBy: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
})
export const TokenCreateOutput = z.object({
  /** The bearer secret. Shown this once; store it now. */
  token: z.string(),
  tokenInfo: TokenOutput,
})
export const TokenListOutput = z.object({ tokens: z.array(TokenOutput) })
export const TokenRevokeOutput = z.object({ revoked: z.literal(true), tokenInfo: TokenOutput })

export function registerTokenRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const now = () => deps.clock?.() ?? new Date()

  app.post('/v1/tokens', requireRole('admin'), async (c) => {
    const input = validate(CreateTokenInput, await readJson(c))
    const { token, row } = await createToken(deps.db, input, c.get('principal')!.identity, now())
    return c.json(TokenCreateOutput.parse({ token, tokenInfo: row }), 201)
  })

  app.get('/v1/tokens', requireRole('admin'), async (c) => c.json(TokenListOutput.parse({ tokens: await listTokens(deps.db) })))

  // DELETE revokes: the row stays (audit and listing keep it), the token stops authenticating at once.
  app.delete('/v1/tokens/:id', requireRole('admin'), async (c) => {
    const id = c.req.param('id')
    const revoked = await revokeToken(deps.db, id, c.get('principal')!.identity, now())
    // Revoking is guarded (only a live token); on false, say whether the token is unknown or already revoked.
    const row = (await listTokens(deps.db)).find((t) => t.id === id)
    if (!row) throw new ApiError('not_found', 'no such token', { reason: 'token_not_found' })
    if (!revoked) throw new ApiError('conflict', `token ${id} was already revoked at ${row.revokedAt}`, { reason: 'already_revoked' })
    return c.json(TokenRevokeOutput.parse({ revoked: true, tokenInfo: row }))
  })
}
