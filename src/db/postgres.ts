import pg from 'pg'
import type { Database, Lock, Transaction } from './types.js'

// int8 ids and counts come back as JS numbers on both backends (PGlite already does this);
// our ids stay far below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v)
    return pg.types.getTypeParser(oid, format as 'text')
  },
}

export async function openPostgres(url: string, opts: { poolMax?: number } = {}): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 10, types: types as pg.CustomTypesConfig })
  // An idle client error (server restart) must not crash the process; the next query reconnects.
  pool.on('error', () => {})
  await pool.query('select 1')

  const db: Database = {
    kind: 'postgres',
    async query(sql, params) {
      const r = await pool.query(sql, params as unknown[] | undefined)
      return { rows: r.rows, rowCount: r.rowCount ?? 0 }
    },
    async transaction(fn) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const tx: Transaction = {
          inTransaction: true,
          async query(sql, params) {
            const r = await client.query(sql, params as unknown[] | undefined)
            return { rows: r.rows, rowCount: r.rowCount ?? 0 }
          },
        }
        const out = await fn(tx)
        await client.query('COMMIT')
        return out
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        throw err
      } finally {
        client.release()
      }
    },
    async exec(sql) {
      await pool.query(sql)
    },
    async tryLock(name): Promise<Lock | null> {
      // A session lock lives as long as its connection: a SIGKILLed holder frees it automatically.
      const client = await pool.connect()
      try {
        const r = await client.query<{ ok: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as ok', [name])
        if (!r.rows[0]?.ok) {
          client.release()
          return null
        }
      } catch (err) {
        client.release()
        throw err
      }
      let released = false
      return {
        async release() {
          if (released) return
          released = true
          try {
            await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [name])
          } finally {
            client.release()
          }
        },
      }
    },
    async close() {
      await pool.end()
    },
  }
  return db
}
