import type { FC } from 'hono/jsx'
import type { Assessment } from '../../assistant/store.js'
import type { PreconditionResult } from '../../approvals/preconditions.js'

// Pieces shared by the proposal, alert and chat pages. Every citation is a link to the passage in the stored
// evidence pack (invariant 3 made visible): a reviewer can check what the assistant actually read.

export const evidenceHref = (assessmentId: string, ref: string) => `/ui/evidence/${encodeURIComponent(assessmentId)}/${encodeURIComponent(ref)}`

export const Cites: FC<{ assessmentId: string | null; refs: readonly string[] }> = ({ assessmentId, refs }) =>
  refs.length === 0 ? null : (
    <span class="cite">
      [
      {refs.map((ref, i) => (
        <>
          {i > 0 ? ', ' : ''}
          {assessmentId ? <a href={evidenceHref(assessmentId, ref)}>{ref}</a> : <span>{ref}</span>}
        </>
      ))}
      ]
    </span>
  )

export const Preconditions: FC<{ now: readonly PreconditionResult[] | null; atProposal: readonly PreconditionResult[] }> = ({ now, atProposal }) => {
  const then = new Map(atProposal.map((r) => [r.name, r]))
  const names = [...new Set([...(now ?? []).map((r) => r.name), ...atProposal.map((r) => r.name)])]
  if (names.length === 0) return <p class="muted">This action has no preconditions.</p>
  return (
    <table>
      <thead>
        <tr><th>precondition</th><th>now</th><th>when proposed</th></tr>
      </thead>
      <tbody>
        {names.map((name) => {
          const cur = now?.find((r) => r.name === name)
          const old = then.get(name)
          return (
            <tr data-precondition={name}>
              <td><code>{name}</code></td>
              <td>{cur ? <><span class={cur.ok ? 'ok' : 'fail'}>{cur.ok ? 'holds' : 'FAILS'}</span> {cur.detail}</> : <span class="muted">not evaluated</span>}</td>
              <td>{old ? <><span class={old.ok ? 'ok' : 'fail'}>{old.ok ? 'held' : 'failed'}</span> <span class="muted">{old.detail}</span></> : '—'}</td>
            </tr>
          )
        })}
      </tbody>
    </table>
  )
}

/** The assistant's draft: summary, possible causes, next steps, similar incidents, suggested actions. */
export const AssessmentView: FC<{ a: Assessment }> = ({ a }) => {
  const d = a.draft
  return (
    <section data-assessment={a.id}>
      <p>
        <span class="status">{a.outcome}</span>
        {a.refusalReason ? <> refused: <code>{a.refusalReason}</code></> : null}{' '}
        <span class="muted">
          assessment {a.id} · {a.provenance.mode} ({a.provenance.model}, prompt {a.provenance.promptId}@{a.provenance.promptVersion})
          {a.provenance.fallbackReason ? ` · fallback: ${a.provenance.fallbackReason}` : ''}
          {a.confidence !== null ? ` · confidence ${a.confidence.toFixed(2)}` : ''}
        </span>
      </p>
      {a.injectionFlagged ? <p class="warn">Instructions were detected inside untrusted text (alert or documents). They were treated as data.</p> : null}
      {a.classification ? (
        <p class="muted">
          service {a.classification.service ?? 'unknown'} · team {a.classification.team} · {a.classification.failureClass} · {a.classification.severity}
        </p>
      ) : null}
      <pre>{d.summary}</pre>
      <h2>Possible causes</h2>
      {d.causes.length ? <ul>{d.causes.map((x) => <li>{x.text}<Cites assessmentId={a.id} refs={x.citations} /></li>)}</ul> : <p class="muted">none drafted</p>}
      <h2>Next steps</h2>
      {d.steps.length ? <ol>{d.steps.map((x) => <li>{x.text}<Cites assessmentId={a.id} refs={x.citations} /></li>)}</ol> : <p class="muted">none drafted</p>}
      {d.similarIncidents.length ? (
        <>
          <h2>Similar past incidents</h2>
          <ul>{d.similarIncidents.map((x) => <li><strong>{x.incidentId}</strong> {x.title} — {x.mitigation}<Cites assessmentId={a.id} refs={x.citations} /></li>)}</ul>
        </>
      ) : null}
      {d.actions.length ? (
        <>
          <h2>Suggested actions (proposals only)</h2>
          <ul>{d.actions.map((x) => <li><code>{x.actionId}</code> <code>{JSON.stringify(x.params)}</code> — {x.rationale}<Cites assessmentId={a.id} refs={x.citations} /></li>)}</ul>
        </>
      ) : null}
      {a.interventions.length ? (
        <details>
          <summary>{a.interventions.length} guard intervention(s)</summary>
          <ul>{a.interventions.map((i) => <li><code>{i.type}</code> at {i.where}: {i.detail}</li>)}</ul>
        </details>
      ) : null}
    </section>
  )
}
