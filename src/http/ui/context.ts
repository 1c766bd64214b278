import type { Context } from 'hono'
import { html } from 'hono/html'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { AppDeps, AppEnv } from '../types.js'
import { LoggedOut, csrfToken, sessionKeys, type SessionKeys, type UiSession } from './session.js'

// What every UI page module receives, and the small helpers they share.

export type UiEnv = {
  Variables: AppEnv['Variables'] & {
    /** Set by the session middleware on every page behind the login. */
    session: UiSession
    /** The parsed form of a POST, after its CSRF token was checked. */
    form: Record<string, string>
  }
}
export type UiContext = Context<UiEnv>

export interface Ui {
  deps: AppDeps
  keys: SessionKeys
  loggedOut: LoggedOut
  now(): Date
}

export function createUi(deps: AppDeps): Ui {
  return { deps, keys: sessionKeys(deps.uiSessionSecret), loggedOut: new LoggedOut(), now: () => deps.clock?.() ?? new Date() }
}

/** The signed-in principal (the session middleware guarantees one) and this session's CSRF token. */
export function who(c: UiContext, ui: Ui) {
  const principal = c.get('principal')
  if (!principal) throw new Error('UI page reached without a session')
  return { principal, csrf: csrfToken(ui.keys, c.get('session').sid) }
}

/** Renders a page with a doctype. The JSX node is already escaped; html`` escapes nothing else here. */
export async function page(c: Context, node: unknown, status: ContentfulStatusCode = 200): Promise<Response> {
  return c.html(html`<!DOCTYPE html>${node}`, status)
}

/** Form field as a string ('' when absent or a file). */
export const field = (form: Record<string, unknown>, name: string): string => {
  const v = form[name]
  return typeof v === 'string' ? v : ''
}
