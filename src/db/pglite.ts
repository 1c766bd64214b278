import { PGlite } from '@electric-sql/pglite'
import { vector } from '@electric-sql/pglite-pgvector'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseBusyError, type Database, type Lock, type Transaction } from './types.js'

const LOCK_FILE = 'warden.pid'

/**
 * Embedded Postgres (PGlite + pgvector). A PGlite data dir must never be opened by two processes at once,
 * so we hold a pid file: a live holder → fail fast with a clear message; a dead one (SIGKILL) → take over.
 * `dataDir: null` gives an in-memory database (tests).
 */
export async function openPglite(dataDir: string | null): Promise<Database> {
  let releaseDir = () => {}
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true })
    releaseDir = acquireDataDir(path.resolve(dataDir))
  }
  let pg: PGlite
  try {
    pg = await PGlite.create({ dataDir: dataDir ? path.resolve(dataDir, 'pgdata') : undefined, extensions: { vector } })
  } catch (err) {
    releaseDir()
    throw err
  }
  const held = new Set<string>()

  const db: Database = {
    kind: 'pglite',
    async query(sql, params) {
      const r = await pg.query(sql, params as unknown[] | undefined)
      return { rows: r.rows as never[], rowCount: r.affectedRows || r.rows.length }
    },
    async transaction(fn) {
      return pg.transaction(async (inner) => {
        const tx: Transaction = {
          inTransaction: true,
          async query(sql, params) {
            const r = await inner.query(sql, params as unknown[] | undefined)
            return { rows: r.rows as never[], rowCount: r.affectedRows || r.rows.length }
          },
        }
        return fn(tx)
      })
    },
    async exec(sql) {
      await pg.exec(sql)
    },
    async tryLock(name): Promise<Lock | null> {
      if (held.has(name)) return null
      held.add(name)
      return { release: async () => void held.delete(name) }
    },
    async close() {
      try {
        await pg.close()
      } finally {
        releaseDir()
      }
    },
  }
  return db
}

// Data dirs this process holds, with their release. One exit hook releases them all: a listener per open would
// pile up in a process that opens many databases (the test suite) and trip MaxListenersExceededWarning.
const openInThisProcess = new Map<string, () => void>()
let exitHookInstalled = false

function acquireDataDir(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE)
  if (openInThisProcess.has(dir)) {
    throw new DatabaseBusyError(`embedded database at ${dir} is already open in this process`)
  }
  if (!exitHookInstalled) {
    exitHookInstalled = true
    process.once('exit', () => {
      for (const release of [...openInThisProcess.values()]) release()
    })
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' })
      const release = () => {
        if (!openInThisProcess.delete(dir)) return
        try {
          if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file)
        } catch {
          /* already gone */
        }
      }
      openInThisProcess.set(dir, release)
      return release
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number(fs.readFileSync(file, 'utf8').trim())
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new DatabaseBusyError(
          `embedded database at ${dir} is in use by process ${pid} (another warden command or server). ` +
            'Stop it, or point DATABASE_URL at a Postgres server for concurrent use.',
        )
      }
      // Stale pid file from a killed process: remove and retry once.
      fs.rmSync(file, { force: true })
    }
  }
  throw new DatabaseBusyError(`could not lock embedded database at ${dir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
