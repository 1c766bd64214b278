// The job row as domain code sees it. A claim is identified by (id, locked_by, attempts): every later write
// of the claimer is guarded by all three, so a worker whose lease ran out and whose job another worker took
// over can no longer complete, fail or extend it (its result is simply dropped; assessment is idempotent).

export const ASSESS_ALERT = 'assess_alert'
export const JOBS_ACTOR = 'system:jobs'

export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'dead'

export interface Job {
  id: string
  kind: string
  payload: Record<string, unknown>
  dedupeKey: string
  status: JobStatus
  attempts: number
  maxAttempts: number
  runAt: string
  lockedBy: string | null
  lockedUntil: string | null
  lastError: string | null
  result: Record<string, unknown> | null
  createdAt: string
  updatedAt: string
}

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null)

export function toJob(r: Record<string, unknown>): Job {
  return {
    id: r.id as string,
    kind: r.kind as string,
    payload: r.payload as Record<string, unknown>,
    dedupeKey: r.dedupe_key as string,
    status: r.status as JobStatus,
    attempts: r.attempts as number,
    maxAttempts: r.max_attempts as number,
    runAt: iso(r.run_at)!,
    lockedBy: (r.locked_by as string | null) ?? null,
    lockedUntil: iso(r.locked_until),
    lastError: (r.last_error as string | null) ?? null,
    result: (r.result as Record<string, unknown> | null) ?? null,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  }
}

/**
 * An error as operators may see it in the jobs table and the audit log: class and message, short, with
 * credentials in URLs, bearer tokens and API keys masked. Never a stack, never a request or response body.
 */
export function scrubError(err: unknown, max = 300): string {
  const e = err instanceof Error ? err : new Error(String(err))
  const text = `${e.name}: ${e.message}`
    .replace(/\/\/[^/\s@]+@/g, '//***@')
    .replace(/\b(bearer|basic)\s+\S+/gi, '$1 ***')
    .replace(/\b(wdn_|sk-)[A-Za-z0-9_-]+/g, '$1***')
    .replace(/\s+/g, ' ')
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}
