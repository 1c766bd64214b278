import type { Context } from 'hono'
import type { z } from 'zod'
import { ApiError } from './errors.js'

/** The request body as JSON, or 400 `invalid_json`. */
export async function readJson(c: Context): Promise<unknown> {
  try {
    return await c.req.json()
  } catch {
    throw new ApiError('invalid_json', 'request body is not valid JSON')
  }
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
