import { KNOWN_ROLES } from '../../policy/names.js'

// API roles. `webhook` can only deliver alerts; `oncall` asks, reads and proposes; `reviewer` also approves
// and rejects (whether a reviewer may approve a given action is the policy's approver roles, checked by the
// approval queue); `executor` claims approved hand-offs; `admin` can do everything a route allows.
// Approver roles of the policy (`oncall-lead`, `sre`, `dba`, …) ride on the same token.
export const API_ROLES = Object.freeze(['webhook', 'oncall', 'reviewer', 'executor', 'admin'] as const)
export type ApiRole = (typeof API_ROLES)[number]

/** Every role a token may carry: API roles plus the approver roles the policy vocabulary knows. */
export const TOKEN_ROLES: readonly string[] = Object.freeze([...new Set<string>([...API_ROLES, ...KNOWN_ROLES])])

// A reviewer is also on call; admin implies every API role. The approver roles are never implied: a policy
// that asks for a `dba` gets a token that says `dba`.
const IMPLIED: Record<string, readonly ApiRole[]> = {
  admin: API_ROLES,
  reviewer: ['reviewer', 'oncall'],
}

export interface Principal {
  /** Who is acting; the approval queue's requester / reviewer id. */
  readonly identity: string
  readonly roles: readonly string[]
  /** How they authenticated: `token:<id>`, `slack:<team>/<user>`, `source:<name>`, `session:<token id>`. */
  readonly via: string
}

export function hasRole(p: Pick<Principal, 'roles'> | null | undefined, role: ApiRole): boolean {
  if (!p) return false
  return p.roles.some((r) => r === role || (IMPLIED[r]?.includes(role) ?? false))
}

export function hasAnyRole(p: Pick<Principal, 'roles'> | null | undefined, roles: readonly ApiRole[]): boolean {
  return roles.some((r) => hasRole(p, r))
}

/** The approval queue's Identity for an authenticated human. */
export function identityOf(p: Principal): { id: string; roles: string[]; kind: 'human' } {
  return { id: p.identity, roles: [...p.roles], kind: 'human' }
}
