import type { Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { approve, checkPreconditions, getProposal, listApprovals, reject, REFUSAL_HTTP_STATUS, type Refusal } from '../../approvals/index.js'
import { getAssessment } from '../../assistant/store.js'
import { hasRole, identityOf } from '../auth/roles.js'
import { ApiError } from '../errors.js'
import { field, page, who, type Ui, type UiContext, type UiEnv } from './context.js'
import { AssessmentView, Cites, Preconditions } from './components.js'
import { requireUiRole } from './guard.js'
import { CsrfField, Layout } from './layout.js'

// One proposal: what would be done, under which policy, whether its preconditions hold NOW (evaluated again
// on every view against the latest telemetry, as approve() will), the assessment behind it with its cited
// evidence, and the approve / reject forms. Decisions go through the approval domain, which checks approver
// roles, self-approval and preconditions; its refusals are shown as they are, with their reason code.

export const UiDecisionInput = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) })

const NOTICES = { approved: 'Approved. The hand-off to the external executor is queued.', approval_recorded: 'Your approval is recorded; more approvers are needed.', rejected: 'Rejected.' } as const
type Notice = keyof typeof NOTICES

interface Shown { notice?: Notice; error?: { reason: string; message: string } }

async function renderProposal(c: UiContext, ui: Ui, id: string, shown: Shown, status: ContentfulStatusCode = 200) {
  const { principal, csrf } = who(c, ui)
  const p = await getProposal(ui.deps.db, id)
  if (!p) throw new ApiError('not_found', `no proposal ${id}`)
  const { policy, catalog } = ui.deps.reference
  const action = policy.action(p.actionId)
  const assessment = p.assessmentId ? await getAssessment(ui.deps.db, p.assessmentId) : null
  const current = action ? await checkPreconditions(ui.deps.db, { names: p.preconditions, action, params: p.params, catalog, evidence: assessment?.evidencePack ?? null, now: ui.now() }) : null
  const approvals = await listApprovals(ui.deps.db, p.id)
  const canDecide = p.status === 'proposed' && hasRole(principal, 'reviewer')
  const decideUrl = (verb: string) => `/ui/proposals/${encodeURIComponent(p.id)}/${verb}`
  return page(
    c,
    <Layout title={`Proposal ${p.id}`} principal={principal} csrf={csrf}>
      <h1>
        <code>{p.actionId}</code> <span class="status" id="proposal-status">{p.status}</span>
      </h1>
      {shown.notice ? <p class="notice" role="status">{NOTICES[shown.notice]}</p> : null}
      {shown.error ? <p class="error" role="alert" data-refusal={shown.error.reason}>Refused (<code>{shown.error.reason}</code>): {shown.error.message}</p> : null}
      <table>
        <tbody>
          <tr><th>proposal</th><td>{p.id}</td></tr>
          <tr><th>action</th><td><code>{p.actionId}</code> {action ? <span class="muted">{action.description}</span> : <span class="fail">not in the policy in force</span>}</td></tr>
          <tr><th>params</th><td>{Object.entries(p.params).map(([k, v]) => <div><code>{k}</code> = <code>{typeof v === 'string' ? v : JSON.stringify(v)}</code></div>)}</td></tr>
          <tr><th>risk</th><td>{p.risk}</td></tr>
          <tr><th>policy</th><td>v{p.policyVersion} <span class="muted">{p.policySha256.slice(0, 12)}</span>{p.policySha256 === policy.sha256 ? '' : <span class="fail"> (not the policy in force: v{policy.version})</span>}</td></tr>
          <tr><th>approvals</th><td>{approvals.length}/{p.approvalsRequired} from roles {p.approverRoles.join(', ')}{p.forbidSelfApproval ? '; the requester may not approve' : ''}</td></tr>
          <tr><th>requested by</th><td>{p.requestedBy} ({p.requesterKind}) at {p.createdAt}</td></tr>
          <tr><th>expires</th><td>{p.expiresAt}</td></tr>
          {p.decidedBy ? <tr><th>decided</th><td>{p.decidedBy} at {p.decidedAt}{p.decisionReason ? `: ${p.decisionReason}` : ''}</td></tr> : null}
          {p.alertId ? <tr><th>alert</th><td><a href={`/ui/alerts/${encodeURIComponent(p.alertId)}`}>{p.alertId}</a></td></tr> : null}
        </tbody>
      </table>
      <h2>Rationale</h2>
      <p>{p.rationale}<Cites assessmentId={p.assessmentId} refs={p.citations} /></p>
      <h2>Preconditions</h2>
      <Preconditions now={current} atProposal={p.preconditionResults} />
      {approvals.length ? (
        <>
          <h2>Approvals</h2>
          <ul>{approvals.map((a) => <li>{a.reviewerId} as {a.role} at {a.createdAt}{a.reason ? `: ${a.reason}` : ''}</li>)}</ul>
        </>
      ) : null}
      {canDecide ? (
        <>
          <h2>Decide</h2>
          <form class="decide" method="post" action={decideUrl('approve')}>
            <CsrfField token={csrf} />
            <label>Reason for approving<textarea name="reason" required maxlength={2000} /></label>
            <button type="submit" name="decision" value="approve">Approve</button>
          </form>
          <form class="decide" method="post" action={decideUrl('reject')}>
            <CsrfField token={csrf} />
            <label>Reason for rejecting<textarea name="reason" required maxlength={2000} /></label>
            <button type="submit" name="decision" value="reject">Reject</button>
          </form>
        </>
      ) : p.status === 'proposed' ? <p class="muted">Deciding needs the reviewer role.</p> : null}
      <p><a href={`/ui/audit?subject=${encodeURIComponent(`proposal:${p.id}`)}`}>Audit trail of this proposal</a></p>
      {assessment ? (
        <>
          <h2>Assessment</h2>
          <AssessmentView a={assessment} />
        </>
      ) : p.assessmentId ? <p class="fail">Assessment {p.assessmentId} not found.</p> : null}
    </Layout>,
    status,
  )
}

export function registerProposal(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/proposals/:id', (c) => {
    const done = c.req.query('done')
    return renderProposal(c, ui, c.req.param('id'), { notice: done && done in NOTICES ? (done as Notice) : undefined })
  })

  const refused = (c: UiContext, id: string, r: Refusal) => renderProposal(c, ui, id, { error: { reason: r.reason, message: r.message } }, REFUSAL_HTTP_STATUS[r.code] as ContentfulStatusCode)

  for (const verb of ['approve', 'reject'] as const) {
    r.post(`/proposals/:id/${verb}`, async (c) => {
      const id = c.req.param('id')
      const forbidden = requireUiRole(c, ui, 'reviewer')
      if (forbidden) return forbidden
      const input = UiDecisionInput.safeParse({ reason: field(c.get('form'), 'reason') })
      if (!input.success) return renderProposal(c, ui, id, { error: { reason: 'invalid_input', message: input.error.issues.map((i) => i.message).join('; ') } }, 422)
      const reviewer = identityOf(c.get('principal')!)
      const deps = { db: ui.deps.db, reference: ui.deps.reference, clock: ui.deps.clock }
      if (verb === 'approve') {
        const res = await approve(deps, { proposalId: id, reviewer, reason: input.data.reason })
        if (!res.ok) return refused(c, id, res)
        return c.redirect(`/ui/proposals/${encodeURIComponent(id)}?done=${res.approved ? 'approved' : 'approval_recorded'}`, 303)
      }
      const res = await reject(deps, { proposalId: id, reviewer, reason: input.data.reason })
      if (!res.ok) return refused(c, id, res)
      return c.redirect(`/ui/proposals/${encodeURIComponent(id)}?done=rejected`, 303)
    })
  }
}
