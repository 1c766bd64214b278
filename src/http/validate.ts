import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError } from './errors.js'

/** The request body as JSON, or 400 `invalid_json`; JSON that cannot be stored is 422 (see storableJson). */
export async function readJson(c: Context): Promise<unknown> {
  let body: unknown
  try {
    body = await c.req.json()
  } catch {
    throw new ApiError('invalid_json', 'request body is not valid JSON')
  }
  return storableJson(body)
}

/** Deeper JSON than any request needs; deeper bodies would exhaust the stack when stored. */
const MAX_JSON_DEPTH = 64
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const UNSTORABLE = (s: string) => s.includes('\u0000') || LONE_SURROGATE.test(s)

/**
 * Valid JSON that PostgreSQL cannot store (U+0000, unpaired surrogates in jsonb) or that is nested deeper than
 * any alert is refused up front with 422, instead of failing inside the transaction as a 500. Iterative, so a
 * 100,000-level body cannot overflow the stack here either.
 */
export function unstorableJson(value: unknown): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = []
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: value, path: '', depth: 0 }]
  while (stack.length > 0 && issues.length < 10) {
    const { v, path, depth } = stack.pop()!
    if (typeof v === 'string') {
      if (UNSTORABLE(v)) issues.push({ path, message: 'contains U+0000 or an unpaired surrogate' })
    } else if (v && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) {
        issues.push({ path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` })
        continue
      }
      for (const [k, child] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k
        if (UNSTORABLE(k)) issues.push({ path: at, message: 'key contains U+0000 or an unpaired surrogate' })
        stack.push({ v: child, path: at, depth: depth + 1 })
      }
    }
  }
  return issues
}

/** The value itself, or 422 `validation_failed` naming the paths of text PostgreSQL cannot store. */
export function storableJson<T>(value: T): T {
  const issues = unstorableJson(value)
  if (issues.length) throw new ApiError('validation_failed', 'request body has text that cannot be stored', issues)
  return value
}

/** Parses with a route's schema, or 422 `validation_failed` listing every failing path. */
export function validate<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value)
  if (!r.success) {
    throw new ApiError(
      'validation_failed',
      `request does not match the schema: ${r.error.issues.map((i) => i.path.join('.') || '(root)').join(', ')}`,
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    )
  }
  return r.data
}
