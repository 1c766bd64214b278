import type { Catalog } from '../../policy/catalog.js'

// Text helpers shared by the classifiers. Alert text is untrusted data: it is only ever matched,
// never interpreted, and every regex here is linear (no nested quantifiers over user text).

/** "KubePodCrashLooping" → "Kube Pod Crash Looping", "CPUThrottlingHigh" → "CPU Throttling High", "HighErrorRate5xx" → "High Error Rate 5xx". */
export function splitCamel(s: string): string {
  return s
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
}

/** Characters that continue a service-name token: `checkout-api-7d9f` is one token, `checkout/` is not. */
const TOKEN_CHAR = /[A-Za-z0-9_-]/

export interface Mention {
  service: string
  /** The catalog name or alias as written in the catalog. */
  token: string
  /** True when `token` is the service's canonical name (not an alias). */
  fullName: boolean
  index: number
}

/** Every catalog name/alias of the catalog, longest first (so `checkout-api` is preferred to `checkout` at one spot). */
function catalogTokens(catalog: Catalog): Array<{ token: string; lower: string; service: string; fullName: boolean }> {
  const out: Array<{ token: string; lower: string; service: string; fullName: boolean }> = []
  for (const s of catalog.services) {
    out.push({ token: s.name, lower: s.name.toLowerCase(), service: s.name, fullName: true })
    for (const a of s.aliases) out.push({ token: a, lower: a.toLowerCase(), service: s.name, fullName: false })
  }
  return out.sort((a, b) => b.lower.length - a.lower.length)
}

const tokenCache = new WeakMap<Catalog, ReturnType<typeof catalogTokens>>()

/**
 * Whole-token mentions of catalog names and aliases in `text`, case-insensitive, in order of position.
 * A token is whole when the characters around it are not letters, digits, `_` or `-`:
 * `payments-gateway` is not a mention of `payments`, `sso.example.com` is a mention of `sso`.
 */
export function findMentions(text: string, catalog: Catalog): Mention[] {
  let tokens = tokenCache.get(catalog)
  if (!tokens) {
    tokens = catalogTokens(catalog)
    tokenCache.set(catalog, tokens)
  }
  const lower = text.toLowerCase()
  const found: Mention[] = []
  const taken: Array<[number, number]> = []
  for (const t of tokens) {
    if (t.lower.trim() === '') continue
    let from = 0
    for (;;) {
      const i = lower.indexOf(t.lower, from)
      if (i < 0) break
      from = i + 1
      const end = i + t.lower.length
      const before = i > 0 ? lower[i - 1]! : ''
      const after = end < lower.length ? lower[end]! : ''
      if ((before && TOKEN_CHAR.test(before)) || (after && TOKEN_CHAR.test(after))) continue
      if (taken.some(([s, e]) => i < e && end > s)) continue
      taken.push([i, end])
      found.push({ service: t.service, token: t.token, fullName: t.fullName, index: i })
    }
  }
  return found.sort((a, b) => a.index - b.index)
}
