import type { Logger } from 'pino'
import { z } from 'zod'
import { ask, AskInput } from '../../assistant/ask.js'
import { listProposals } from '../../approvals/store.js'
import { hasRole } from '../auth/roles.js'
import type { AppDeps } from '../types.js'
import { answerMessage, notice, QUEUE_MAX, queueMessage, usage } from './blocks.js'
import { isSlackResponseUrl, postToResponseUrl } from './respond.js'
import type { SlackDeps, SlackMessage } from './types.js'

// `/warden ask …`, `/warden queue`, `/warden help`. Who is asking comes only from the signed team_id/user_id
// and the user map. Unmapped users get nothing but the usage and why: knowledge-base answers may be internal,
// and the queue names services and people. The same API roles as the HTTP routes apply (`oncall` to ask and
// to read the queue). Slack wants an answer within 3 s: deterministic answers are fast and go inline; with a
// model configured the command is acknowledged at once and the answer POSTed to response_url.

/** Text Postgres can store: a NUL or an unpaired surrogate would fail the insert (a 500) instead of a 422. */
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
export const slackString = () => z.string().refine((s) => !UNSTORABLE.test(s), 'contains NUL or an unpaired surrogate')

/** Slack's slash-command form fields we use (it sends more: channel_id, user_name, api_app_id, …). */
export const SlackCommandInput = z.object({
  team_id: slackString().min(1).max(64),
  user_id: slackString().min(1).max(64),
  command: slackString().startsWith('/').max(64),
  text: slackString().max(4000).default(''),
  response_url: slackString().max(2000).optional(),
})
export type SlackCommandInput = z.infer<typeof SlackCommandInput>

export interface SlackReply {
  /** The HTTP 200 body Slack shows (ephemeral). */
  message: SlackMessage
  /** Work to run after the reply is sent (a response_url POST); never throws. */
  later?: () => Promise<void>
}

export interface SlackRequestContext {
  log: Logger
  requestId: string
}

export function unmappedText(team: string, user: string, what: string): string {
  return `Your Slack account (${team}/${user}) is not mapped to a Warden identity, so Warden will not ${what}. An administrator can add you to the Slack user map (WARDEN_SLACK_USERS).`
}

export async function handleSlashCommand(deps: AppDeps & { slack: SlackDeps }, input: SlackCommandInput, rc: SlackRequestContext): Promise<SlackReply> {
  const text = input.text.trim()
  const [word = '', ...rest] = text.split(/\s+/)
  const sub = word.toLowerCase()
  const principal = deps.slack.users.lookup(input.team_id, input.user_id)
  const log = rc.log.child({ slack: `${input.team_id}/${input.user_id}`, identity: principal?.identity ?? null, sub })

  if (sub === '' || sub === 'help') return { message: usage(principal ? undefined : unmappedText(input.team_id, input.user_id, 'answer questions or show the approval queue for you')) }
  if (sub !== 'ask' && sub !== 'queue') return { message: usage(`Unknown subcommand "${word.slice(0, 40)}".`) }

  if (!principal) {
    log.warn('unmapped slack user refused')
    return { message: notice(unmappedText(input.team_id, input.user_id, sub === 'ask' ? 'answer questions' : 'show the approval queue')) }
  }
  if (!hasRole(principal, 'oncall')) return { message: notice(`${principal.identity} does not hold the oncall role, which ${sub === 'ask' ? 'asking' : 'reading the queue'} needs.`) }

  if (sub === 'queue') return { message: await queue(deps) }

  // Everything after `ask`, as typed (the original spacing, not the split words).
  const question = text.slice(word.length).trim()
  const parsed = AskInput.safeParse({ question })
  if (!parsed.success || rest.length === 0) return { message: usage('A question needs 3 to 2,000 characters: /warden ask <question>') }

  if (deps.llm && isSlackResponseUrl(input.response_url)) {
    const url = input.response_url
    return {
      message: notice('Working on it: the answer will follow here.'),
      later: async () => {
        let reply: SlackMessage
        try {
          reply = answerMessage(await ask(deps, parsed.data))
        } catch (err) {
          // The model path falls back by itself; this is the database or a bug. No error text goes to Slack.
          log.error({ err }, 'slack ask failed')
          reply = notice(`Warden could not answer this question (request ${rc.requestId}); the server log has the details.`)
        }
        await postToResponseUrl(deps.slack, url, reply, log)
      },
    }
  }
  return { message: answerMessage(await ask(deps, parsed.data)) }
}

async function queue(deps: AppDeps): Promise<SlackMessage> {
  const now = deps.clock?.() ?? new Date()
  // Past its deadline but not swept yet: it can no longer be approved, so it gets no buttons.
  const open = (await listProposals(deps.db, { status: 'proposed', limit: 500 })).filter((p) => Date.parse(p.expiresAt) > now.getTime())
  return queueMessage(open.slice(0, QUEUE_MAX), open.length)
}

