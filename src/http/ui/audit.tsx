import type { Hono } from 'hono'
import { z } from 'zod'
import { verifyAudit } from '../../audit/verify.js'
import { validate } from '../validate.js'
import { page, who, type Ui, type UiEnv } from './context.js'
import { Layout } from './layout.js'
import { recentAudit } from './queries.js'

// The audit log, newest first, with the result of walking and recomputing the whole hash chain on every view
// (verifyAudit): a reviewer sees at a glance whether the record they are reading is intact.

export const UiAuditQuery = z.object({
  subject: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
})

const subjectHref = (subject: string): string | null => {
  const [type, id] = subject.split(':', 2)
  if (!id) return null
  if (type === 'proposal') return `/ui/proposals/${encodeURIComponent(id)}`
  if (type === 'alert') return `/ui/alerts/${encodeURIComponent(id)}`
  return null
}

export function registerAudit(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/audit', async (c) => {
    const { principal, csrf } = who(c, ui)
    const q = validate(UiAuditQuery, { subject: c.req.query('subject') || undefined, limit: c.req.query('limit') || undefined })
    const [rows, chain] = [await recentAudit(ui.deps.db, { subject: q.subject, limit: q.limit }), await verifyAudit(ui.deps.db)]
    return page(
      c,
      <Layout title="Audit" principal={principal} csrf={csrf}>
        <h1>Audit log</h1>
        {chain.ok ? (
          <p class="notice" id="chain" data-ok="true">Hash chain verified: {chain.rows} rows intact, tip <code>{chain.tip.slice(0, 16)}</code>.</p>
        ) : (
          <p class="error" id="chain" data-ok="false" role="alert">Hash chain BROKEN at seq {chain.firstBroken?.seq}: {chain.firstBroken?.reason}</p>
        )}
        <form method="get" action="/ui/audit">
          <label>subject <input type="text" name="subject" value={q.subject ?? ''} placeholder="proposal:pr_…" /></label>{' '}
          <button type="submit">Filter</button>
        </form>
        <table id="audit">
          <thead>
            <tr><th>seq</th><th>at</th><th>actor</th><th>action</th><th>subject</th><th>data</th></tr>
          </thead>
          <tbody>
            {rows.map((row) => {
              const href = subjectHref(row.subject)
              let data = ''
              try {
                data = JSON.stringify((JSON.parse(row.body) as { data?: unknown }).data ?? {})
              } catch {
                data = row.body
              }
              return (
                <tr data-seq={String(row.seq)} data-action={row.action} data-subject={row.subject}>
                  <td>{row.seq}</td>
                  <td>{row.at}</td>
                  <td>{row.actor}</td>
                  <td><code>{row.action}</code></td>
                  <td>{href ? <a href={href}>{row.subject}</a> : row.subject}</td>
                  <td><details><summary class="muted">{data.length} chars</summary><pre>{data}</pre></details></td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </Layout>,
    )
  })
}
