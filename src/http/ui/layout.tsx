import crypto from 'node:crypto'
import type { Child, FC } from 'hono/jsx'
import { raw } from 'hono/html'
import type { Principal } from '../auth/roles.js'
import { CSRF_FIELD } from './session.js'

// The page frame. hono/jsx escapes every text child and attribute value; the one raw() below is our own
// constant stylesheet, allowed by its hash in the Content-Security-Policy, so no inline script or style from
// anywhere else can run even if some text were ever rendered unescaped.

const CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header a{color:#cfe1ff;text-decoration:none}
header .who{margin-left:auto;font-size:.85rem;color:#c5cad3}
header form{display:inline;margin:0}
main{max-width:70rem;margin:1rem auto;padding:0 1.2rem}
h1{font-size:1.35rem;margin:.8rem 0}
h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d9dde3;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f4;font-weight:600}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{white-space:pre-wrap;word-break:break-word;background:#fff;border:1px solid #d9dde3;padding:.6rem}
.ok{color:#176b2c;font-weight:600}
.fail{color:#a11d1d;font-weight:600}
.notice{background:#e7f5ea;border:1px solid #9fd3ab;padding:.6rem .8rem}
.error{background:#fdecec;border:1px solid #e7a3a3;padding:.6rem .8rem}
.warn{background:#fff6df;border:1px solid #ecd28c;padding:.6rem .8rem}
.muted{color:#5b6472;font-size:.85rem}
.cite{font-size:.8rem;margin-left:.25rem}
.status{display:inline-block;padding:0 .45rem;border-radius:.6rem;background:#e3e7ee;font-size:.85rem}
form.decide{background:#fff;border:1px solid #d9dde3;padding:.8rem;margin:.6rem 0}
textarea,input[type=text],input[type=password],select{font:inherit;padding:.3rem;max-width:100%}
textarea{width:100%;min-height:4rem}
button{font:inherit;padding:.3rem .9rem;cursor:pointer}
`

export const STYLE_HASH = `'sha256-${crypto.createHash('sha256').update(CSS, 'utf8').digest('base64')}'`

/** Strict policy: no scripts at all, only this stylesheet, forms post only to us, never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'none'",
  `style-src ${STYLE_HASH}`,
  "img-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

export const CsrfField: FC<{ token: string }> = ({ token }) => <input type="hidden" name={CSRF_FIELD} value={token} />

export const Layout: FC<{ title: string; principal?: Principal | null; csrf?: string; children?: Child }> = ({ title, principal, csrf, children }) => (
  <html lang="en">
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <title>{`${title} · Warden`}</title>
      <style>{raw(CSS)}</style>
    </head>
    <body>
      <header>
        <strong>Warden</strong>
        {principal ? (
          <>
            <a href="/ui">Approval queue</a>
            <a href="/ui/audit">Audit</a>
            <a href="/ui/chat">Ask</a>
            <span class="who">
              {principal.identity} ({principal.roles.join(', ')}){' '}
              {csrf ? (
                <form method="post" action="/ui/logout">
                  <CsrfField token={csrf} />
                  <button type="submit">Log out</button>
                </form>
              ) : null}
            </span>
          </>
        ) : null}
      </header>
      <main>{children}</main>
    </body>
  </html>
)

export const ErrorPage: FC<{ status: number; message: string; requestId: string; principal?: Principal | null; csrf?: string }> = (p) => (
  <Layout title={`Error ${p.status}`} principal={p.principal ?? null} csrf={p.csrf}>
    <h1>Error {p.status}</h1>
    <p class="error" role="alert">{p.message}</p>
    <p class="muted">request id {p.requestId}</p>
  </Layout>
)

/** "3 min ago" style age of an ISO time, relative to now. */
export function age(iso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 1000))
  if (s < 90) return `${s}s`
  if (s < 90 * 60) return `${Math.round(s / 60)} min`
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h`
  return `${Math.round(s / 86400)} d`
}
