import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sha256 } from '../../ingest/hash.js'
import type { Database } from './types.js'

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url))

export interface Migration {
  version: number
  name: string
  sql: string
  checksum: string
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d+_.+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = fs.readFileSync(path.join(dir, file), 'utf8')
      return { version: Number(file.split('_')[0]), name: file, sql, checksum: sha256(sql) }
    })
}

/**
 * Applies pending migrations in order, each in its own transaction, under a lock so that several
 * replicas starting at once apply each file exactly once. A changed, already-applied file is an error:
 * migrations are append-only.
 */
export async function migrate(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const migrations = listMigrations(dir)
  let lock = await db.tryLock('warden:migrate')
  for (let waited = 0; !lock && waited < 60_000; waited += 100) {
    await new Promise((r) => setTimeout(r, 100))
    lock = await db.tryLock('warden:migrate')
  }
  if (!lock) throw new Error('timed out waiting for the migration lock')
  try {
    await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
    const { rows } = await db.query<{ version: number; name: string; checksum: string }>(
      'select version, name, checksum from schema_migrations order by version',
    )
    const applied = new Map(rows.map((r) => [r.version, r]))
    const done: string[] = []
    for (const m of migrations) {
      const prior = applied.get(m.version)
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied (checksum mismatch); add a new migration instead`)
        }
        continue
      }
      await db.transaction(async (tx) => {
        // Multi-statement files go through the simple protocol inside the transaction.
        for (const stmt of splitStatements(m.sql)) await tx.query(stmt)
        await tx.query('insert into schema_migrations (version, name, checksum) values ($1, $2, $3)', [m.version, m.name, m.checksum])
      })
      done.push(m.name)
    }
    return done
  } finally {
    await lock.release()
  }
}

/** Pending migrations, for readiness checks. */
export async function pendingMigrations(db: Database, dir = MIGRATIONS_DIR): Promise<string[]> {
  const { rows } = await db
    .query<{ version: number }>('select version from schema_migrations')
    .catch(() => ({ rows: [] as { version: number }[] }))
  const applied = new Set(rows.map((r) => r.version))
  return listMigrations(dir).filter((m) => !applied.has(m.version)).map((m) => m.name)
}

/**
 * Splits a migration into statements so each can run as a parameterless query inside one transaction
 * (PGlite's transaction handle has no exec). Handles -- comments, quotes and $$ bodies.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = []
  let cur = ''
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    if (ch === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i)
      i = nl === -1 ? sql.length : nl + 1
      continue
    }
    if (ch === "'") {
      const end = sql.indexOf("'", i + 1)
      cur += sql.slice(i, end + 1)
      i = end + 1
      continue
    }
    if (ch === '$') {
      const m = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))
      if (m) {
        const end = sql.indexOf(m[0], i + m[0].length)
        cur += sql.slice(i, end + m[0].length)
        i = end + m[0].length
        continue
      }
    }
    if (ch === ';') {
      if (cur.trim()) out.push(cur.trim())
      cur = ''
      i++
      continue
    }
    cur += ch
    i++
  }
  if (cur.trim()) out.push(cur.trim())
  return out
}
