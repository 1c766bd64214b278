import type { Config } from '../config/env.js'
import { migrate } from './migrate.js'
import { openPglite } from './pglite.js'
import { openPostgres } from './postgres.js'
import type { Database } from './types.js'

export * from './types.js'

export type DatabaseTarget = { kind: 'postgres'; url: string; poolMax?: number } | { kind: 'pglite'; dataDir: string | null }

/** Opens the configured backend and brings its schema up to date. */
export async function openDatabase(target: DatabaseTarget | Config['database'], opts: { migrate?: boolean } = {}): Promise<Database> {
  const db = target.kind === 'postgres' ? await openPostgres(target.url, { poolMax: target.poolMax }) : await openPglite(target.dataDir)
  if (opts.migrate !== false) {
    try {
      await migrate(db)
    } catch (err) {
      await db.close().catch(() => {})
      throw err
    }
  }
  return db
}
