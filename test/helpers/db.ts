import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { openDatabase, type DatabaseTarget } from '../../src/db/index.js'
import type { Database } from '../../src/db/types.js'

// Integration tests run against whichever backend CI selects: the real server named by
// WARDEN_TEST_DATABASE_URL (a fresh database per call, dropped afterwards), else embedded PGlite.
export const TEST_DATABASE_URL = process.env.WARDEN_TEST_DATABASE_URL || undefined
export const backend: 'postgres' | 'pglite' = TEST_DATABASE_URL ? 'postgres' : 'pglite'

export interface TestDatabase {
  db: Database
  target: DatabaseTarget
  /** Environment for a child `warden` process pointed at the same database. */
  env: Record<string, string>
  cleanup(): Promise<void>
}

export async function createTestTarget(opts: { persistent?: boolean } = {}): Promise<{ target: DatabaseTarget; env: Record<string, string>; drop(): Promise<void> }> {
  if (TEST_DATABASE_URL) {
    const name = `warden_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    const url = new URL(TEST_DATABASE_URL)
    url.pathname = `/${name}`
    return {
      target: { kind: 'postgres', url: url.toString(), poolMax: 20 },
      env: { DATABASE_URL: url.toString() },
      async drop() {
        const c = new pg.Client({ connectionString: TEST_DATABASE_URL })
        await c.connect()
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
        await c.end()
      },
    }
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-test-'))
  return {
    target: { kind: 'pglite', dataDir: opts.persistent === false ? null : dir },
    env: { WARDEN_DATA_DIR: dir, DATABASE_URL: '' },
    async drop() {
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A migrated database of the selected backend. In-memory PGlite unless `persistent` is asked for. */
export async function createTestDatabase(opts: { persistent?: boolean } = {}): Promise<TestDatabase> {
  const t = await createTestTarget({ persistent: opts.persistent ?? false })
  const db = await openDatabase(t.target)
  let closed = false
  return {
    db,
    target: t.target,
    env: t.env,
    async cleanup() {
      if (!closed) await db.close().catch(() => {})
      closed = true
      await t.drop()
    },
  }
}
