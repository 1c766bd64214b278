import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from 'pino'

// One error vocabulary for the whole API, mapped to HTTP status in one place. 5xx bodies never carry
// database or model error text: that goes to the log with the request id.

export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'internal_error'
  | 'unavailable'

const STATUS: Record<ErrorCode, ContentfulStatusCode> = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  internal_error: 500,
  unavailable: 503,
}

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export function errorBody(c: Context, code: ErrorCode, message: string, details?: unknown) {
  const requestId = (c.get('requestId' as never) as string | undefined) ?? 'unknown'
  return c.json({ error: { code, message, requestId, ...(details === undefined ? {} : { details }) } }, STATUS[code])
}

export function onError(err: Error, c: Context) {
  if (err instanceof ApiError) return errorBody(c, err.code, err.message, err.details)
  if (err instanceof HTTPException) {
    const code: ErrorCode = err.status === 413 ? 'payload_too_large' : err.status === 401 ? 'unauthorized' : err.status === 404 ? 'not_found' : 'bad_request'
    return errorBody(c, code, err.message || code)
  }
  const log = c.get('logger' as never) as Logger | undefined
  log?.error({ err }, 'unhandled error')
  return errorBody(c, 'internal_error', 'internal error; see the server log for this request id')
}
