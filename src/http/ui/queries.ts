import type { Queryable } from '../../db/types.js'

// Read-only SQL the pages need beyond the domain verbs' own readers. Nothing here writes.

/** Approvals recorded so far, per proposal id (absent → 0). One query for the whole queue page. */
export async function approvalCounts(q: Queryable, proposalIds: readonly string[]): Promise<Map<string, number>> {
  if (proposalIds.length === 0) return new Map()
  const { rows } = await q.query<{ proposal_id: string; n: number }>(
    'select proposal_id, count(*)::int as n from approvals where proposal_id = any($1::text[]) group by proposal_id',
    [proposalIds],
  )
  return new Map(rows.map((r) => [r.proposal_id, Number(r.n)]))
}

export interface AuditListRow {
  seq: number
  at: string
  actor: string
  action: string
  subject: string
  body: string
}

/** Newest first, optionally one subject's rows (`proposal:pr_…`). */
export async function recentAudit(q: Queryable, opts: { subject?: string; limit: number }): Promise<AuditListRow[]> {
  const { rows } = await q.query<AuditListRow & { at: string | Date }>(
    'select seq, at, actor, action, subject, body from audit_log where ($1::text is null or subject = $1) order by seq desc limit $2',
    [opts.subject ?? null, opts.limit],
  )
  return rows.map((r) => ({ ...r, seq: Number(r.seq), at: new Date(r.at).toISOString() }))
}

/** Proposals opened for one alert, newest first. */
export async function proposalsForAlert(q: Queryable, alertId: string): Promise<Array<{ id: string; actionId: string; status: string; requestedBy: string }>> {
  const { rows } = await q.query<{ id: string; action_id: string; status: string; requested_by: string }>(
    'select id, action_id, status, requested_by from proposals where alert_id = $1 order by created_at desc, id',
    [alertId],
  )
  return rows.map((r) => ({ id: r.id, actionId: r.action_id, status: r.status, requestedBy: r.requested_by }))
}
