import type { Catalog } from './catalog.js'
import type { ParamSpec, Policy, PolicyAction } from './policy.js'
import { asRecord, known } from './yaml.js'

// Checks the params of a proposed action before anything else looks at them. Params come from the
// model, so they are untrusted: every declared param is required, nothing undeclared passes, service
// names must resolve in the catalog (aliases are rewritten to the canonical name so later steps and
// the audit log see one spelling), and the result is frozen.
//
// blast_radius.max_services is enforced here because it only needs the params. max_scale_factor is
// not: it compares the requested replicas with the current replica count, which only telemetry
// knows, so it is evaluated with the preconditions, where telemetry is available.

export type ParamsResult =
  | { readonly ok: true; readonly params: Readonly<Record<string, unknown>> }
  | { readonly ok: false; readonly problems: string[] }

/** Untrusted values are echoed in problems, so keep them short. */
function show(value: unknown): string {
  const s = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value)
  return s.length > 80 ? `${s.slice(0, 77)}…` : s
}

function describe(spec: ParamSpec): string {
  if (spec.type === 'string' && spec.pattern !== undefined) return `string matching ${spec.pattern}`
  if (spec.type === 'integer') return `integer${spec.min !== undefined ? ` ≥ ${spec.min}` : ''}${spec.max !== undefined ? ` ≤ ${spec.max}` : ''}`
  if (spec.type === 'enum') return `one of ${spec.values?.join(', ')}`
  return spec.type
}

/** The canonical value, or the reason it is rejected. */
function checkValue(action: PolicyAction, spec: ParamSpec, value: unknown, catalog: Catalog): { value: unknown } | string {
  const expected = `expected ${describe(spec)}, got ${show(value)}`
  switch (spec.type) {
    case 'service': {
      if (typeof value !== 'string') return expected
      const service = catalog.service(value)
      if (!service) return `${show(value)} is not a service in the catalog`
      const kinds = action.appliesTo?.kinds
      if (kinds && !kinds.includes(service.kind))
        return `${service.name} is a ${service.kind}; ${action.id} applies only to ${kinds.join(', ')}`
      return { value: service.name }
    }
    case 'string':
      if (typeof value !== 'string') return expected
      return spec.regex && !spec.regex.test(value) ? `${show(value)} does not match ${spec.pattern}` : { value }
    case 'integer':
      // No coercion from "3": a model that cannot produce the declared type should not be guessed for.
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return expected
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) return `${value} is out of range (${describe(spec)})`
      return { value }
    case 'boolean':
      return typeof value === 'boolean' ? { value } : expected
    case 'enum':
      return typeof value === 'string' && spec.values?.includes(value) ? { value } : expected
  }
}

export function validateParams(policy: Policy, actionId: string, params: unknown, catalog: Catalog): ParamsResult {
  const action = policy.action(actionId)
  if (!action) return { ok: false, problems: [`unknown action ${show(actionId)} ${known(policy.actions.keys())}`] }
  const input = asRecord(params)
  if (!input) return { ok: false, problems: [`${action.id}: params must be an object, got ${show(params)}`] }
  const problems: string[] = []
  const declared = Object.keys(action.params)
  for (const key of Object.keys(input))
    if (!Object.hasOwn(action.params, key)) problems.push(`${action.id}: unknown param ${show(key)} (declared: ${declared.join(', ') || 'none'})`)
  const out: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(action.params)) {
    if (!Object.hasOwn(input, name) || input[name] === undefined) {
      problems.push(`${action.id}: missing param ${show(name)} (${describe(spec)})`)
      continue
    }
    const checked = checkValue(action, spec, input[name], catalog)
    if (typeof checked === 'string') problems.push(`${action.id}: param ${show(name)}: ${checked}`)
    else out[name] = checked.value
  }
  const max = action.blastRadius.maxServices
  const services = new Set(Object.entries(out).filter(([name]) => action.params[name]?.type === 'service').map(([, v]) => v))
  if (max !== null && services.size > max)
    problems.push(`${action.id}: names ${services.size} services (${[...services].join(', ')}); blast_radius.max_services is ${max}`)
  return problems.length > 0 ? { ok: false, problems } : { ok: true, params: Object.freeze(out) }
}
