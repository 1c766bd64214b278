import type { Hono } from 'hono'
import { z } from 'zod'
import { listProposals, ProposalStatus } from '../../approvals/index.js'
import { validate } from '../validate.js'
import { page, who, type Ui, type UiEnv } from './context.js'
import { Layout, age } from './layout.js'
import { approvalCounts } from './queries.js'

// The approval queue: what waits for a human, newest first, filterable by status.

export const UiQueueQuery = z.object({
  /** Empty or `all` → every status; default `proposed` (what needs a decision). */
  status: z.union([ProposalStatus, z.literal('all')]).default('proposed'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
})

const STATUSES = ['all', ...ProposalStatus.options] as const

export function registerQueue(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/', async (c) => {
    const { principal, csrf } = who(c, ui)
    const q = validate(UiQueueQuery, { status: c.req.query('status') || undefined, limit: c.req.query('limit') || undefined })
    const proposals = await listProposals(ui.deps.db, { status: q.status === 'all' ? undefined : q.status, limit: q.limit })
    const counts = await approvalCounts(ui.deps.db, proposals.map((p) => p.id))
    const now = ui.now()
    return page(
      c,
      <Layout title="Approval queue" principal={principal} csrf={csrf}>
        <h1>Approval queue</h1>
        <form method="get" action="/ui">
          <label>
            status{' '}
            <select name="status">
              {STATUSES.map((s) => <option value={s} selected={s === q.status}>{s}</option>)}
            </select>
          </label>{' '}
          <button type="submit">Filter</button>
        </form>
        <p class="muted">{proposals.length} proposal(s){q.status === 'all' ? '' : ` with status ${q.status}`}. Warden never executes an action: an approved one is handed to an external executor.</p>
        {proposals.length === 0 ? (
          <p>Nothing here.</p>
        ) : (
          <table id="queue">
            <thead>
              <tr><th>proposal</th><th>status</th><th>action</th><th>service</th><th>risk</th><th>age</th><th>requester</th><th>approvals</th></tr>
            </thead>
            <tbody>
              {proposals.map((p) => (
                <tr data-proposal={p.id}>
                  <td><a href={`/ui/proposals/${encodeURIComponent(p.id)}`}>{p.id}</a></td>
                  <td><span class="status">{p.status}</span></td>
                  <td><code>{p.actionId}</code></td>
                  <td>{typeof p.params.service === 'string' ? p.params.service : '—'}</td>
                  <td>{p.risk}</td>
                  <td title={p.createdAt}>{age(p.createdAt, now)}</td>
                  <td>{p.requestedBy}{p.requesterKind === 'assistant' ? ' (assistant)' : ''}</td>
                  <td>{counts.get(p.id) ?? 0}/{p.approvalsRequired}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Layout>,
    )
  })
}
