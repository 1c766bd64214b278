import crypto from 'node:crypto'
import type { Queryable } from '../../db/types.js'
import type { Principal } from '../auth/roles.js'

// Reviewer UI sessions. The cookie never holds the API token: it holds the token's id, a random session id
// and an expiry, signed with HMAC-SHA256. Every request looks the token up by id again, so revoking the token
// ends its UI sessions at once. CSRF tokens are an HMAC of the session id under a separate label: an attacker
// who cannot read the (HttpOnly, SameSite=Strict) cookie cannot compute one.

export const SESSION_COOKIE = 'warden_ui'
/** Pre-login nonce, bound into the login form's CSRF token (stops login CSRF: logging a victim in as you). */
export const LOGIN_COOKIE = 'warden_ui_login'
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000
export const CSRF_FIELD = '_csrf'

export interface UiSession {
  /** Random per login; what the CSRF token and logout are bound to. */
  readonly sid: string
  readonly tokenId: string
  readonly expiresAt: number
}

export interface SessionKeys {
  sign(label: string, data: string): string
  verify(label: string, data: string, mac: string): boolean
}

/**
 * Keys for one app. Without a configured secret the key is random per process: restarting (or a second
 * process behind a balancer) logs everyone out, which is safe; set a shared secret to avoid that.
 */
export function sessionKeys(secret?: string): SessionKeys {
  const key = secret ? crypto.createHash('sha256').update(`warden-ui-session\n${secret}`).digest() : crypto.randomBytes(32)
  const sign = (label: string, data: string) => crypto.createHmac('sha256', key).update(`${label}\n${data}`).digest('base64url')
  return {
    sign,
    verify(label, data, mac) {
      const want = Buffer.from(sign(label, data))
      const got = Buffer.from(mac)
      return got.length === want.length && crypto.timingSafeEqual(got, want)
    },
  }
}

export function issueSession(keys: SessionKeys, tokenId: string, now: Date): { cookie: string; session: UiSession } {
  const session: UiSession = { sid: crypto.randomBytes(16).toString('base64url'), tokenId, expiresAt: now.getTime() + SESSION_TTL_MS }
  const payload = Buffer.from(JSON.stringify({ s: session.sid, t: session.tokenId, e: session.expiresAt })).toString('base64url')
  return { cookie: `${payload}.${keys.sign('session', payload)}`, session }
}

/** The session a cookie value stands for, or null (malformed, forged, expired or logged out). */
export function readSession(keys: SessionKeys, value: string | undefined, now: Date, loggedOut: LoggedOut): UiSession | null {
  if (!value || value.length > 1000) return null
  const [payload, mac, extra] = value.split('.')
  if (!payload || !mac || extra !== undefined || !keys.verify('session', payload, mac)) return null
  let parsed: { s?: unknown; t?: unknown; e?: unknown }
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof parsed
  } catch {
    return null
  }
  if (typeof parsed.s !== 'string' || typeof parsed.t !== 'string' || typeof parsed.e !== 'number') return null
  if (parsed.e <= now.getTime() || loggedOut.has(parsed.s, now)) return null
  return { sid: parsed.s, tokenId: parsed.t, expiresAt: parsed.e }
}

export const csrfToken = (keys: SessionKeys, sid: string): string => keys.sign('csrf', sid)
export const csrfValid = (keys: SessionKeys, sid: string, presented: unknown): boolean =>
  typeof presented === 'string' && presented.length > 0 && presented.length < 200 && keys.verify('csrf', sid, presented)

export const loginCsrfToken = (keys: SessionKeys, nonce: string): string => keys.sign('login-csrf', nonce)
export const loginCsrfValid = (keys: SessionKeys, nonce: string | undefined, presented: unknown): boolean =>
  !!nonce && typeof presented === 'string' && presented.length < 200 && keys.verify('login-csrf', nonce, presented)

export const newNonce = (): string => crypto.randomBytes(16).toString('base64url')

/**
 * Sessions ended by logout before their expiry. Cookies are stateless, so without this a copied cookie would
 * outlive the logout; entries drop out once the session would have expired anyway. Per process (see sessionKeys).
 */
export class LoggedOut {
  readonly #ended = new Map<string, number>()
  add(s: UiSession, now: Date): void {
    for (const [sid, exp] of this.#ended) if (exp <= now.getTime()) this.#ended.delete(sid)
    this.#ended.set(s.sid, s.expiresAt)
  }
  has(sid: string, now: Date): boolean {
    const exp = this.#ended.get(sid)
    return exp !== undefined && exp > now.getTime()
  }
}

/** The principal of a live (unrevoked) token, by id. */
export async function principalForTokenId(db: Queryable, tokenId: string): Promise<Principal | null> {
  const { rows } = await db.query<{ id: string; identity: string; roles: string[] }>('select id, identity, roles from api_tokens where id = $1 and revoked_at is null', [tokenId])
  const r = rows[0]
  return r ? { identity: r.identity, roles: r.roles, via: `session:${r.id}` } : null
}
