import { CreateTokenInput, createToken, listTokens, revokeToken, type TokenRow } from '../http/auth/tokens.js'
import type { Queryable } from '../db/types.js'
import { stdio, type CliIo } from './audit.js'
import { openContext, type CliContext } from './context.js'

// `warden tokens create|list|revoke`: API token administration for whoever can reach the database (that is
// the authority here, as for migrations; the first admin token can only come from this command or `warden
// up`'s demo tokens). The secret is printed once and stored hashed. Exit codes: 0 done, 1 refused
// (unknown or already revoked token), 2 usage.

/** Who the audit row names: the configured CLI identity, else the CLI itself. */
export const cliActor = (cli: CliContext['config']['cli']): string => cli?.identity ?? 'system:cli'

const describe = (t: TokenRow) =>
  `${t.id}  ${t.revokedAt ? 'revoked' : 'active '}  ${t.name}  identity ${t.identity}  roles ${t.roles.join(',')}  created ${t.createdAt} by ${t.createdBy}${t.revokedAt ? `  revoked ${t.revokedAt}` : ''}`

export async function runTokensCreate(db: Queryable, opts: { name?: string; identity?: string; roles?: string; json?: boolean }, by: string, io: CliIo = stdio): Promise<number> {
  const parsed = CreateTokenInput.safeParse({ name: opts.name, identity: opts.identity, roles: (opts.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean) })
  if (!parsed.success) {
    await io.err(`warden: ${parsed.error.issues.map((i) => `--${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}\n`)
    return 2
  }
  const { token, row } = await createToken(db, parsed.data, by)
  if (opts.json) {
    await io.out(`${JSON.stringify({ token, tokenInfo: row }, null, 2)}\n`)
    return 0
  }
  await io.out(`${describe(row)}\n\n  ${token}\n\nThe token is shown this once and stored hashed: keep it now.\n`)
  return 0
}

export async function runTokensList(db: Queryable, opts: { json?: boolean }, io: CliIo = stdio): Promise<number> {
  const tokens = await listTokens(db)
  if (opts.json) await io.out(`${JSON.stringify(tokens, null, 2)}\n`)
  else await io.out(tokens.length ? `${tokens.map(describe).join('\n')}\n` : 'no tokens\n')
  return 0
}

export async function runTokensRevoke(db: Queryable, id: string, by: string, io: CliIo = stdio): Promise<number> {
  if (await revokeToken(db, id, by)) {
    await io.out(`${id}: revoked\n`)
    return 0
  }
  const row = (await listTokens(db)).find((t) => t.id === id)
  await io.err(row ? `warden: token ${id} was already revoked at ${row.revokedAt}\n` : `warden: no token ${id}\n`)
  return 1
}

async function withContext(fn: (ctx: CliContext) => Promise<number>): Promise<void> {
  const ctx = await openContext()
  try {
    process.exitCode = await fn(ctx)
  } finally {
    await ctx.close()
  }
}

export const tokensCreateCommand = (opts: { name?: string; identity?: string; roles?: string; json?: boolean }) => withContext((ctx) => runTokensCreate(ctx.db, opts, cliActor(ctx.config.cli)))
export const tokensListCommand = (opts: { json?: boolean }) => withContext((ctx) => runTokensList(ctx.db, opts))
export const tokensRevokeCommand = (id: string) => withContext((ctx) => runTokensRevoke(ctx.db, id, cliActor(ctx.config.cli)))
