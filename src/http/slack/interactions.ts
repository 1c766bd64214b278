import { z } from 'zod'
import { approve } from '../../approvals/approve.js'
import { reject } from '../../approvals/reject.js'
import { hasRole, identityOf } from '../auth/roles.js'
import type { AppDeps } from '../types.js'
import { APPROVE_ACTION, notice, REJECT_ACTION } from './blocks.js'
import { slackString, unmappedText, type SlackReply, type SlackRequestContext } from './commands.js'
import { isSlackResponseUrl, postToResponseUrl } from './respond.js'
import type { SlackDeps, SlackMessage } from './types.js'

// Approve / Reject buttons (block_actions). The decider is the Slack user who pressed the button, mapped to a
// Warden identity; never anything inside the payload's message or button value, which only names the
// proposal. The approval queue does every check (policy roles, distinct approvers, no self-approval, expiry,
// preconditions re-evaluated now) and audits refusals; a refusal is shown to the user with its reason and
// changes nothing. Slack ignores the body of a block_actions acknowledgement, so the outcome is also POSTed
// to response_url; the 200 body carries the same message (useful to tests and logs).

/** The `payload` form field of an interaction (JSON). Only what we use is checked; Slack sends much more. */
export const SlackInteractionInput = z.object({
  type: slackString().min(1).max(64),
  user: z.object({ id: slackString().min(1).max(64), team_id: slackString().min(1).max(64).optional() }),
  team: z.object({ id: slackString().min(1).max(64) }).nullish(),
  actions: z.array(z.object({ action_id: slackString().min(1).max(255), value: slackString().max(2000).optional() })).max(20).optional(),
  response_url: slackString().max(2000).optional(),
})
export type SlackInteractionInput = z.infer<typeof SlackInteractionInput>

export async function handleInteraction(deps: AppDeps & { slack: SlackDeps }, input: SlackInteractionInput, rc: SlackRequestContext): Promise<SlackReply> {
  const message = await decide(deps, input, rc)
  const url = input.response_url
  return { message, later: isSlackResponseUrl(url) ? async () => void (await postToResponseUrl(deps.slack, url, message, rc.log)) : undefined }
}

async function decide(deps: AppDeps & { slack: SlackDeps }, input: SlackInteractionInput, rc: SlackRequestContext): Promise<SlackMessage> {
  if (input.type !== 'block_actions') return notice('Warden only handles its own Approve / Reject buttons.', { replaceOriginal: false })
  const action = input.actions?.[0]
  if (!action || (action.action_id !== APPROVE_ACTION && action.action_id !== REJECT_ACTION)) return notice('Warden does not know this button.', { replaceOriginal: false })
  const verb = action.action_id === APPROVE_ACTION ? 'approve' : 'reject'
  const proposalId = action.value ?? ''
  // Enterprise installs may send team: null; the user's own team id then says where they are.
  const team = input.team?.id ?? input.user.team_id ?? ''
  const principal = deps.slack.users.lookup(team, input.user.id)
  const log = rc.log.child({ slack: `${team}/${input.user.id}`, identity: principal?.identity ?? null, verb, proposalId })
  if (!principal) {
    log.warn('unmapped slack user refused')
    return notice(unmappedText(team, input.user.id, `${verb} proposals`), { replaceOriginal: false })
  }
  if (!hasRole(principal, 'reviewer')) return notice(`${principal.identity} does not hold the reviewer role, which deciding a proposal needs.`, { replaceOriginal: false })
  if (!proposalId) return notice('This button names no proposal.', { replaceOriginal: false })

  const reviewer = identityOf(principal)
  const reason = `via ${principal.via}`
  if (verb === 'approve') {
    const r = await approve(deps, { proposalId, reviewer, reason })
    if (!r.ok) {
      log.info({ code: r.code, reason: r.reason }, 'slack approval refused')
      return notice(`Not approved: ${r.message} (${r.reason}). Nothing was changed.`, { replaceOriginal: false })
    }
    const p = r.proposal
    return notice(
      r.approved
        ? `${reviewer.id} approved proposal ${p.id} (${p.actionId}). It is approved and queued for hand-off to the executor; Warden itself executes nothing.`
        : `${reviewer.id} approved proposal ${p.id} (${p.actionId}): ${r.approvals} of ${r.required} approvals; it stays proposed until ${r.required} distinct approvers agree.`,
      { replaceOriginal: false },
    )
  }
  const r = await reject(deps, { proposalId, reviewer, reason })
  if (!r.ok) {
    log.info({ code: r.code, reason: r.reason }, 'slack rejection refused')
    return notice(`Not rejected: ${r.message} (${r.reason}). Nothing was changed.`, { replaceOriginal: false })
  }
  return notice(`${reviewer.id} rejected proposal ${r.proposal.id} (${r.proposal.actionId}).`, { replaceOriginal: false })
}
