import type { Hono } from 'hono'
import { ApiError } from '../errors.js'
import { handleSlashCommand, SlackCommandInput, type SlackReply } from '../slack/commands.js'
import { handleInteraction, SlackInteractionInput } from '../slack/interactions.js'
import { NO_SLACK_USERS } from '../slack/users.js'
import { readVerifiedForm } from '../slack/verify.js'
import type { SlackDeps } from '../slack/types.js'
import type { AppDeps, AppEnv } from '../types.js'
import { validate } from '../validate.js'

// Slack's two request URLs. They carry no bearer token (the /v1/* bearer middleware lets them through with no
// principal); the Slack signature is their authentication and the user map their authorisation. Verified
// requests always get 200 with a message Slack shows, including refusals; unverifiable ones get 401 and
// malformed ones 4xx, before anything is stored.

export { SlackCommandInput, SlackInteractionInput }

export function registerSlackRoutes(app: Hono<AppEnv>, deps: AppDeps): void {
  // No Slack config at all still mounts the routes: they refuse every request (no signing secret).
  const slack: SlackDeps = deps.slack ?? { users: NO_SLACK_USERS }
  const withSlack = { ...deps, slack }
  const now = () => deps.clock?.() ?? new Date()

  app.post('/v1/slack/commands', async (c) => {
    const form = await readVerifiedForm(c, deps.slack, now())
    const input = validate(SlackCommandInput, Object.fromEntries(form))
    const reply = await handleSlashCommand(withSlack, input, { log: c.get('logger'), requestId: c.get('requestId') })
    return c.json(runLater(reply, c.get('logger')))
  })

  app.post('/v1/slack/interactions', async (c) => {
    const form = await readVerifiedForm(c, deps.slack, now())
    let payload: unknown
    try {
      payload = JSON.parse(form.get('payload') ?? '')
    } catch {
      throw new ApiError('invalid_json', 'the payload field is not valid JSON')
    }
    const input = validate(SlackInteractionInput, payload)
    const reply = await handleInteraction(withSlack, input, { log: c.get('logger'), requestId: c.get('requestId') })
    return c.json(runLater(reply, c.get('logger')))
  })
}

/** Starts the follow-up after the reply is built; Slack gets its 200 without waiting for it. */
function runLater(reply: SlackReply, log: AppEnv['Variables']['logger']): SlackReply['message'] {
  if (reply.later) reply.later().catch((err: unknown) => log.error({ err }, 'slack follow-up failed'))
  return reply.message
}
