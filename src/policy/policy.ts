import { createHash } from 'node:crypto'
import type { Catalog } from './catalog.js'
import { type Checked, problem, unwrap, zodProblems } from './errors.js'
import { BUILTIN_KINDS } from './names.js'
import { PolicyFile, type PolicyFileData, compilePattern, parseDuration } from './policy-file.js'
import type { Taxonomy } from './taxonomy.js'
import { asRecord, asStrings, known, parseYaml, readText } from './yaml.js'

// The action policy: the closed list of actions the assistant may PROPOSE (it never executes), each
// with typed params, the preconditions evaluated before a proposal is shown, and who must approve.
// Everything is checked at load time so that a typo in the YAML fails startup instead of quietly
// weakening a guard (an unknown precondition would otherwise read as a check that never runs).

export interface ParamSpec {
  readonly type: 'service' | 'string' | 'integer' | 'boolean' | 'enum'
  readonly pattern?: string
  /** `pattern`, anchored to the whole value. */
  readonly regex?: RegExp
  readonly min?: number
  readonly max?: number
  readonly values?: readonly string[]
}
export interface PolicyAction {
  readonly id: string
  readonly description: string
  readonly risk: 'low' | 'medium' | 'high'
  /** null: any kind (or no service at all). */
  readonly appliesTo: { readonly kinds: readonly string[] } | null
  readonly params: Readonly<Record<string, ParamSpec>>
  readonly recommendedFor: readonly string[]
  readonly preconditions: readonly string[]
  readonly blastRadius: { readonly maxServices: number | null; readonly maxScaleFactor: number | null }
  readonly approvals: number
  /** Effective values: the action's override, else `defaults`. */
  readonly approverRoles: readonly string[]
  readonly ttlMs: number
  readonly forbidSelfApproval: boolean
}
export interface Policy {
  readonly version: number
  /** Hex SHA-256 of the file bytes: recorded with every proposal, so an audit can tell which policy allowed it. */
  readonly sha256: string
  readonly source: string
  readonly defaults: { readonly ttlMs: number; readonly approverRoles: readonly string[]; readonly forbidSelfApproval: boolean }
  readonly actions: ReadonlyMap<string, PolicyAction>
  action(id: string): PolicyAction | null
}

export interface PolicyContext {
  readonly catalog: Catalog
  readonly taxonomy: Taxonomy
  readonly knownPreconditions: readonly string[]
  /** When given, every approver role must be one of these. */
  readonly knownRoles?: readonly string[]
}
/** A null catalog or taxonomy (one that failed to load) skips the checks that need it instead of adding noise. */
export type LenientPolicyContext = Omit<PolicyContext, 'catalog' | 'taxonomy'> & { readonly catalog: Catalog | null; readonly taxonomy: Taxonomy | null }

/** Names that must exist elsewhere: preconditions, kinds, classes, roles. Runs on the raw YAML so it reports even when the schema fails. */
function crossCheck(raw: unknown, source: string, ctx: LenientPolicyContext): string[] {
  const problems: string[] = []
  const check = (path: PropertyKey[], values: unknown, ok: (v: string) => boolean, what: string, knownValues: Iterable<string>) => {
    for (const [i, v] of asStrings(values)) if (!ok(v)) problems.push(problem(source, [...path, i], `${JSON.stringify(v)} is not ${what} ${known(knownValues)}`))
  }
  const roles = ctx.knownRoles
  const checkRoles = (path: PropertyKey[], values: unknown) => roles && check(path, values, (r) => roles.includes(r), 'a known approver role', roles)
  checkRoles(['defaults', 'approver_roles'], asRecord(asRecord(raw)?.['defaults'])?.['approver_roles'])
  const kinds = ctx.catalog ? new Set<string>([...BUILTIN_KINDS, ...ctx.catalog.kinds]) : null
  for (const [actionId, value] of Object.entries(asRecord(asRecord(raw)?.['actions']) ?? {})) {
    const a = asRecord(value) ?? {}
    const at = (key: string) => ['actions', actionId, key]
    check(at('preconditions'), a['preconditions'], (p) => ctx.knownPreconditions.includes(p), 'a precondition Warden implements', ctx.knownPreconditions)
    if (kinds) check([...at('applies_to'), 'kinds'], asRecord(a['applies_to'])?.['kinds'], (k) => kinds.has(k), 'a service kind', kinds)
    const taxonomy = ctx.taxonomy
    if (taxonomy) check(at('recommended_for'), a['recommended_for'], (c) => taxonomy.hasClass(c), 'a failure class in the taxonomy', taxonomy.classes.keys())
    checkRoles(at('approver_roles'), a['approver_roles'])
  }
  return problems
}

function build(data: PolicyFileData, sha256: string, source: string): Policy {
  const defaults = Object.freeze({ ttlMs: parseDuration(data.defaults.proposal_ttl)!, approverRoles: Object.freeze([...data.defaults.approver_roles]), forbidSelfApproval: data.defaults.forbid_self_approval })
  const actions = new Map<string, PolicyAction>()
  for (const [id, a] of Object.entries(data.actions)) {
    const params = Object.fromEntries(Object.entries(a.params).map(([name, p]) => [name, Object.freeze({ ...p, ...(p.values && { values: Object.freeze([...p.values]) }), ...(p.pattern !== undefined && { regex: compilePattern(p.pattern) }) })]))
    actions.set(id, Object.freeze({
      id, description: a.description, risk: a.risk,
      appliesTo: a.applies_to ? Object.freeze({ kinds: Object.freeze([...a.applies_to.kinds]) }) : null,
      params: Object.freeze(params),
      recommendedFor: Object.freeze([...a.recommended_for]),
      preconditions: Object.freeze([...a.preconditions]),
      blastRadius: Object.freeze({ maxServices: a.blast_radius?.max_services ?? null, maxScaleFactor: a.blast_radius?.max_scale_factor ?? null }),
      approvals: a.approvals,
      approverRoles: a.approver_roles ? Object.freeze([...a.approver_roles]) : defaults.approverRoles,
      ttlMs: a.ttl ? parseDuration(a.ttl)! : defaults.ttlMs,
      forbidSelfApproval: a.forbid_self_approval ?? defaults.forbidSelfApproval,
    }))
  }
  return Object.freeze({ version: data.version, sha256, source, defaults, actions, action: (actionId: string) => actions.get(actionId) ?? null })
}

export const sha256Hex = (bytes: string | Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

/** Every problem in one policy text; never throws. `sha256` defaults to the hash of the text's UTF-8 bytes. */
export function checkPolicyText(text: string, source: string, ctx: LenientPolicyContext, sha256 = sha256Hex(text)): Checked<Policy> {
  const { data, problems } = parseYaml(text, source)
  if (problems.length > 0) return { value: null, problems }
  const parsed = PolicyFile.safeParse(data, { reportInput: true })
  const all = [...(parsed.success ? [] : zodProblems(source, parsed.error)), ...crossCheck(data, source, ctx)]
  return !parsed.success || all.length > 0 ? { value: null, problems: all } : { value: build(parsed.data, sha256, source), problems: [] }
}

export function checkPolicyFile(path: string, ctx: LenientPolicyContext): Checked<Policy> {
  const { bytes, text, problems } = readText(path)
  return text === null || bytes === null ? { value: null, problems } : checkPolicyText(text, path, ctx, sha256Hex(bytes))
}

/** @throws ReferenceFileError listing every problem */
export const parsePolicy = (text: string, sourceName: string, ctx: PolicyContext): Policy => unwrap(checkPolicyText(text, sourceName, ctx))
/** @throws ReferenceFileError listing every problem */
export const loadPolicy = (path: string, ctx: PolicyContext): Policy => unwrap(checkPolicyFile(path, ctx))

export { validateParams, type ParamsResult } from './params.js'
export { PolicyFile, type PolicyFileData, compilePattern, parseDuration } from './policy-file.js'
