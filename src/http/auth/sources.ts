import crypto from 'node:crypto'
import type { AlertSource } from '../../alerts/types.js'
import { hasRole, type Principal } from './roles.js'

// Alert sources authenticate the way their tools can: Alertmanager and generic senders with a bearer token
// (`http_config.authorization`) of a `webhook` API token; Grafana with the same token or its HMAC signature
// header; PagerDuty (v3 webhooks) with its `X-PagerDuty-Signature` or a token. Signatures are HMAC-SHA256 of
// the raw request bytes (never of re-serialised JSON), compared in constant time.
//
// Rule: a signature header is only ignored when no secret is configured for that source. With a secret, a
// request carrying the header must verify — a bad signature is refused even if a token came along too, since
// it means the sender (or someone in between) is not who it claims.

export const GRAFANA_SIGNATURE_HEADER = 'x-grafana-alerting-signature'
export const GRAFANA_TIMESTAMP_HEADER = 'x-grafana-alerting-signature-timestamp'
export const PAGERDUTY_SIGNATURE_HEADER = 'x-pagerduty-signature'
/** Timestamped Grafana signatures older (or newer) than this are refused as replays. */
export const REPLAY_WINDOW_MS = 5 * 60_000

export interface SourceSecrets {
  grafanaHmacSecret?: string
  pagerdutySecret?: string
}

export type Verified = { ok: true } | { ok: false; reason: string }

const HEX64 = /^[0-9a-f]{64}$/i

export function hmacSha256(secret: string, data: Uint8Array | string): Buffer {
  return crypto.createHmac('sha256', secret).update(data).digest()
}

/** Constant-time check of a hex HMAC-SHA256 signature against `data`. */
export function matchesHexHmac(secret: string, data: Uint8Array | string, signatureHex: string): boolean {
  const sig = signatureHex.trim()
  if (!HEX64.test(sig)) return false
  return crypto.timingSafeEqual(Buffer.from(sig, 'hex'), hmacSha256(secret, data))
}

/**
 * Grafana (12+): bare hex HMAC-SHA256 of the body, or of `timestamp:body` when a timestamp header is
 * configured on the contact point (Unix seconds). A timestamped signature is only accepted within the replay
 * window; an untimestamped one cannot be replay-checked (re-delivery is then harmless only thanks to dedup).
 */
export function verifyGrafanaSignature(input: { secret: string; body: Uint8Array; signature: string; timestamp?: string | null; now: Date }): Verified {
  const ts = input.timestamp?.trim()
  if (ts) {
    if (!/^\d{1,12}$/.test(ts)) return { ok: false, reason: 'signature timestamp is not Unix seconds' }
    if (Math.abs(input.now.getTime() - Number(ts) * 1000) > REPLAY_WINDOW_MS) return { ok: false, reason: 'signature timestamp is outside the 5-minute window' }
    const signed = Buffer.concat([Buffer.from(`${ts}:`, 'utf8'), input.body])
    return matchesHexHmac(input.secret, signed, input.signature) ? { ok: true } : { ok: false, reason: 'signature does not match' }
  }
  return matchesHexHmac(input.secret, input.body, input.signature) ? { ok: true } : { ok: false, reason: 'signature does not match' }
}

/**
 * PagerDuty v3: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]` (several while a secret is being rotated); any
 * v1 signature that matches passes. Every candidate is compared, so timing says nothing about which matched.
 */
export function verifyPagerDutySignature(input: { secret: string; body: Uint8Array; header: string }): Verified {
  const candidates = input.header
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .slice(0, 10)
    .map((s) => s.slice(3))
  if (candidates.length === 0) return { ok: false, reason: 'no v1 signature in X-PagerDuty-Signature' }
  let ok = false
  for (const c of candidates) ok = matchesHexHmac(input.secret, input.body, c) || ok
  return ok ? { ok: true } : { ok: false, reason: 'signature does not match' }
}

export type SourceAuth = { ok: true; principal: Principal } | { ok: false; code: 'unauthorized' | 'forbidden'; message: string }

/**
 * Who is delivering to /v1/alerts/:source. `bearer` is what bearerAuth resolved from Authorization (null when
 * the header was absent; a bad token never gets here, it is 401 already).
 */
export function authenticateSource(input: {
  source: AlertSource
  header: (name: string) => string | undefined
  body: Uint8Array
  bearer: Principal | null
  secrets?: SourceSecrets
  now: Date
}): SourceAuth {
  const { source, secrets } = input
  const signed = (verified: Verified): SourceAuth =>
    verified.ok
      ? { ok: true, principal: { identity: `source:${source}`, roles: ['webhook'], via: `source:${source}` } }
      : { ok: false, code: 'unauthorized', message: `${source} signature refused: ${verified.reason}` }
  if (source === 'grafana' && secrets?.grafanaHmacSecret) {
    const signature = input.header(GRAFANA_SIGNATURE_HEADER)
    if (signature !== undefined) {
      return signed(verifyGrafanaSignature({ secret: secrets.grafanaHmacSecret, body: input.body, signature, timestamp: input.header(GRAFANA_TIMESTAMP_HEADER), now: input.now }))
    }
  }
  if (source === 'pagerduty' && secrets?.pagerdutySecret) {
    const header = input.header(PAGERDUTY_SIGNATURE_HEADER)
    if (header !== undefined) return signed(verifyPagerDutySignature({ secret: secrets.pagerdutySecret, body: input.body, header }))
  }
  if (!input.bearer) {
    const how =
      source === 'grafana' && secrets?.grafanaHmacSecret ? 'an X-Grafana-Alerting-Signature or a bearer token'
      : source === 'pagerduty' && secrets?.pagerdutySecret ? 'an X-PagerDuty-Signature or a bearer token'
      : 'Authorization: Bearer <webhook token>'
    return { ok: false, code: 'unauthorized', message: `authentication required: send ${how}` }
  }
  if (!hasRole(input.bearer, 'webhook')) return { ok: false, code: 'forbidden', message: 'this route needs one of the roles: webhook' }
  return { ok: true, principal: input.bearer }
}
