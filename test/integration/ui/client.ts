// A tiny browser stand-in for the reviewer UI over app.request (or fetch): a cookie jar scoped to /ui,
// same-origin form posts, and the CSRF token scraped from the last page, as a browser would submit it.

type Fetcher = (url: string, init: RequestInit) => Response | Promise<Response>

export const ORIGIN = 'http://localhost'

export class UiClient {
  readonly cookies = new Map<string, string>()
  constructor(private readonly fetcher: Fetcher) {}

  private store(res: Response): Response {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (attrs.some((a) => /^\s*max-age=0\s*$/i.test(a)) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return res
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    return { ...(cookie ? { cookie } : {}), ...extra }
  }

  async get(path: string): Promise<Response> {
    return this.store(await this.fetcher(`${ORIGIN}${path}`, { method: 'GET', headers: this.headers(), redirect: 'manual' }))
  }

  /** A form post as our pages send it; `origin: null` leaves the Origin header out. */
  async post(path: string, form: Record<string, string>, opts: { origin?: string | null; headers?: Record<string, string> } = {}): Promise<Response> {
    const origin = opts.origin === undefined ? ORIGIN : opts.origin
    const headers = this.headers({ 'content-type': 'application/x-www-form-urlencoded', ...(origin ? { origin } : {}), ...(opts.headers ?? {}) })
    return this.store(await this.fetcher(`${ORIGIN}${path}`, { method: 'POST', headers, body: new URLSearchParams(form).toString(), redirect: 'manual' }))
  }

  /** GET the login page (nonce cookie + form token), then post the API token. */
  async login(token: string): Promise<Response> {
    const form = await this.get('/ui/login')
    return this.post('/ui/login', { token, _csrf: csrfOf(await form.text()) })
  }
}

export function csrfOf(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html)
  if (!m) throw new Error('no CSRF field on the page')
  return m[1]!
}
