import { listMigrations } from '../db/migrate.js'
import { openContext } from './context.js'

/**
 * `warden migrate`: apply pending migrations and print the schema version, for a deployment's migration step
 * (a Kubernetes Job, a compose one-shot) that should run before API and worker replicas roll. Opening the
 * database already applies pending files under the migration lock, so every other command is safe too; this
 * one only does that, and says what the database holds.
 */
export async function migrateCommand(opts: { json?: boolean }): Promise<void> {
  const ctx = await openContext()
  try {
    const { rows } = await ctx.db.query<{ version: number; name: string; applied_at: string | Date }>(
      'select version, name, applied_at from schema_migrations order by version',
    )
    const known = listMigrations()
    const applied = rows.map((r) => ({ version: r.version, name: r.name, appliedAt: new Date(r.applied_at).toISOString() }))
    const pending = known.filter((m) => !rows.some((r) => r.version === m.version)).map((m) => m.name)
    if (opts.json) process.stdout.write(`${JSON.stringify({ database: ctx.db.kind, version: applied.at(-1)?.version ?? 0, applied, pending })}\n`)
    else {
      process.stdout.write(`database: ${ctx.db.kind}, schema version ${applied.at(-1)?.version ?? 0} (${applied.length} migrations applied)\n`)
      for (const m of applied) process.stdout.write(`  ${String(m.version).padStart(3, '0')} ${m.name}  ${m.appliedAt}\n`)
    }
    if (pending.length) {
      process.stderr.write(`warden: migrations still pending: ${pending.join(', ')}\n`)
      process.exitCode = 1
    }
  } finally {
    await ctx.close()
  }
}
