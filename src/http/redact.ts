import { stdSerializers, type LoggerOptions } from 'pino'

// What Warden's logs must never carry: credentials in request headers, tokens and keys in logged objects, the
// secret-bearing environment variables, and API tokens or bearer credentials quoted inside strings. One place,
// used by every logger Warden builds (createLogger in src/cli/context.ts) and by test/unit/http/redact.test.ts.
//
// Two layers. pino's `redact` takes fixed paths, which is the only hook that also reaches child-logger bindings
// (`logger.child({ token })`), so it gets the sensitive names at the top level and under `headers` /
// `req.headers`. It cannot cover depth cheaply: `*.token` misses `a.b.token`, and wildcard paths are costly
// (@pinojs/redact on the request-completion line: 1.2 µs/line bare, 24 µs with these keys at depth ≤ 1, 124 µs
// at depth ≤ 4). So logged objects also go through one walk that matches key names at any depth (1.5 µs/line)
// and replaces credentials quoted in strings.

export const REDACT_CENSOR = '[redacted]'

/**
 * Keys whose values are dropped wherever they appear (case-insensitive): credential headers (authorization,
 * cookie, the Grafana / PagerDuty / Slack / executor signature headers) and any key ending in token, secret,
 * password, api key or signature (`token`, `apiKey`, `csrfToken`, `WARDEN_EXECUTOR_SECRET`,
 * `x-slack-signature`, …), plus connection strings, which embed passwords.
 */
export const REDACT_KEY = /(?:authorization|cookie|passw(?:or)?d|secret|token|api[-_]?key|signature)$|^(?:database_?url|connection_?string)$/i

/** Header names the key rule covers; listed for documentation and the test. */
export const REDACTED_HEADERS = Object.freeze([
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'x-pagerduty-signature',
  'x-grafana-alerting-signature',
  'x-slack-signature',
  'x-warden-signature',
])

/** Environment variables the key rule covers. */
export const REDACTED_ENV = Object.freeze(['OPENAI_API_KEY', 'DATABASE_URL', 'WARDEN_EXECUTOR_SECRET', 'WARDEN_GRAFANA_HMAC_SECRET', 'WARDEN_PAGERDUTY_SECRET', 'WARDEN_SLACK_SIGNING_SECRET', 'WARDEN_UI_SESSION_SECRET'])

// Credentials quoted in free text (an error message, a header echoed into a string): Warden API tokens,
// `Bearer …` credentials, OpenAI-style keys.
const SECRET_IN_TEXT = /\bwdn_[A-Za-z0-9_-]{8,}|\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+|\bsk-[A-Za-z0-9_-]{16,}/g

export function redactText(s: string): string {
  return s.replace(SECRET_IN_TEXT, (_m, scheme: string | undefined) => (scheme ? `${scheme} ${REDACT_CENSOR}` : REDACT_CENSOR))
}

/** Nesting deeper than this is replaced, not walked: log objects are small, and a cycle must not hang us. */
const MAX_DEPTH = 32

/**
 * A copy of `value` with sensitive keys censored and credentials in strings replaced. Unchanged branches are
 * shared, not copied, and the input is never mutated (it may be a live request or config object).
 */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value)
  if (typeof value !== 'object' || value === null) return value
  if (depth >= MAX_DEPTH) return REDACT_CENSOR
  if (value instanceof Error) return redactValue(stdSerializers.err(value), depth)
  if (Array.isArray(value)) {
    let out: unknown[] | null = null
    for (let i = 0; i < value.length; i++) {
      const r = redactValue(value[i], depth + 1)
      if (r !== value[i]) (out ??= [...value])[i] = r
    }
    return out ?? value
  }
  if (value instanceof Date || ArrayBuffer.isView(value)) return value
  let out: Record<string, unknown> | null = null
  const src = value as Record<string, unknown>
  for (const key of Object.keys(src)) {
    const cur = src[key]
    const r = REDACT_KEY.test(key) ? (cur === undefined || cur === null ? cur : REDACT_CENSOR) : redactValue(cur, depth + 1)
    if (r !== cur) (out ??= { ...src })[key] = r
  }
  return out ?? value
}

/** Top-level names for pino's `redact` (they also match child bindings), bracketed when not identifiers. */
const TOP_LEVEL_KEYS = ['token', 'apiKey', 'api_key', 'secret', 'password', 'csrfToken', 'signingSecret', 'grafanaHmacSecret', 'pagerdutySecret', 'uiSessionSecret', ...REDACTED_ENV]
const seg = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : `["${k}"]`)
const join = (prefix: string, k: string) => (seg(k).startsWith('[') ? `${prefix}${seg(k)}` : `${prefix}.${k}`)

/** The fixed paths handed to pino's `redact`. */
export const REDACT_PATHS: readonly string[] = Object.freeze([
  ...[...TOP_LEVEL_KEYS, ...REDACTED_HEADERS].map(seg),
  ...REDACTED_HEADERS.flatMap((h) => [join('headers', h), join('req.headers', h), join('res.headers', h)]),
])

/** Logger options that apply the redaction to every line: logged objects, child bindings, errors, messages. */
export function logRedaction(): Pick<LoggerOptions, 'redact' | 'formatters' | 'serializers' | 'hooks'> {
  return {
    redact: { paths: [...REDACT_PATHS], censor: REDACT_CENSOR },
    formatters: {
      log: (obj) => redactValue(obj) as Record<string, unknown>,
      bindings: (b) => redactValue(b) as Record<string, unknown>,
    },
    // pino runs serializers after the log formatter, which has already turned an `err` into a scrubbed plain
    // object; an Error reaching this serializer some other way is scrubbed here.
    serializers: { err: (e: unknown) => (e instanceof Error ? redactValue(stdSerializers.err(e)) : e) },
    hooks: {
      logMethod(args, method) {
        // The message and printf-style arguments: strings scrubbed, objects after the first go through the walk.
        const scrubbed = args.map((a, i) => (typeof a === 'string' ? redactText(a) : i > 0 ? redactValue(a) : a)) as typeof args
        return method.apply(this, scrubbed)
      },
    },
  }
}
