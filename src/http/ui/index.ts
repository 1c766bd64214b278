import { Hono } from 'hono'
import type { AppDeps, AppEnv } from '../types.js'
import { registerAlert } from './alert.js'
import { registerAudit } from './audit.js'
import { registerChat } from './chat.js'
import { createUi, type UiEnv } from './context.js'
import { registerEvidence } from './evidence.js'
import { csrfRequired, securityHeaders, sessionRequired, uiOnError } from './guard.js'
import { registerLogin, registerLogout } from './login.js'
import { registerProposal } from './proposal.js'
import { registerQueue } from './queue.js'

// The server-rendered reviewer UI under /ui (hono/jsx, no client code). It has its own session (a signed
// cookie, see session.ts) instead of the API's bearer tokens, and calls the same domain verbs as the API:
// nothing the UI can do is beyond what the principal's token could do on the API.

export { UiLoginInput } from './login.js'
export { UiQueueQuery } from './queue.js'
export { UiDecisionInput } from './proposal.js'
export { UiAuditQuery } from './audit.js'
export { UiAskInput } from './chat.js'

export function registerUiRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  const ui = createUi(deps)
  const r = new Hono<UiEnv>()
  r.onError(uiOnError(ui))
  r.use('*', securityHeaders)
  // Registration order is the guard: the login routes answer before the session middleware runs; every
  // route registered after it needs a live session, and every POST after that a valid CSRF token.
  registerLogin(r, ui)
  r.use('*', sessionRequired(ui))
  r.use('*', csrfRequired(ui))
  registerLogout(r, ui)
  registerQueue(r, ui)
  registerProposal(r, ui)
  registerEvidence(r, ui)
  registerAlert(r, ui)
  registerAudit(r, ui)
  registerChat(r, ui)
  app.route('/ui', r)
  // A bookmarked or typed `/ui/` lands on the queue instead of a 404.
  app.get('/ui/', (c) => c.redirect('/ui', 301))
}
