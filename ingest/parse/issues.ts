// Shared helpers for turning zod failures into quarantine results and for small date normalizations.
// Kept separate so markdown front-matter and telemetry validation report problems the same way.
import { z } from 'zod'
import type { ParseResult } from '../types.js'

type Failure = Extract<ParseResult, { ok: false }>

/** A value counts as "missing" when an author left it out or left it blank — that is what they need to hear. */
function isBlank(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    (typeof value === 'string' && value.trim() === '') ||
    (Array.isArray(value) && value.length === 0)
  )
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = input
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<PropertyKey, unknown>)[key]
  }
  return cur
}

const pathText = (path: readonly PropertyKey[]): string => path.map(String).join('.') || '(root)'

/**
 * Classify a zod error: if any failing field is absent/blank we report `missing_field` (naming every such
 * field, so one fix-up round is enough); otherwise `invalid_field` with each path and zod's message.
 */
export function issuesToFailure(label: string, error: z.ZodError, input: unknown): Failure {
  const missing: string[] = []
  const invalid: string[] = []
  for (const issue of error.issues) {
    const where = pathText(issue.path)
    if (issue.path.length > 0 && isBlank(valueAt(input, issue.path))) {
      if (!missing.includes(where)) missing.push(where)
    } else {
      invalid.push(`${where}: ${issue.message}`)
    }
  }
  if (missing.length > 0) {
    return { ok: false, reason: 'missing_field', detail: `${label} is missing ${missing.map((m) => `"${m}"`).join(', ')}` }
  }
  return { ok: false, reason: 'invalid_field', detail: `${label} has invalid fields: ${invalid.join('; ')}` }
}

/** Accepts a Date (js-yaml style) or a parseable string; yields a full ISO-8601 UTC timestamp. */
export const isoTimestamp = z.union([z.date(), z.string().trim()]).transform((value, ctx) => {
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `not a valid date/time: ${String(value)}` })
    return z.NEVER
  }
  return date.toISOString()
})

/**
 * Accepts a Date or a string and yields `YYYY-MM-DD`. A plain `2026-10-05` string is kept verbatim rather
 * than round-tripped through Date, so no time zone can shift it by a day.
 */
export const isoDate = z.union([z.date(), z.string().trim()]).transform((value, ctx) => {
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))) return value
  const date = value instanceof Date ? value : new Date(value)
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `not a valid date: ${String(value)}` })
    return z.NEVER
  }
  return date.toISOString().slice(0, 10)
})

/** Last path segment of a uri without its extension: the title of last resort. */
export function fileStem(uri: string): string {
  const path = uri.replace(/[?#].*$/, '').replace(/\/+$/, '')
  const last = path.slice(path.lastIndexOf('/') + 1)
  let name = last
  try {
    name = decodeURIComponent(last)
  } catch {
    // Malformed percent-encoding: the raw segment is still a usable label.
  }
  return name.replace(/\.[^.]+$/, '') || uri
}
