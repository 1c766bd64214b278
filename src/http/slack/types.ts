import type { SlackUserMap } from './users.js'

/** Slack wiring for the HTTP app (AppDeps.slack). Built by `warden serve` from config, or by a test. */
export interface SlackDeps {
  /** The Slack app's signing secret. Unset → every Slack request is refused (401). */
  signingSecret?: string
  /** Slack user → Warden identity and roles; anyone not in it can do nothing but read the usage. */
  users: SlackUserMap
  /** Used to POST to Slack's response_url; the global fetch unless a test stands in for Slack. */
  fetch?: typeof fetch
  /** Bound on one response_url POST (default 5 s). */
  responseTimeoutMs?: number
}

/** The subset of Block Kit Warden sends. */
export type SlackText = { type: 'mrkdwn' | 'plain_text'; text: string }
export type SlackBlock =
  | { type: 'section'; block_id?: string; text: SlackText }
  | { type: 'context'; elements: SlackText[] }
  | { type: 'divider' }
  | { type: 'actions'; block_id?: string; elements: SlackButton[] }
export interface SlackButton {
  type: 'button'
  action_id: string
  value: string
  text: { type: 'plain_text'; text: string }
  style?: 'primary' | 'danger'
  confirm?: { title: SlackText; text: SlackText; confirm: SlackText; deny: SlackText }
}

/** A message for a slash-command reply, an interaction reply or a response_url POST. */
export interface SlackMessage {
  response_type: 'ephemeral' | 'in_channel'
  replace_original?: boolean
  /** Fallback text for notifications; escaped like every mrkdwn field. */
  text: string
  blocks?: SlackBlock[]
}
