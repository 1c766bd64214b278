// Vocabularies the code implements. A policy may only name what is listed here: a precondition
// nobody evaluates would read as a safety check while checking nothing, and an approver role
// nobody holds would make an action impossible to approve.

/** Preconditions the proposal evaluator implements (by this exact name). */
export const KNOWN_PRECONDITIONS = Object.freeze([
  'service_known',
  'telemetry_safe',
  'recent_deploy_in_evidence',
  'replication_lag_below_30s',
  'telemetry_fresh',
] as const)
export type PreconditionName = (typeof KNOWN_PRECONDITIONS)[number]

/** Roles a human approver can hold. */
export const KNOWN_ROLES = Object.freeze([
  'oncall',
  'oncall-lead',
  'sre',
  'dba',
  'incident-commander',
  'identity-admin',
  'reviewer',
  'admin',
] as const)
export type RoleName = (typeof KNOWN_ROLES)[number]

/**
 * Service kinds a policy may target even when the loaded catalog has no service of that kind yet
 * (a policy is shared across catalogs; a small catalog must not make a valid policy invalid).
 * Anything else must appear in the catalog, which catches typos such as `http-servce`.
 */
export const BUILTIN_KINDS = Object.freeze([
  'http-service',
  'worker',
  'stream-consumer',
  'postgres',
  'pipeline',
  'ci',
  'iac',
  'cluster',
  'ingress',
] as const)

/** Severities in decreasing urgency: page = must act now, ticket = should fix, log = context only. */
export const SEVERITIES = Object.freeze(['page', 'ticket', 'log'] as const)
export type Severity = (typeof SEVERITIES)[number]
