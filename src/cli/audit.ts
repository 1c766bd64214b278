import { once } from 'node:events'
import { exportAudit, verifyAudit } from '../audit/verify.js'
import type { Queryable } from '../db/types.js'
import { openContext } from './context.js'

// `warden audit verify` and `warden audit export`. The run* functions take an open database and an output
// sink and return the exit code, so tests drive them in-process; the *Command wrappers open the configured
// context like the other commands.

export interface CliIo {
  out(s: string): void | Promise<void>
  err(s: string): void | Promise<void>
}

/** Respects stdout back-pressure: an export of a long log must not buffer it all in memory. */
export const stdio: CliIo = {
  out: async (s) => {
    if (!process.stdout.write(s)) await once(process.stdout, 'drain')
  },
  err: (s) => void process.stderr.write(s),
}

/** Exit 0 when the chain verifies; 1 and the first broken link otherwise. */
export async function runAuditVerify(db: Queryable, opts: { json?: boolean }, io: CliIo = stdio): Promise<number> {
  const r = await verifyAudit(db)
  if (opts.json) await io.out(`${JSON.stringify(r, null, 2)}\n`)
  else if (r.ok) await io.out(`audit chain ok: ${r.rows} rows, tip ${r.tip}\n`)
  if (!r.ok && r.firstBroken) await io.err(`warden: audit chain broken at seq ${r.firstBroken.seq}: ${r.firstBroken.reason} (${r.rows} rows walked)\n`)
  return r.ok ? 0 : 1
}

/** JSONL, one audit row per line, from `since` (an ISO 8601 time) on; exit 2 on a bad --since. */
export async function runAuditExport(db: Queryable, opts: { since?: string }, io: CliIo = stdio): Promise<number> {
  if (opts.since !== undefined && Number.isNaN(Date.parse(opts.since))) {
    await io.err(`warden: --since must be an ISO 8601 time, got ${JSON.stringify(opts.since)}\n`)
    return 2
  }
  for await (const line of exportAudit(db, { since: opts.since === undefined ? undefined : new Date(opts.since) })) await io.out(line)
  return 0
}

export async function auditVerifyCommand(opts: { json?: boolean }): Promise<void> {
  const ctx = await openContext()
  try {
    process.exitCode = await runAuditVerify(ctx.db, opts)
  } finally {
    await ctx.close()
  }
}

export async function auditExportCommand(opts: { since?: string }): Promise<void> {
  const ctx = await openContext()
  try {
    process.exitCode = await runAuditExport(ctx.db, opts)
  } finally {
    await ctx.close()
  }
}
