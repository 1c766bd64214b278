import { approve } from '../approvals/approve.js'
import { getOutbox } from '../approvals/outbox.js'
import { recordPolicyLoad } from '../approvals/policy-versions.js'
import { reject } from '../approvals/reject.js'
import { getProposal, listApprovals, listProposals, type Proposal } from '../approvals/store.js'
import { sweepExpired } from '../approvals/sweep.js'
import { ListProposalsInput, type ApprovalDeps, type Identity, type Refusal } from '../approvals/types.js'
import { withdraw } from '../approvals/withdraw.js'
import type { Queryable } from '../db/types.js'
import { stdio, type CliIo } from './audit.js'
import { openContext, referenceFor, type CliContext } from './context.js'

// `warden proposals list|show|approve|reject|withdraw|sweep`. Decisions act as the identity configured for
// this CLI (passed in by the caller from config, never from a flag), always as a human: the assistant
// identity is refused by the domain whatever the CLI says. Exit codes: 0 done, 1 refused (the reason is
// printed), 2 usage or configuration problem.

export interface CliIdentity {
  id: string
  roles: readonly string[]
}

const line = (p: Proposal, approvals: number) =>
  `${p.id}  ${p.status.padEnd(10)} ${p.actionId} ${JSON.stringify(p.params)}  risk ${p.risk}  approvals ${approvals}/${p.approvalsRequired}  by ${p.requestedBy}  expires ${p.expiresAt}`

async function approvalCounts(db: Queryable, ids: string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map()
  const { rows } = await db.query<{ proposal_id: string; n: number }>('select proposal_id, count(*)::int n from approvals where proposal_id = any($1::text[]) group by proposal_id', [ids])
  return new Map(rows.map((r) => [r.proposal_id, r.n]))
}

export async function runProposalsList(db: Queryable, opts: { status?: string; limit?: string; json?: boolean }, io: CliIo = stdio): Promise<number> {
  const parsed = ListProposalsInput.safeParse({ status: opts.status, limit: opts.limit ?? 20 })
  if (!parsed.success) {
    await io.err(`warden: ${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('; ')}\n`)
    return 2
  }
  const proposals = await listProposals(db, parsed.data)
  if (opts.json) {
    await io.out(`${JSON.stringify(proposals, null, 2)}\n`)
    return 0
  }
  if (proposals.length === 0) await io.out('no proposals\n')
  const counts = await approvalCounts(db, proposals.map((p) => p.id))
  for (const p of proposals) await io.out(`${line(p, counts.get(p.id) ?? 0)}\n`)
  return 0
}

export async function runProposalsShow(db: Queryable, id: string, opts: { json?: boolean }, io: CliIo = stdio): Promise<number> {
  const p = await getProposal(db, id)
  if (!p) {
    await io.err(`warden: no proposal ${id}\n`)
    return 1
  }
  const approvals = await listApprovals(db, id)
  const outbox = await getOutbox(db, id)
  const { rows: audit } = await db.query<{ seq: number; at: Date; actor: string; action: string }>('select seq, at, actor, action from audit_log where subject = $1 order by seq', [`proposal:${id}`])
  if (opts.json) {
    await io.out(`${JSON.stringify({ proposal: p, approvals, outbox, audit }, null, 2)}\n`)
    return 0
  }
  const out = [
    line(p, approvals.length),
    `  rationale: ${p.rationale}${p.citations.length ? ` [${p.citations.join(', ')}]` : ''}`,
    `  policy v${p.policyVersion} sha256:${p.policySha256.slice(0, 12)} · approver roles ${p.approverRoles.join(', ')}${p.forbidSelfApproval ? ' · no self-approval' : ''}`,
    `  assessment ${p.assessmentId ?? '—'} · alert ${p.alertId ?? '—'} · group ${p.alertGroup}`,
    ...p.preconditionResults.map((r) => `  precondition ${r.ok ? 'ok  ' : 'FAIL'} ${r.name}: ${r.detail}`),
    ...approvals.map((a) => `  approved by ${a.reviewerId} (${a.role}) at ${a.createdAt}${a.reason ? `: ${a.reason}` : ''}`),
    ...(p.decidedBy && p.status !== 'approved' ? [`  ${p.status} by ${p.decidedBy} at ${p.decidedAt}${p.decisionReason ? `: ${p.decisionReason}` : ''}`] : []),
    ...(outbox ? [`  hand-off ${outbox.status} · attempts ${outbox.attempts}${outbox.lastError ? ` · last error ${outbox.lastError}` : ''}${p.handedOffTo ? ` · to ${p.handedOffTo}` : ''}`] : []),
    '  audit:',
    ...audit.map((a) => `    #${a.seq} ${new Date(a.at).toISOString()} ${a.actor} ${a.action}`),
  ]
  await io.out(`${out.join('\n')}\n`)
  return 0
}

export type Verb = 'approve' | 'reject' | 'withdraw'

/** One decision as the configured identity. */
const NO_IDENTITY = 'warden: no identity configured for the CLI: set WARDEN_CLI_IDENTITY (and WARDEN_CLI_ROLES) to act on proposals\n'

export async function runProposalsDecide(deps: ApprovalDeps, verb: Verb, id: string, opts: { reason?: string; json?: boolean }, identity: CliIdentity | null, io: CliIo = stdio): Promise<number> {
  if (!identity?.id?.trim()) {
    await io.err(NO_IDENTITY)
    return 2
  }
  const who: Identity = { id: identity.id.trim(), roles: [...identity.roles], kind: 'human' }
  const input = { proposalId: id, ...(opts.reason ? { reason: opts.reason } : {}) }
  const r = verb === 'approve' ? await approve(deps, { ...input, reviewer: who }) : verb === 'reject' ? await reject(deps, { ...input, reviewer: who }) : await withdraw(deps, { ...input, actor: who })
  if (opts.json) await io.out(`${JSON.stringify(r, null, 2)}\n`)
  if (!r.ok) {
    await io.err(`warden: ${verb} refused (${r.code}: ${r.reason}): ${r.message}\n${failedPreconditions(r)}`)
    return 1
  }
  if (!opts.json) {
    const a = r as Partial<{ approvals: number; required: number; approved: boolean }>
    const extra = a.required !== undefined ? ` (approvals ${a.approvals}/${a.required}${a.approved ? '; hand-off queued' : ''})` : ''
    await io.out(`${r.proposal.id}: ${r.proposal.status}${extra}\n`)
  }
  return 0
}

function failedPreconditions(r: Refusal): string {
  const pre = (r.details as { preconditions?: Array<{ name: string; ok: boolean; detail: string }> } | undefined)?.preconditions ?? []
  return pre.filter((x) => !x.ok).map((x) => `  ${x.name}: ${x.detail}\n`).join('')
}

export async function runProposalsSweep(db: CliContext['db'], opts: { json?: boolean }, io: CliIo = stdio): Promise<number> {
  const { expired } = await sweepExpired({ db })
  await io.out(opts.json ? `${JSON.stringify(expired.map((p) => p.id))}\n` : `expired ${expired.length} proposal(s)${expired.length ? `: ${expired.map((p) => p.id).join(', ')}` : ''}\n`)
  return 0
}

async function withContext(fn: (ctx: CliContext) => Promise<number>): Promise<void> {
  const ctx = await openContext()
  try {
    process.exitCode = await fn(ctx)
  } finally {
    await ctx.close()
  }
}

/** The policy in force, recorded (once per sha256) as every policy load is. */
async function decisionDeps(ctx: CliContext, actor: string): Promise<ApprovalDeps> {
  const env = ctx.config.env
  const reference = referenceFor({ catalogPath: env.WARDEN_CATALOG, taxonomyPath: env.WARDEN_TAXONOMY, policyPath: env.WARDEN_POLICY })
  await recordPolicyLoad(ctx.db, reference.policy, { actor })
  return { db: ctx.db, reference }
}

export const proposalsListCommand = (opts: { status?: string; limit?: string; json?: boolean }) => withContext((ctx) => runProposalsList(ctx.db, opts))
export const proposalsShowCommand = (id: string, opts: { json?: boolean }) => withContext((ctx) => runProposalsShow(ctx.db, id, opts))
export const proposalsSweepCommand = (opts: { json?: boolean }) => withContext((ctx) => runProposalsSweep(ctx.db, opts))

const decide = (verb: Verb) => async (id: string, opts: { reason?: string; json?: boolean }, identity: CliIdentity | null): Promise<void> => {
  // Checked before opening anything: without an identity there is nobody to act as.
  if (!identity?.id?.trim()) {
    process.stderr.write(NO_IDENTITY)
    process.exitCode = 2
    return
  }
  await withContext(async (ctx) => runProposalsDecide(await decisionDeps(ctx, identity.id.trim()), verb, id, opts, identity))
}
export const proposalsApproveCommand = decide('approve')
export const proposalsRejectCommand = decide('reject')
export const proposalsWithdrawCommand = decide('withdraw')
