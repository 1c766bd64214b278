import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'
import { hasRole, type ApiRole } from '../auth/roles.js'
import { ApiError, errorBody } from '../errors.js'
import { page, type Ui, type UiContext, type UiEnv } from './context.js'
import { CONTENT_SECURITY_POLICY, ErrorPage } from './layout.js'
import { CSRF_FIELD, SESSION_COOKIE, csrfToken, csrfValid, principalForTokenId, readSession } from './session.js'

// Middleware of the reviewer UI: security headers on every response, the session (else a redirect to the
// login page), the CSRF checks on every POST, and HTML error pages. Order matters and is set in index.ts.

export const securityHeaders: MiddlewareHandler<UiEnv> = async (c, next) => {
  await next()
  const h = c.res.headers
  h.set('content-security-policy', CONTENT_SECURITY_POLICY)
  h.set('x-content-type-options', 'nosniff')
  h.set('x-frame-options', 'DENY')
  h.set('referrer-policy', 'no-referrer')
  // Pages show proposals and evidence: nothing for shared caches, and no stale queue after the back button.
  h.set('cache-control', 'no-store')
}

export const isHttps = (c: Context) => new URL(c.req.url).protocol === 'https:'

/** Resolves the session cookie to a principal whose token is still live; otherwise to the login page. */
export function sessionRequired(ui: Ui): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    const session = readSession(ui.keys, getCookie(c, SESSION_COOKIE), ui.now(), ui.loggedOut)
    const principal = session ? await principalForTokenId(ui.deps.db, session.tokenId) : null
    if (!session || !principal) return c.redirect('/ui/login', 303)
    c.set('session', session)
    c.set('principal', principal)
    // Viewing anything needs `oncall`, as on the API; login already refuses tokens without it.
    if (!hasRole(principal, 'oncall')) return denied(c, ui, 403, 'the reviewer UI needs the oncall role')
    return next()
  }
}

// hono's Origin / Sec-Fetch-Site check, used as a predicate so a failure renders our 403 page.
const originCheck = csrf()
export async function sameOrigin(c: Context): Promise<boolean> {
  try {
    await originCheck(c, async () => {})
    return true
  } catch (err) {
    if (err instanceof HTTPException && err.status === 403) return false
    throw err
  }
}

/**
 * Every state-changing request must come from our own pages: same origin (Origin or Sec-Fetch-Site) AND a
 * form token bound to this session. Either alone is not enough: the first fails open for clients that send
 * neither header on non-form content types, the second would not stop a same-site sibling that can read pages.
 */
export function csrfRequired(ui: Ui): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next()
    const type = c.req.header('content-type') ?? ''
    const form = /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(type) ? await c.req.parseBody() : {}
    if (!(await sameOrigin(c)) || !csrfValid(ui.keys, c.get('session').sid, form[CSRF_FIELD])) {
      c.get('logger').warn({ path: c.req.path, identity: c.get('principal')?.identity }, 'ui: csrf check failed')
      return denied(c, ui, 403, 'the form was not submitted from this session (CSRF check failed); reload the page and try again')
    }
    c.set('form', Object.fromEntries(Object.entries(form).filter((e): e is [string, string] => typeof e[1] === 'string')))
    return next()
  }
}

/** 403 unless the signed-in principal holds `role`. */
export function requireUiRole(c: UiContext, ui: Ui, role: ApiRole): Promise<Response> | null {
  return hasRole(c.get('principal'), role) ? null : denied(c, ui, 403, `this needs the ${role} role`)
}

export function denied(c: UiContext, ui: Ui, status: ContentfulStatusCode, message: string) {
  const session = c.get('session') as UiEnv['Variables']['session'] | undefined
  return page(c, <ErrorPage status={status} message={message} requestId={c.get('requestId')} principal={c.get('principal')} csrf={session ? csrfToken(ui.keys, session.sid) : undefined} />, status)
}

/** HTML errors with the API's status mapping; 5xx pages never carry the underlying error text. */
export function uiOnError(ui: Ui) {
  return (err: Error, c: Context<UiEnv>) => {
    if (err instanceof ApiError) return denied(c, ui, errorBody(c, err.code, err.message).status as ContentfulStatusCode, err.message)
    if (err instanceof HTTPException && err.status < 500) return denied(c, ui, err.status as ContentfulStatusCode, err.message || 'bad request')
    ;(c.get('logger') as Logger | undefined)?.error({ err }, 'ui: unhandled error')
    return denied(c, ui, 500, 'internal error; see the server log for this request id')
  }
}
