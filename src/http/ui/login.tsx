import type { Context, Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { hasRole } from '../auth/roles.js'
import { authenticateToken } from '../auth/tokens.js'
import { field, page, type Ui, type UiEnv } from './context.js'
import { isHttps, sameOrigin } from './guard.js'
import { CsrfField, Layout } from './layout.js'
import { CSRF_FIELD, LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, issueSession, loginCsrfToken, loginCsrfValid, newNonce } from './session.js'

// Log in with an API token; the session cookie then stands for the token's id, never the token itself.
// The login form has its own CSRF token, bound to a pre-login nonce cookie, so another site cannot log a
// victim's browser in as the attacker (who would then see what the victim types into the chat).

export const UiLoginInput = z.object({ token: z.string().trim().min(1).max(200) })

const cookieOpts = (c: Context, maxAgeS: number) => ({ httpOnly: true, sameSite: 'Strict' as const, path: '/ui', secure: isHttps(c), maxAge: maxAgeS })

function loginPage(c: Context<UiEnv>, ui: Ui, error: string | null, status: ContentfulStatusCode) {
  let nonce = getCookie(c, LOGIN_COOKIE)
  if (!nonce || nonce.length > 100) {
    nonce = newNonce()
    setCookie(c, LOGIN_COOKIE, nonce, cookieOpts(c, 3600))
  }
  return page(
    c,
    <Layout title="Log in">
      <h1>Log in</h1>
      <p>Paste your Warden API token. The browser keeps a signed session for {SESSION_TTL_MS / 3_600_000} hours; the token itself is not stored in it.</p>
      {error ? <p class="error" role="alert">{error}</p> : null}
      <form method="post" action="/ui/login">
        <CsrfField token={loginCsrfToken(ui.keys, nonce)} />
        <label>
          API token <input type="password" name="token" autocomplete="off" required />
        </label>{' '}
        <button type="submit">Log in</button>
      </form>
    </Layout>,
    status,
  )
}

export function registerLogin(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/login', (c) => loginPage(c, ui, null, 200))

  r.post('/login', async (c) => {
    const form = await c.req.parseBody()
    if (!(await sameOrigin(c)) || !loginCsrfValid(ui.keys, getCookie(c, LOGIN_COOKIE), form[CSRF_FIELD])) {
      return loginPage(c, ui, 'The login form expired or came from another site; try again.', 403)
    }
    const input = UiLoginInput.safeParse({ token: field(form, 'token') })
    const principal = input.success ? await authenticateToken(ui.deps.db, input.data.token) : null
    if (!principal) {
      c.get('logger').info('ui: login refused (unknown or revoked token)')
      return loginPage(c, ui, 'That token is not valid (unknown or revoked).', 401)
    }
    if (!hasRole(principal, 'oncall')) return loginPage(c, ui, `The token of ${principal.identity} has no oncall role; the reviewer UI needs it.`, 403)
    const tokenId = principal.via.replace(/^token:/, '')
    const { cookie } = issueSession(ui.keys, tokenId, ui.now())
    setCookie(c, SESSION_COOKIE, cookie, cookieOpts(c, SESSION_TTL_MS / 1000))
    deleteCookie(c, LOGIN_COOKIE, { path: '/ui' })
    c.get('logger').info({ identity: principal.identity, tokenId }, 'ui: session started')
    return c.redirect('/ui', 303)
  })
}

/** Behind the session and CSRF middleware. */
export function registerLogout(r: Hono<UiEnv>, ui: Ui): void {
  r.post('/logout', (c) => {
    ui.loggedOut.add(c.get('session'), ui.now())
    deleteCookie(c, SESSION_COOKIE, { path: '/ui' })
    return c.redirect('/ui/login', 303)
  })
}
