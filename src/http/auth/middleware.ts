import type { MiddlewareHandler } from 'hono'
import type { Queryable } from '../../db/types.js'
import { ApiError } from '../errors.js'
import type { AppEnv } from '../types.js'
import { hasAnyRole, type ApiRole } from './roles.js'
import { authenticateToken } from './tokens.js'

/** Resolves `Authorization: Bearer <token>` into c.var.principal (null when absent). A bad token is 401 at once. */
export function bearerAuth(db: Queryable): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.get('principal')) return next()
    c.set('principal', null)
    const header = c.req.header('authorization')
    if (header) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header)
      const principal = m ? await authenticateToken(db, m[1]!) : null
      if (!principal) throw new ApiError('unauthorized', 'invalid or revoked API token')
      c.set('principal', principal)
    }
    return next()
  }
}

/** 401 without a principal; 403 when none of `roles` is held (admin holds all). */
export function requireRole(...roles: ApiRole[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const p = c.get('principal')
    if (!p) throw new ApiError('unauthorized', 'authentication required: send Authorization: Bearer <token>')
    if (!hasAnyRole(p, roles)) throw new ApiError('forbidden', `this route needs one of the roles: ${roles.join(', ')}`)
    return next()
  }
}
