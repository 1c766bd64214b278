import crypto from 'node:crypto'
import { z } from 'zod'
import { newId } from '../../alerts/receive.js'
import { appendAudit } from '../../audit/append.js'
import { withTransaction, type Queryable } from '../../db/types.js'
import { TOKEN_ROLES, type Principal } from './roles.js'

// Tokens are 32 random bytes shown once at creation; the database keeps their SHA-256. Lookups hash the
// presented token and compare by index: equal hashes only come from equal tokens, so no timing oracle on
// the secret itself.

const TOKEN_PREFIX = 'wdn_'

export const CreateTokenInput = z.strictObject({
  name: z.string().trim().min(1).max(100),
  identity: z.string().trim().min(1).max(200).refine((s) => s !== 'assistant', 'the assistant has no API identity'),
  roles: z
    .array(z.string())
    .min(1)
    .max(20)
    .refine((rs) => rs.every((r) => TOKEN_ROLES.includes(r)), { message: `roles must be among: ${TOKEN_ROLES.join(', ')}` }),
})
export type CreateTokenInput = z.infer<typeof CreateTokenInput>

export interface TokenRow {
  id: string
  name: string
  identity: string
  roles: string[]
  createdBy: string
  createdAt: string
  revokedAt: string | null
}

export const hashToken = (token: string): string => crypto.createHash('sha256').update(token, 'utf8').digest('hex')

/** Creates a token; returns the secret once. Audited in the same transaction. */
export async function createToken(db: Queryable, input: CreateTokenInput, by: string, now = new Date()): Promise<{ token: string; row: TokenRow }> {
  const parsed = CreateTokenInput.parse(input)
  const token = TOKEN_PREFIX + crypto.randomBytes(32).toString('base64url')
  const id = newId('tk')
  const roles = [...new Set(parsed.roles)].sort()
  await withTransaction(db, async (tx) => {
    await tx.query(
      'insert into api_tokens (id, name, identity, roles, token_hash, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7)',
      [id, parsed.name, parsed.identity, roles, hashToken(token), by, now.toISOString()],
    )
    await appendAudit(tx, { actor: by, action: 'token.created', subject: `token:${id}`, data: { name: parsed.name, identity: parsed.identity, roles } }, now)
  })
  return { token, row: { id, name: parsed.name, identity: parsed.identity, roles, createdBy: by, createdAt: now.toISOString(), revokedAt: null } }
}

/** The principal a bearer token stands for, or null (unknown, revoked or malformed). */
export async function authenticateToken(db: Queryable, token: string): Promise<Principal | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null
  const { rows } = await db.query<{ id: string; identity: string; roles: string[] }>(
    'select id, identity, roles from api_tokens where token_hash = $1 and revoked_at is null',
    [hashToken(token)],
  )
  const r = rows[0]
  return r ? { identity: r.identity, roles: r.roles, via: `token:${r.id}` } : null
}

export async function revokeToken(db: Queryable, id: string, by: string, now = new Date()): Promise<boolean> {
  return withTransaction(db, async (tx) => {
    const { rows } = await tx.query<{ id: string }>('update api_tokens set revoked_at = $2 where id = $1 and revoked_at is null returning id', [id, now.toISOString()])
    if (!rows[0]) return false
    await appendAudit(tx, { actor: by, action: 'token.revoked', subject: `token:${id}`, data: {} }, now)
    return true
  })
}

export async function listTokens(db: Queryable): Promise<TokenRow[]> {
  const { rows } = await db.query<{ id: string; name: string; identity: string; roles: string[]; created_by: string; created_at: Date | string; revoked_at: Date | string | null }>(
    'select id, name, identity, roles, created_by, created_at, revoked_at from api_tokens order by created_at, id',
  )
  const iso = (v: Date | string) => new Date(v).toISOString()
  return rows.map((r) => ({ id: r.id, name: r.name, identity: r.identity, roles: r.roles, createdBy: r.created_by, createdAt: iso(r.created_at), revokedAt: r.revoked_at ? iso(r.revoked_at) : null }))
}
