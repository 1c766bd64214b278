import type { Logger } from 'pino'
import type { SlackDeps, SlackMessage } from './types.js'

// Follow-up messages go to the `response_url` Slack put in the (signed) request. Only Slack's own hook hosts
// are accepted: should the signing secret ever leak, Warden must not become a proxy that POSTs wherever a
// forged request points. Each POST is bounded; a failure is logged, never retried into Slack's 30-minute limit.

const DEFAULT_TIMEOUT_MS = 5_000

/** True for https URLs on Slack's hook hosts. */
export function isSlackResponseUrl(raw: string | null | undefined): raw is string {
  if (!raw) return false
  try {
    const u = new URL(raw)
    return u.protocol === 'https:' && !u.username && !u.password && !u.port && (u.hostname === 'hooks.slack.com' || u.hostname === 'hooks.slack-gov.com')
  } catch {
    return false
  }
}

/** POSTs a message to response_url; resolves to whether Slack accepted it (2xx). Never throws. */
export async function postToResponseUrl(slack: SlackDeps, url: string, message: SlackMessage, log: Logger): Promise<boolean> {
  if (!isSlackResponseUrl(url)) {
    log.warn('slack response_url is not a Slack hook URL; not posting')
    return false
  }
  const doFetch = slack.fetch ?? fetch
  try {
    const res = await doFetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(slack.responseTimeoutMs ?? DEFAULT_TIMEOUT_MS),
    })
    if (!res.ok) log.warn({ status: res.status }, 'slack response_url refused the message')
    return res.ok
  } catch (err) {
    log.warn({ err: (err as Error).name }, 'slack response_url post failed')
    return false
  }
}
