import type { z } from 'zod'

// Problems in the reference files (catalog, taxonomy, policy) are configuration mistakes made by a
// human editing YAML. They are collected, never thrown one by one, so that a single run shows every
// mistake, and each problem names the file and the YAML path so it can be fixed without guessing:
//   catalog.yaml: services[3].team: "paymnts" is not a team (known: payments, storefront)

export class ReferenceFileError extends Error {
  override readonly name = 'ReferenceFileError'
  readonly problems: readonly string[]

  constructor(problems: readonly string[]) {
    const n = problems.length
    super(`Reference file check failed (${n} problem${n === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.problems = Object.freeze([...problems])
  }
}

/** Outcome of checking one file: `value` is null whenever `problems` is non-empty. */
export interface Checked<T> {
  readonly value: T | null
  readonly problems: readonly string[]
}

/** Throws every collected problem at once, or returns the value. */
export function unwrap<T>(checked: Checked<T>): T {
  if (checked.value === null || checked.problems.length > 0) throw new ReferenceFileError(checked.problems)
  return checked.value
}

/** `['services', 3, 'team']` → `services[3].team`; keys that are not plain words are quoted. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else if (typeof key === 'string' && /^[A-Za-z_][\w-]*$/.test(key)) out += out === '' ? key : `.${key}`
    else out += `[${JSON.stringify(String(key))}]`
  }
  return out
}

/** One problem line: `file: path: message` (the path is left out for the document root). */
export function problem(source: string, path: readonly PropertyKey[], message: string): string {
  const where = formatPath(path)
  return where === '' ? `${source}: ${message}` : `${source}: ${where}: ${message}`
}

/** Zod issues rewritten in the same style; a missing key reads "is required" rather than "received undefined". */
export function zodProblems(source: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    let message = issue.message
    if (issue.code === 'invalid_type' && issue.input === undefined) message = `is required (${issue.expected})`
    else if (issue.code === 'unrecognized_keys') {
      message = `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (the format is strict so a typo cannot silently drop a rule)`
    } else if (issue.code === 'invalid_key') message = `invalid key: ${issue.issues.map((i) => i.message).join('; ')}`
    return problem(source, issue.path, message)
  })
}
