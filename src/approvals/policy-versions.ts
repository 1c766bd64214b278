import { appendAudit } from '../audit/append.js'
import { withTransaction, type Queryable, type Transaction } from '../db/types.js'
import type { Policy } from '../policy/policy.js'
import { SYSTEM_ACTOR } from './types.js'

// Which policy allowed what: every policy load is recorded once per content hash (a restart with the same
// file adds nothing), and every proposal references the row of the policy it was made under.

export function policySummary(policy: Policy): Record<string, unknown> {
  return {
    version: policy.version,
    defaults: policy.defaults,
    actions: Object.fromEntries(
      [...policy.actions.values()].map((a) => [
        a.id,
        { risk: a.risk, approvals: a.approvals, approver_roles: a.approverRoles, ttl_ms: a.ttlMs, forbid_self_approval: a.forbidSelfApproval, preconditions: a.preconditions, params: Object.keys(a.params) },
      ]),
    ),
  }
}

/** Inserts the version row if this sha is new; true when it was. The caller appends the audit row (last). */
export async function insertPolicyVersion(tx: Transaction, policy: Policy, now: Date): Promise<boolean> {
  const { rows } = await tx.query(
    `insert into policy_versions (sha256, version, source, summary, first_loaded_at) values ($1, $2, $3, $4, $5)
     on conflict (sha256) do nothing returning sha256`,
    [policy.sha256, policy.version, policy.source, JSON.stringify(policySummary(policy)), now.toISOString()],
  )
  return rows.length === 1
}

export async function auditPolicyLoaded(tx: Transaction, policy: Policy, actor: string, now: Date): Promise<void> {
  await appendAudit(tx, { actor, action: 'policy.loaded', subject: `policy:${policy.sha256}`, data: { version: policy.version, source: policy.source, actions: [...policy.actions.keys()] } }, now)
}

/** Call on every policy load (server start, CLI commands that use the policy). Idempotent per sha256. */
export async function recordPolicyLoad(q: Queryable, policy: Policy, opts: { actor?: string; now?: Date } = {}): Promise<{ recorded: boolean }> {
  const now = opts.now ?? new Date()
  return withTransaction(q, async (tx) => {
    const recorded = await insertPolicyVersion(tx, policy, now)
    if (recorded) await auditPolicyLoaded(tx, policy, opts.actor ?? SYSTEM_ACTOR, now)
    return { recorded }
  })
}

export interface PolicyVersionRow {
  sha256: string
  version: number
  source: string
  summary: Record<string, unknown>
  firstLoadedAt: string
}

export async function listPolicyVersions(q: Queryable): Promise<PolicyVersionRow[]> {
  const { rows } = await q.query<Record<string, unknown>>('select * from policy_versions order by first_loaded_at, sha256')
  return rows.map((r) => ({ sha256: r.sha256 as string, version: r.version as number, source: r.source as string, summary: r.summary as Record<string, unknown>, firstLoadedAt: new Date(r.first_loaded_at as string).toISOString() }))
}
