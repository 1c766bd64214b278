import type { Answer } from '../../assistant/ask.js'
import type { Proposal } from '../../approvals/store.js'
import type { SlackBlock, SlackButton, SlackMessage } from './types.js'

// Block Kit rendering. Everything shown in mrkdwn goes through `esc`: answers quote runbook and alert text,
// which is untrusted, and in Slack mrkdwn `<!channel>`, `<@U123>` or `<https://x|click>` are control
// sequences. Escaping `&`, `<`, `>` (Slack's documented set) makes them inert text; we never set
// `link_names` or `parse: full`, so bare `@channel` is not turned into a mention either.

export const APPROVE_ACTION = 'approve_proposal'
export const REJECT_ACTION = 'reject_proposal'

/** Slack mrkdwn escaping of untrusted text. */
export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** Section text is limited to 3,000 characters; cut on the raw text, then escape. */
const SECTION_MAX = 2900
const clip = (s: string, max = SECTION_MAX): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s)
const section = (mrkdwn: string, blockId?: string): SlackBlock => ({ type: 'section', ...(blockId ? { block_id: blockId } : {}), text: { type: 'mrkdwn', text: mrkdwn } })
const context = (mrkdwn: string): SlackBlock => ({ type: 'context', elements: [{ type: 'mrkdwn', text: mrkdwn }] })

/** A plain ephemeral notice; `text` is untrusted-safe (escaped here). */
export function notice(text: string, opts: { replaceOriginal?: boolean } = {}): SlackMessage {
  const t = esc(clip(text))
  return { response_type: 'ephemeral', ...(opts.replaceOriginal === undefined ? {} : { replace_original: opts.replaceOriginal }), text: t, blocks: [section(t)] }
}

export const USAGE = [
  '/warden ask <question>   answer from the runbooks and past incidents, with citations',
  '/warden queue            proposals waiting for approval, with Approve / Reject buttons',
  '/warden help             this text',
].join('\n')

export function usage(prefix?: string): SlackMessage {
  const body = `${prefix ? `${esc(prefix)}\n` : ''}\`\`\`${esc(USAGE)}\`\`\``
  return { response_type: 'ephemeral', text: esc(prefix ?? 'Warden usage'), blocks: [section(body)] }
}

/** The assistant's answer as it phrased it, its citations (title and heading path), or its refusal with the reason code. */
export function answerMessage(a: Answer): SlackMessage {
  const blocks: SlackBlock[] = []
  if (a.refused) {
    blocks.push(section(`*Refused* (\`${esc(a.refused)}\`)\n${esc(clip(a.text))}`))
  } else {
    blocks.push(section(esc(clip(a.text))))
    if (a.citations.length) {
      const lines = a.citations.map((ct) => `[${esc(ct.ref)}] ${esc(ct.title)}${ct.headingPath.length ? ` › ${esc(ct.headingPath.join(' › '))}` : ''}`)
      blocks.push(section(`*Sources*\n${clip(lines.join('\n'))}`))
    }
  }
  const notes = [`answer \`${esc(a.id)}\``, `mode ${esc(a.provenance.mode)}`]
  if (a.provenance.fallbackReason) notes.push('model unavailable: deterministic fallback')
  if (a.injectionFlagged) notes.push(':warning: instructions found in the evidence were flagged and ignored')
  blocks.push(context(notes.join(' · ')))
  return { response_type: 'ephemeral', text: esc(clip(a.refused ? `Refused (${a.refused})` : a.text, 300)), blocks }
}

function button(actionId: string, label: string, p: Proposal, style: 'primary' | 'danger', verb: string): SlackButton {
  return {
    type: 'button', action_id: actionId, value: p.id, style, text: { type: 'plain_text', text: label },
    // A mis-click must not decide a proposal; Slack asks first.
    confirm: {
      title: { type: 'plain_text', text: `${label} ${p.actionId}?`.slice(0, 100) },
      text: { type: 'mrkdwn', text: esc(`${verb} proposal ${p.id}: ${p.actionId} ${JSON.stringify(p.params)}`.slice(0, 300)) },
      confirm: { type: 'plain_text', text: label },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  }
}

/** Open proposals, each with its Approve / Reject buttons (value = proposal id). Slack allows 50 blocks. */
export function queueMessage(proposals: Proposal[], total: number): SlackMessage {
  if (proposals.length === 0) return notice('No proposals are waiting for approval.')
  const blocks: SlackBlock[] = [section(`*${total} proposal${total === 1 ? '' : 's'} waiting for approval*${total > proposals.length ? ` (showing ${proposals.length})` : ''}`)]
  for (const p of proposals) {
    blocks.push({ type: 'divider' })
    blocks.push(section(
      `*${esc(p.actionId)}* \`${esc(JSON.stringify(p.params))}\` · risk ${esc(p.risk)} · needs ${p.approvalsRequired} of ${esc(p.approverRoles.join('/'))}\n` +
        `requested by ${esc(p.requestedBy)} · expires ${esc(p.expiresAt)}\n>${esc(clip(p.rationale, 500)).replace(/\n/g, '\n>')}`,
      `proposal:${p.id}`,
    ))
    blocks.push({ type: 'actions', block_id: `decide:${p.id}`, elements: [button(APPROVE_ACTION, 'Approve', p, 'primary', 'Approve'), button(REJECT_ACTION, 'Reject', p, 'danger', 'Reject')] })
  }
  return { response_type: 'ephemeral', text: `${total} proposal(s) waiting for approval`, blocks }
}

/** Room for a header plus three blocks per proposal within Slack's 50-block limit. */
export const QUEUE_MAX = 16
