import type { Hono } from 'hono'
import { z } from 'zod'
import { verifyAudit } from '../../audit/verify.js'
import type { Queryable } from '../../db/types.js'
import { requireRole } from '../auth/middleware.js'
import type { AppDeps, AppEnv } from '../types.js'
import { validate } from '../validate.js'

// Reading the hash-chained audit log and checking it. Read-only: nothing here can write an audit row, so the
// routes need no transaction. Rows carry their hashed body verbatim, so a client can recompute the chain.

/** GET /v1/audit query. */
export const AuditListInput = z.strictObject({
  since: z
    .string()
    .refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time')
    .optional(),
  subject: z.string().min(1).max(300).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** `desc` (default): the newest rows first; `asc`: oldest first, e.g. to walk forward from `since`. */
  order: z.enum(['asc', 'desc']).default('desc'),
})
export type AuditListInput = z.infer<typeof AuditListInput>

export const AuditRowOutput = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string(),
  /** The `data` of the hashed body, parsed for convenience. */
  data: z.unknown(),
  /** The hashed body, verbatim: hash = sha256(prevHash + "\n" + body). */
  body: z.string(),
  prevHash: z.string(),
  hash: z.string(),
})
export const AuditListOutput = z.object({ rows: z.array(AuditRowOutput) })
export const AuditVerifyOutput = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  tip: z.string(),
  firstBroken: z.object({ seq: z.number().int(), reason: z.string() }).optional(),
})

function dataOf(body: string): unknown {
  try {
    return (JSON.parse(body) as { data?: unknown }).data ?? null
  } catch {
    // A row whose body is not JSON is a broken chain; /v1/audit/verify says where. Still list it.
    return null
  }
}

export async function listAudit(q: Queryable, opts: AuditListInput): Promise<Array<z.infer<typeof AuditRowOutput>>> {
  const { rows } = await q.query<{ seq: number | string; at: string | Date; actor: string; action: string; subject: string; body: string; prev_hash: string; hash: string }>(
    `select seq, at, actor, action, subject, body, prev_hash, hash from audit_log
     where ($1::timestamptz is null or at >= $1) and ($2::text is null or subject = $2)
     order by seq ${opts.order === 'asc' ? 'asc' : 'desc'} limit $3`,
    [opts.since ? new Date(opts.since).toISOString() : null, opts.subject ?? null, opts.limit],
  )
  return rows.map((r) => ({ seq: Number(r.seq), at: new Date(r.at).toISOString(), actor: r.actor, action: r.action, subject: r.subject, data: dataOf(r.body), body: r.body, prevHash: r.prev_hash, hash: r.hash }))
}

export function registerAuditRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  app.get('/v1/audit', requireRole('reviewer'), async (c) => {
    const input = validate(AuditListInput, c.req.query())
    return c.json(AuditListOutput.parse({ rows: await listAudit(deps.db, input) }))
  })

  // A broken chain is a finding, not a failed request: 200 with ok false and the first broken link.
  app.get('/v1/audit/verify', requireRole('reviewer'), async (c) => c.json(AuditVerifyOutput.parse(await verifyAudit(deps.db))))
}
