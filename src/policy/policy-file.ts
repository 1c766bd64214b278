import { z } from 'zod'

// The policy file format (structure only). Checks that need other files — precondition names,
// kinds, failure classes, roles — live in policy.ts, which knows the catalog and taxonomy.
// Objects are strict: an unknown key is an error, so `preconditons:` cannot silently drop a guard.

const ID = /^[a-z][a-z0-9_]*$/
const DURATION = /^([1-9]\d*)(s|m|h|d)$/
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const
const text = z.string().refine((s) => s.trim() !== '', 'must not be empty')
const id = z.string().regex(ID, 'must be lower_snake_case')
const duration = z.string().regex(DURATION, 'must be a duration such as 30m, 2h or 1d')
const roles = z.array(text).min(1, 'must list at least one role')

/** "30m" → 1_800_000; null when not of the form <positive integer><s|m|h|d>. */
export function parseDuration(value: string): number | null {
  const m = DURATION.exec(value)
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : null
}

/** Params hold untrusted model output: a pattern must match the whole value, whatever the author wrote. */
export const compilePattern = (pattern: string): RegExp => new RegExp(`^(?:${pattern})$`, 'u')

const ParamSpecFile = z
  .strictObject({
    type: z.enum(['service', 'string', 'integer', 'boolean', 'enum']),
    pattern: z.string().optional(),
    min: z.number().int().optional(),
    max: z.number().int().optional(),
    values: z.array(text).min(1).optional(),
  })
  .superRefine((p, ctx) => {
    const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: [key], message })
    if (p.pattern !== undefined && p.type !== 'string') issue('pattern', `only applies to type string (this is ${p.type})`)
    else if (p.pattern !== undefined) {
      try {
        compilePattern(p.pattern)
      } catch (err) {
        issue('pattern', `is not a valid regular expression: ${(err as Error).message}`)
      }
    }
    if (p.type !== 'integer' && (p.min !== undefined || p.max !== undefined)) issue(p.min !== undefined ? 'min' : 'max', `only applies to type integer (this is ${p.type})`)
    if (p.min !== undefined && p.max !== undefined && p.min > p.max) issue('min', `min ${p.min} is greater than max ${p.max}`)
    if (p.type === 'enum' && p.values === undefined) issue('values', 'is required for type enum')
    if (p.type !== 'enum' && p.values !== undefined) issue('values', `only applies to type enum (this is ${p.type})`)
  })

const ActionFile = z
  .strictObject({
    description: text,
    risk: z.enum(['low', 'medium', 'high']),
    applies_to: z.strictObject({ kinds: z.array(text).min(1) }).optional(),
    params: z.record(id, ParamSpecFile),
    recommended_for: z.array(text).default([]),
    preconditions: z.array(text).default([]),
    blast_radius: z.strictObject({ max_services: z.number().int().min(1).optional(), max_scale_factor: z.number().min(1).optional() }).optional(),
    // Roles are groups, so two approvals from one role is fine; more than five is a policy nobody can satisfy at 3am.
    approvals: z.number().int().min(1).max(5),
    approver_roles: roles.optional(),
    ttl: duration.optional(),
    forbid_self_approval: z.boolean().optional(),
  })
  .superRefine((a, ctx) => {
    if (a.applies_to && !Object.values(a.params).some((p) => p.type === 'service'))
      ctx.addIssue({ code: 'custom', path: ['applies_to'], message: 'has no effect: the action has no param of type service' })
  })

export const PolicyFile = z.strictObject({
  version: z.number().int().positive(),
  defaults: z.strictObject({ proposal_ttl: duration, approver_roles: roles, forbid_self_approval: z.boolean().default(true) }),
  actions: z.record(id, ActionFile),
})
export type PolicyFileData = z.infer<typeof PolicyFile>
