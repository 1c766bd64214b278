import type { Hono } from 'hono'
import { getAssessment } from '../../assistant/store.js'
import { ApiError } from '../errors.js'
import { page, who, type Ui, type UiEnv } from './context.js'
import { Layout } from './layout.js'

// A cited passage, exactly as it stood in the evidence pack the assistant was given (not the knowledge base's
// current text, which a later ingest may have changed). Untrusted passages are labelled as such.

export function registerEvidence(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/evidence/:assessmentId/:ref', async (c) => {
    const { principal, csrf } = who(c, ui)
    const a = await getAssessment(ui.deps.db, c.req.param('assessmentId'))
    const ref = c.req.param('ref')
    const item = a?.evidencePack.items.find((i) => i.ref === ref)
    if (!a || !item) throw new ApiError('not_found', `no evidence ${ref} in assessment ${c.req.param('assessmentId')}`)
    return page(
      c,
      <Layout title={`${item.ref} · ${a.id}`} principal={principal} csrf={csrf}>
        <h1>
          Evidence <span id="evidence-ref">{item.ref}</span>: {item.title}
        </h1>
        <table>
          <tbody>
            <tr><th>assessment</th><td>{a.alertId ? <a href={`/ui/alerts/${encodeURIComponent(a.alertId)}`}>{a.id}</a> : a.id}</td></tr>
            <tr><th>kind</th><td>{item.kind}{item.sourceKind ? ` (${item.sourceKind})` : ''}{item.trusted ? '' : ' · untrusted text, treated as data'}</td></tr>
            <tr><th>source</th><td><code id="evidence-source">{item.sourceUri ?? '—'}</code></td></tr>
            <tr><th>heading path</th><td id="evidence-heading">{item.headingPath.length ? item.headingPath.join(' › ') : '—'}</td></tr>
            <tr><th>content hash</th><td><code>{item.contentHash}</code>{item.chunkId !== null ? <span class="muted"> chunk {item.chunkId}</span> : null}</td></tr>
          </tbody>
        </table>
        <h2>Passage</h2>
        <pre id="passage">{item.text}</pre>
        {Object.keys(item.meta).length ? (
          <details>
            <summary>metadata</summary>
            <pre>{JSON.stringify(item.meta, null, 2)}</pre>
          </details>
        ) : null}
      </Layout>,
    )
  })
}
