import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Context } from 'hono'
import { ApiError } from '../errors.js'
import type { SlackDeps } from './types.js'

// Slack signs every request it sends: `X-Slack-Signature: v0=hex(HMAC_SHA256(secret, "v0:" + timestamp + ":" +
// rawBody))` with `X-Slack-Request-Timestamp` in Unix seconds. The Slack routes carry no bearer token, so this
// signature is their only authentication: no secret configured means every Slack request is refused.

/** Slack's documented replay window; applied in both directions so a clock skewed ahead is no loophole. */
export const SLACK_REPLAY_WINDOW_S = 5 * 60

export type SlackVerifyFailure = 'not_configured' | 'missing_headers' | 'bad_timestamp' | 'stale_timestamp' | 'bad_signature'
export type SlackVerifyResult = { ok: true } | { ok: false; reason: SlackVerifyFailure; message: string }

/** `v0=<hex>` for this secret, timestamp and exact body bytes. */
export function slackSignature(secret: string, timestamp: string, rawBody: string | Uint8Array): string {
  const mac = createHmac('sha256', secret)
  mac.update(`v0:${timestamp}:`)
  mac.update(rawBody)
  return `v0=${mac.digest('hex')}`
}

export function verifySlackSignature(input: {
  secret: string | undefined
  timestamp: string | undefined
  signature: string | undefined
  rawBody: string | Uint8Array
  now: Date
  windowS?: number
}): SlackVerifyResult {
  if (!input.secret) return { ok: false, reason: 'not_configured', message: 'Slack is not configured on this server (no signing secret); Slack requests are refused' }
  const { timestamp, signature } = input
  if (!timestamp || !signature) return { ok: false, reason: 'missing_headers', message: 'missing X-Slack-Request-Timestamp or X-Slack-Signature' }
  // Digits only: Number('1e3') or ' 12' would parse, but would not be what Slack signed.
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'bad_timestamp', message: 'X-Slack-Request-Timestamp is not Unix seconds' }
  const skew = Math.abs(input.now.getTime() / 1000 - Number(timestamp))
  if (skew > (input.windowS ?? SLACK_REPLAY_WINDOW_S)) return { ok: false, reason: 'stale_timestamp', message: 'X-Slack-Request-Timestamp is outside the 5-minute replay window' }
  const expected = Buffer.from(slackSignature(input.secret, timestamp, input.rawBody), 'utf8')
  const given = Buffer.from(signature, 'utf8')
  // timingSafeEqual needs equal lengths; the length of a well-formed signature is public anyway.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature', message: 'X-Slack-Signature does not match the request' }
  return { ok: true }
}

/**
 * Reads the body once, as bytes (the signature covers bytes, not a re-decoded string), verifies it and returns
 * the form fields. A verification failure is 401 before anything is parsed or stored; a verified body that is
 * not a form is 415.
 */
export async function readVerifiedForm(c: Context, slack: SlackDeps | undefined, now: Date): Promise<URLSearchParams> {
  const raw = new Uint8Array(await c.req.arrayBuffer())
  const v = verifySlackSignature({
    secret: slack?.signingSecret,
    timestamp: c.req.header('x-slack-request-timestamp'),
    signature: c.req.header('x-slack-signature'),
    rawBody: raw,
    now,
  })
  if (!v.ok) {
    ;(c.get('logger' as never) as { warn?: (o: object, m: string) => void } | undefined)?.warn?.({ reason: v.reason }, 'slack request refused')
    throw new ApiError('unauthorized', v.message)
  }
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type !== 'application/x-www-form-urlencoded') throw new ApiError('unsupported_media_type', 'Slack requests are application/x-www-form-urlencoded')
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw)
  } catch {
    throw new ApiError('bad_request', 'request body is not valid UTF-8')
  }
  return new URLSearchParams(text)
}
