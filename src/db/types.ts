// The narrow surface every domain function takes. Both backends (pg Pool, embedded PGlite) implement it,
// so the same SQL runs unchanged on a real server and on the embedded database.

export interface QueryResult<R> {
  rows: R[]
  /** Rows affected by INSERT/UPDATE/DELETE (or returned by SELECT). */
  rowCount: number
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>
}

/** A queryable bound to one open transaction. Domain code never BEGINs/COMMITs itself. */
export interface Transaction extends Queryable {
  readonly inTransaction: true
}

export interface Lock {
  release(): Promise<void>
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite'
  /** Runs fn in one transaction: commit on return, rollback on throw. */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>
  /** Runs a multi-statement SQL script (migrations) outside the prepared-statement protocol. */
  exec(sql: string): Promise<void>
  /**
   * Non-blocking, process-crash-safe named lock (Postgres: session advisory lock on a dedicated connection,
   * released by the server when the holder dies; PGlite: in-process, since the data-dir lock already makes
   * the process the only writer). Returns null when someone else holds it.
   */
  tryLock(name: string): Promise<Lock | null>
  close(): Promise<void>
}

export function isDatabase(q: Queryable): q is Database {
  return typeof (q as Database).transaction === 'function'
}

/** Reuses the caller's transaction when there is one, so verbs compose into one atomic unit. */
export async function withTransaction<T>(q: Queryable, fn: (tx: Transaction) => Promise<T>): Promise<T> {
  if ((q as Transaction).inTransaction) return fn(q as Transaction)
  if (isDatabase(q)) return q.transaction(fn)
  throw new Error('withTransaction needs a Database or a Transaction')
}

export class DatabaseBusyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DatabaseBusyError'
  }
}

/** SQLSTATE 23505: callers map it to a conflict error. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505'
}
