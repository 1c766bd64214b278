import type { Hono } from 'hono'
import { getAlert } from '../../alerts/receive.js'
import { getAssessmentForAlert } from '../../assistant/store.js'
import { ApiError } from '../errors.js'
import { page, who, type Ui, type UiEnv } from './context.js'
import { AssessmentView } from './components.js'
import { Layout } from './layout.js'
import { proposalsForAlert } from './queries.js'

// An alert as received (every field is untrusted text from the sender: rendered as escaped text, links shown
// but not made clickable) with the assistant's assessment and the proposals opened for it.

const Pairs = ({ rows }: { rows: Record<string, string> }) =>
  Object.keys(rows).length === 0 ? <p class="muted">none</p> : (
    <table>
      <tbody>{Object.entries(rows).map(([k, v]) => <tr><th><code>{k}</code></th><td>{v}</td></tr>)}</tbody>
    </table>
  )

export function registerAlert(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/alerts/:id', async (c) => {
    const { principal, csrf } = who(c, ui)
    const alert = await getAlert(ui.deps.db, c.req.param('id'))
    if (!alert) throw new ApiError('not_found', `no alert ${c.req.param('id')}`)
    const assessment = await getAssessmentForAlert(ui.deps.db, alert.id)
    const proposals = await proposalsForAlert(ui.deps.db, alert.id)
    return page(
      c,
      <Layout title={`Alert ${alert.name}`} principal={principal} csrf={csrf}>
        <h1>
          Alert {alert.name} <span class="status">{alert.status}</span>
        </h1>
        <p class="muted">
          {alert.id} · {alert.source} · fingerprint {alert.fingerprint} · severity {alert.severity ?? '—'} · starts {alert.startsAt ?? '—'} · received {alert.receivedAt} · {alert.deliveries} deliveries
        </p>
        <h2>Summary</h2>
        <p id="alert-summary">{alert.summary}</p>
        <h2>Description</h2>
        <pre id="alert-description">{alert.description}</pre>
        <h2>Labels</h2>
        <Pairs rows={alert.labels} />
        <h2>Annotations</h2>
        <Pairs rows={alert.annotations} />
        {alert.links.length ? (
          <>
            <h2>Links (from the sender, not followed)</h2>
            <ul>{alert.links.map((l) => <li><code>{l}</code></li>)}</ul>
          </>
        ) : null}
        <h2>Proposals</h2>
        {proposals.length ? (
          <ul>{proposals.map((p) => <li><a href={`/ui/proposals/${encodeURIComponent(p.id)}`}>{p.id}</a> <code>{p.actionId}</code> {p.status} — {p.requestedBy}</li>)}</ul>
        ) : <p class="muted">none</p>}
        <h2>Assessment</h2>
        {assessment ? <AssessmentView a={assessment} /> : <p class="muted">No assessment yet.</p>}
      </Layout>,
    )
  })
}
