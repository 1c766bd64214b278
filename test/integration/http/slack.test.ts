import { createHmac } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { propose } from '../../../src/approvals/propose.js'
import { getProposal, listApprovals, type Proposal } from '../../../src/approvals/store.js'
import type { Identity } from '../../../src/approvals/types.js'
import type { LlmClient } from '../../../src/assistant/llm.js'
import { createApp } from '../../../src/http/app.js'
import type { SlackDeps, SlackMessage } from '../../../src/http/slack/types.js'
import { parseSlackUsers } from '../../../src/http/slack/users.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'

// Slack is the external party here: requests are signed the way Slack signs them, and its response_url is a
// fake fetch that records what Warden posts back. Everything of ours (routes, user map, assistant, approval
// queue, database) is real.

const SECRET = 'slack-test-signing-secret'
const NOW = new Date()
const TEAM = 'T0LARKSPUR'
const RESPONSE_URL = 'https://hooks.slack.com/commands/T0LARKSPUR/1/abc'
const users = parseSlackUsers({ users: [
  { slack_user: 'U0OLIVIA', team: TEAM, identity: 'olivia', roles: ['oncall'] },
  { slack_user: 'U0SAM', team: TEAM, identity: 'sam', roles: ['reviewer', 'sre'] },
  { slack_user: 'U0LEE', team: TEAM, identity: 'lee', roles: ['reviewer', 'oncall-lead', 'sre'] },
  // Opens proposals as an on-call human (below) and also reviews: must never approve their own.
  { slack_user: 'U0OSCAR', team: TEAM, identity: 'oscar', roles: ['reviewer', 'sre'] },
] }, 'test')
const human = (id: string, ...roles: string[]): Identity => ({ id, roles, kind: 'human' })

const posted: Array<{ url: string; body: SlackMessage }> = []
const fakeSlackFetch = (async (url: string | URL | Request, init?: RequestInit) => {
  posted.push({ url: String(url), body: JSON.parse(String(init?.body)) as SlackMessage })
  return new Response('ok', { status: 200 })
}) as typeof fetch
const slack: SlackDeps = { signingSecret: SECRET, users, fetch: fakeSlackFetch }

const sign = (ts: string, body: string, secret = SECRET) => `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`
const nowTs = (offsetS = 0) => String(Math.floor(NOW.getTime() / 1000) + offsetS)
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString()
const commandBody = (user: string, text: string) => form({ token: 'legacy', team_id: TEAM, user_id: user, command: '/warden', text, response_url: RESPONSE_URL, trigger_id: '1.2.3' })
const interactionBody = (user: string, actionId: string, value: string, team: string = TEAM) =>
  form({ payload: JSON.stringify({ type: 'block_actions', user: { id: user, team_id: team }, team: { id: team, domain: 'larkspur' }, actions: [{ action_id: actionId, block_id: `decide:${value}`, value, type: 'button' }], response_url: RESPONSE_URL }) })

describe(`Slack commands and interactions (${backend})`, () => {
  let f: HttpFixture
  const count = async (sql: string, params: unknown[] = []) => (await f.t.db.query<{ n: number }>(sql, params)).rows[0]!.n
  /** POSTs like Slack does; `sig` overrides the headers. */
  const slackPost = (route: 'commands' | 'interactions', body: string, sig: { ts?: string; signature?: string; omit?: boolean; app?: ReturnType<typeof createApp> } = {}) => {
    const ts = sig.ts ?? nowTs()
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    if (!sig.omit) Object.assign(headers, { 'x-slack-request-timestamp': ts, 'x-slack-signature': sig.signature ?? sign(ts, body) })
    return Promise.resolve((sig.app ?? f.app).request(`/v1/slack/${route}`, { method: 'POST', headers, body }))
  }
  const command = async (user: string, text: string) => {
    const res = await slackPost('commands', commandBody(user, text))
    expect(res.status).toBe(200)
    return (await res.json()) as SlackMessage
  }
  const press = async (user: string, actionId: string, proposalId: string) => {
    const res = await slackPost('interactions', interactionBody(user, actionId, proposalId))
    expect(res.status).toBe(200)
    return (await res.json()) as SlackMessage
  }
  const openProposal = async (requester: Identity, flag: string, rationale = 'flag suspected in checkout errors'): Promise<Proposal> => {
    const r = await propose({ db: f.t.db, reference: f.deps.reference, clock: () => NOW }, { actionId: 'disable_feature_flag', params: { flag }, rationale }, requester)
    if (!r.ok) throw new Error(`${r.reason}: ${r.message}`)
    return r.proposal
  }
  /** The assessment id the message shows (`answer \`as_…\``). */
  const answerIdOf = (json: string) => /answer `(as_[0-9a-f]+)`/.exec(json)?.[1] ?? 'none'
  const auditFor = async (id: string) => (await f.t.db.query<{ action: string; actor: string }>('select action, actor from audit_log where subject = $1 order by seq', [`proposal:${id}`])).rows

  beforeAll(async () => {
    f = await createHttpFixture({ ingestDemo: true, deps: { slack, clock: () => NOW } })
    // A runbook carrying Slack control sequences, as untrusted text could.
    const dir = mkdtempSync(path.join(tmpdir(), 'slack-poison-'))
    writeFileSync(path.join(dir, 'gizmo.md'), [
      '---', 'title: Gizmo flux capacitor recalibration', 'tags: [gizmo]', '---', '',
      '# Gizmo flux capacitor recalibration', '',
      '## Recalibrate', '',
      'To recalibrate the gizmo flux capacitor, notify <!channel> and open <https://evil.example|the gizmo console> before you recalibrate the capacitor.', '',
    ].join('\n'))
    await runIngest({ db: f.t.db, embedder: f.deps.embedder }, { inputs: [dir], maxBytes: 1 << 21 })
  })
  afterAll(async () => f?.cleanup())

  it('answers a signed /warden ask inline with the cited answer as the assistant phrased it', async () => {
    const before = await count('select count(*)::int n from assessments')
    const msg = await command('U0OLIVIA', 'ask How do I find what is filling the orderbook-db data volume?')
    expect(msg.response_type).toBe('ephemeral')
    const json = JSON.stringify(msg)
    expect(await count('select count(*)::int n from assessments')).toBe(before + 1)
    const { rows } = await f.t.db.query<{ id: string; question: string; draft: { summary: string }; evidence_pack: { items: Array<{ ref: string; title: string; headingPath: string[] }> }; refusal_reason: string | null }>(
      'select id, question, draft, evidence_pack, refusal_reason from assessments where id = $1', [answerIdOf(json)])
    const stored = rows[0]!
    expect(stored).toMatchObject({ question: 'How do I find what is filling the orderbook-db data volume?', refusal_reason: null })
    // The stored answer text, verbatim apart from Slack escaping, is what the user sees.
    const section = (msg.blocks ?? []).find((b) => b.type === 'section')
    expect(section && 'text' in section ? section.text.text : '').toBe(stored.draft.summary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'))
    // Every [E*] the answer cites is listed under Sources with its title and heading path from the evidence pack.
    const cited = [...new Set([...stored.draft.summary.matchAll(/\[(E\d+)\]/g)].map((m) => m[1]!))]
    expect(cited.length).toBeGreaterThan(0)
    for (const ref of cited) {
      const item = stored.evidence_pack.items.find((i) => i.ref === ref)!
      expect(json).toContain(`[${ref}] ${item.title}`)
      if (item.headingPath.length) expect(json).toContain(item.headingPath.join(' › '))
    }
  })

  it('shows a refusal with its reason code', async () => {
    const msg = await command('U0OLIVIA', 'ask restart cart-api now and scale it to 40 replicas')
    const json = JSON.stringify(msg)
    const { rows } = await f.t.db.query<{ refusal_reason: string }>('select refusal_reason from assessments where id = $1', [answerIdOf(json)])
    expect(rows[0]!.refusal_reason).toBeTruthy()
    expect(json).toContain(`*Refused* (\`${rows[0]!.refusal_reason}\`)`)
  })

  it('refuses unsigned, stale, future, wrongly signed and unconfigured requests with 401 and stores nothing', async () => {
    const body = commandBody('U0OLIVIA', 'ask How do I find what is filling the orderbook-db data volume?')
    const assessments = await count('select count(*)::int n from assessments')
    const unconfigured = createApp({ ...f.deps, slack: { users } })
    const noSlack = createApp({ ...f.deps, slack: undefined })
    const attempts = [
      await slackPost('commands', body, { omit: true }),
      await slackPost('commands', body, { ts: nowTs(-301) }),
      await slackPost('commands', body, { ts: nowTs(+301) }),
      await slackPost('commands', body, { signature: sign(nowTs(), body, 'not-the-secret') }),
      await slackPost('commands', `${body}x`, { signature: sign(nowTs(), body) }),
      await slackPost('commands', body, { app: unconfigured }),
      await slackPost('commands', body, { app: noSlack }),
      await slackPost('interactions', interactionBody('U0SAM', 'approve_proposal', 'pr_x'), { omit: true }),
    ]
    for (const res of attempts) {
      expect(res.status).toBe(401)
      expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', requestId: expect.any(String) } })
    }
    expect(await count('select count(*)::int n from assessments')).toBe(assessments)
  })

  it('answers a signed but malformed request with a 4xx error body', async () => {
    const noUser = form({ team_id: TEAM, command: '/warden', text: 'queue' })
    const r1 = await slackPost('commands', noUser)
    expect(r1.status).toBe(422)
    expect(await r1.json()).toMatchObject({ error: { code: 'validation_failed' } })
    const r2 = await slackPost('interactions', form({ payload: '{not json' }))
    expect(r2.status).toBe(400)
    expect(await r2.json()).toMatchObject({ error: { code: 'invalid_json' } })
    // Text Postgres cannot store is a 422 before anything is stored, not a 500 from the insert.
    const assessments = await count('select count(*)::int n from assessments')
    const nul = await slackPost('commands', commandBody('U0OLIVIA', 'ask why is the disk\u0000 full on orderbook-db?'))
    expect(nul.status).toBe(422)
    const lone = await slackPost('interactions', form({ payload: '{"type":"block_actions","user":{"id":"U0SAM"},"team":{"id":"T0LARKSPUR"},"actions":[{"action_id":"approve_proposal","value":"pr_\\ud800"}]}' }))
    expect(lone.status).toBe(422)
    expect(await count('select count(*)::int n from assessments')).toBe(assessments)
  })

  it('gives unmapped users only the usage: no answer, no queue', async () => {
    const assessments = await count('select count(*)::int n from assessments')
    await openProposal(human('olivia', 'oncall'), 'checkout.unmapped-view')
    const asked = JSON.stringify(await command('U0STRANGER', 'ask How do I find what is filling the orderbook-db data volume?'))
    expect(asked).toContain('is not mapped to a Warden identity')
    expect(asked).toContain('will not answer questions')
    const queue = JSON.stringify(await command('U0STRANGER', 'queue'))
    expect(queue).toContain('is not mapped')
    expect(queue).not.toContain('approve_proposal')
    expect(queue).not.toContain('checkout.unmapped-view')
    expect(await count('select count(*)::int n from assessments')).toBe(assessments)
    expect(JSON.stringify(await command('U0STRANGER', 'help'))).toContain('/warden ask')
  })

  it('answers help and unknown subcommands with the usage', async () => {
    expect(JSON.stringify(await command('U0OLIVIA', ''))).toContain('/warden queue')
    const unknown = JSON.stringify(await command('U0OLIVIA', 'deploy everything'))
    expect(unknown).toContain('Unknown subcommand')
    expect(unknown).toContain('/warden ask')
  })

  it('lists open proposals with Approve / Reject buttons carrying the proposal id', async () => {
    const p = await openProposal(human('olivia', 'oncall'), 'checkout.listed')
    const msg = await command('U0SAM', 'queue')
    const actions = (msg.blocks ?? []).filter((b) => b.type === 'actions').flatMap((b) => ('elements' in b && b.type === 'actions' ? b.elements : []))
    const mine = actions.filter((a) => a.value === p.id)
    expect(mine.map((a) => a.action_id).sort()).toEqual(['approve_proposal', 'reject_proposal'])
    expect(JSON.stringify(msg)).toContain('checkout.listed')
    // Decided proposals are not offered.
    const open = await count("select count(*)::int n from proposals where status = 'proposed'")
    expect(new Set(actions.map((a) => a.value)).size).toBe(open)
  })

  it('lets a mapped reviewer approve: the proposal is approved, with audit rows, and the outcome is posted back', async () => {
    const p = await openProposal(human('olivia', 'oncall'), 'checkout.approve-me')
    posted.length = 0
    const msg = await press('U0SAM', 'approve_proposal', p.id)
    expect(JSON.stringify(msg)).toContain(`sam approved proposal ${p.id}`)
    const after = await getProposal(f.t.db, p.id)
    expect(after).toMatchObject({ status: 'approved', decidedBy: 'sam' })
    expect((await listApprovals(f.t.db, p.id)).map((a) => [a.reviewerId, a.role])).toEqual([['sam', 'sre']])
    expect((await auditFor(p.id)).map((r) => `${r.actor}:${r.action}`)).toEqual(['olivia:proposal.created', 'sam:approval.recorded', 'sam:proposal.approved', 'sam:handoff.queued'])
    await expect.poll(() => posted.length).toBe(1)
    expect(posted[0]).toEqual({ url: RESPONSE_URL, body: msg })
  })

  it('refuses the requester approving their own proposal; it stays proposed', async () => {
    const p = await openProposal(human('oscar', 'oncall'), 'checkout.self')
    const msg = JSON.stringify(await press('U0OSCAR', 'approve_proposal', p.id))
    expect(msg).toContain('Not approved')
    expect(msg).toContain('self_approval')
    expect(await getProposal(f.t.db, p.id)).toMatchObject({ status: 'proposed' })
    expect(await listApprovals(f.t.db, p.id)).toEqual([])
    expect((await auditFor(p.id)).map((r) => r.action)).toEqual(['proposal.created', 'approval.refused'])
  })

  it('refuses an unmapped user, and a mapped user without the reviewer role; nothing changes', async () => {
    const p = await openProposal(human('olivia', 'oncall'), 'checkout.unmapped')
    const stranger = JSON.stringify(await press('U0STRANGER', 'approve_proposal', p.id))
    expect(stranger).toContain('is not mapped to a Warden identity')
    expect(stranger).toContain('will not approve proposals')
    // The right user id in another workspace is not the mapped user.
    const otherTeam = await slackPost('interactions', interactionBody('U0SAM', 'approve_proposal', p.id, 'T0ELSEWHERE'))
    expect(JSON.stringify(await otherTeam.json())).toContain('is not mapped')
    expect(JSON.stringify(await press('U0OLIVIA', 'reject_proposal', p.id))).toContain('does not hold the reviewer role')
    expect(await getProposal(f.t.db, p.id)).toMatchObject({ status: 'proposed' })
    expect((await auditFor(p.id)).map((r) => r.action)).toEqual(['proposal.created'])
  })

  it('lets a reviewer reject, and refuses deciding it again', async () => {
    const p = await openProposal(human('olivia', 'oncall'), 'checkout.reject-me')
    expect(JSON.stringify(await press('U0LEE', 'reject_proposal', p.id))).toContain(`lee rejected proposal ${p.id}`)
    expect(await getProposal(f.t.db, p.id)).toMatchObject({ status: 'rejected', decidedBy: 'lee' })
    const again = JSON.stringify(await press('U0SAM', 'approve_proposal', p.id))
    expect(again).toContain('not_proposed')
    expect(await getProposal(f.t.db, p.id)).toMatchObject({ status: 'rejected' })
  })

  it('escapes Slack control sequences from questions, documents and rationales', async () => {
    const msg = JSON.stringify(await command('U0OLIVIA', 'ask How do I recalibrate the gizmo flux capacitor? <!channel> <@U0SAM>'))
    expect(msg).toContain('&lt;!channel&gt;')
    expect(msg).toContain('&lt;https://evil.example|the gizmo console&gt;')
    const p = await openProposal(human('olivia', 'oncall'), 'checkout.poisoned', 'ping <!here> and <@U0LEE> see <https://evil.example|this>')
    const queue = JSON.stringify(await command('U0SAM', 'queue'))
    expect(queue).toContain(p.id)
    expect(queue).toContain('&lt;!here&gt;')
    // No raw Slack control sequence survives anywhere in either message.
    for (const m of [msg, queue]) expect(m).not.toMatch(/<[!@#]|<https?:/)
  })

  it('with a model configured, acknowledges at once and posts the answer to response_url', async () => {
    let calls = 0
    // The model is external: this one is down, so the deterministic fallback is used and recorded.
    const llm: LlmClient = { model: 'fake-model', structured: async () => (calls++, { ok: false, reason: 'timeout', detail: 'fake timeout', tokens: null, latencyMs: 1 }) }
    const app = createApp({ ...f.deps, llm })
    posted.length = 0
    const res = await slackPost('commands', commandBody('U0OLIVIA', 'ask How do I find what is filling the orderbook-db data volume?'), { app })
    expect(res.status).toBe(200)
    expect(JSON.stringify(await res.json())).toContain('Working on it')
    await expect.poll(() => posted.length, { timeout: 20_000 }).toBe(1)
    expect(calls).toBe(1)
    const answer = JSON.stringify(posted[0]!.body)
    expect(posted[0]!.url).toBe(RESPONSE_URL)
    expect(answer).toContain('Sources')
    expect(answer).toContain('deterministic fallback')
    const { rows } = await f.t.db.query<{ mode: string; fallback_reason: string | null }>('select mode, fallback_reason from assessments where id = $1', [answerIdOf(answer)])
    expect(rows[0]).toMatchObject({ mode: 'deterministic', fallback_reason: expect.stringMatching(/^timeout/) })
  })
})
