import type { Hono } from 'hono'
import { z } from 'zod'
import { API_ROLES, type ApiRole } from './auth/roles.js'
import { AlertIntakeOutput, AlertSourceParam, AssessmentOutput } from './routes/alerts.js'
import { AuditListInput, AuditListOutput, AuditVerifyOutput } from './routes/audit.js'
import { ClaimInput, CompleteHandoffInput, HandoffClaimOutput, HandoffCompleteOutput } from './routes/handoffs.js'
import { AskInput } from './routes/knowledge.js'
import { SearchHit } from '../knowledge/search.js'
import {
  ApproveInput, ApproveOutput, DecisionOutput, ListProposalsInput, ProposalCreateOutput, ProposalDetailOutput, ProposalListOutput, ProposeInput, RejectInput, WithdrawInput,
} from './routes/proposals.js'
import { CreateTokenInput, TokenCreateOutput, TokenListOutput, TokenRevokeOutput } from './routes/tokens.js'
import type { AppEnv } from './types.js'

// The OpenAPI 3.1 document, generated from the zod schemas the routes validate with. ROUTES is the one table
// of the JSON API: the document is built from it and the route × role test matrix iterates over it, and a test
// compares it with the routes the app actually registered — so a route added without a descriptor (or a
// descriptor left behind by a removed route) fails a test that names it. To add a route: add a row here.

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export interface RouteDescriptor {
  method: HttpMethod
  /** Hono syntax (`/v1/proposals/:id`); converted to `{id}` in the document. */
  path: string
  /** API roles, any one of which lets a caller in (admin holds all). Empty: public, no token needed. */
  roles: readonly ApiRole[]
  operationId: string
  summary: string
  description?: string
  tag: string
  query?: z.ZodType
  body?: z.ZodType
  /** Body optional (an empty request body reads as `{}`). */
  bodyOptional?: boolean
  response?: z.ZodType
  /** Success body media type when it is not JSON (default application/json). */
  contentType?: string
  /** Success status (default 200). */
  status?: number
  /** Other success status, e.g. 200 for an idempotent re-create answered by 201. */
  alsoStatus?: { status: number; description: string }
  /** Error statuses besides those derived from auth, body, query and path params. */
  errors?: readonly number[]
  /** A concrete path for tests when `:param` placeholders would not reach authorisation (e.g. an enum). */
  examplePath?: string
}

/** Routes with their own authentication and non-JSON bodies, kept out of this document (and the table). */
export const UNDESCRIBED_PREFIXES = Object.freeze(['/ui', '/v1/slack'])

/** GET /v1/search query, as sent over HTTP (the domain's SearchInput names `q` `query`). */
export const SearchQuery = z.object({
  q: z.string().min(1).max(2000),
  service: z.string().optional(),
  team: z.string().optional(),
  kind: z.enum(['runbook', 'case_study', 'telemetry', 'doc']).optional(),
  k: z.coerce.number().int().min(1).max(50).optional(),
  mode: z.enum(['hybrid', 'fts', 'vector']).optional(),
})
export const SearchOutput = z.object({ hits: z.array(SearchHit) })
export const AlertIntakeQuery = z.object({ wait: z.enum(['true', 'false']).optional() })
/** Stored records other modules own and describe in their own types; documented as objects. */
const StoredRecord = z.record(z.string(), z.unknown())
const HealthOutput = z.object({ status: z.literal('ok') })
const ReadyOutput = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.unknown()) })

export const ErrorOutput = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    requestId: z.string(),
    /** 422: the failing paths `[{path, message}]`; domain refusals: `{reason, details?}` with a stable reason. */
    details: z.unknown().optional(),
  }),
})

const oncallReads = ['oncall'] as const
const reviewers = ['reviewer'] as const

export const ROUTES: readonly RouteDescriptor[] = Object.freeze([
  { method: 'GET', path: '/healthz', roles: [], operationId: 'healthz', tag: 'health', summary: 'Liveness', response: HealthOutput },
  { method: 'GET', path: '/readyz', roles: [], operationId: 'readyz', tag: 'health', summary: 'Readiness: database, migrations, knowledge, policy in force', response: ReadyOutput, errors: [503] },
  { method: 'GET', path: '/openapi.json', roles: [], operationId: 'openapi', tag: 'health', summary: 'This document', response: StoredRecord },
  {
    method: 'GET', path: '/metrics', roles: [], operationId: 'metrics', tag: 'health', summary: 'Prometheus metrics (text exposition format)', contentType: 'text/plain; version=0.0.4',
    description: 'Unauthenticated, for in-cluster scraping: do not expose it publicly. Names and labels: README, "Observability".',
  },

  {
    method: 'POST', path: '/v1/alerts/:source', roles: ['webhook'], operationId: 'receiveAlert', tag: 'alerts', summary: 'Alert intake (Alertmanager, Grafana, PagerDuty, generic)',
    description: 'Stores the alert and queues its assessment. Authenticates with a `webhook` token, or with the source\'s own signature (Grafana HMAC, PagerDuty v1) when configured.',
    query: AlertIntakeQuery, response: AlertIntakeOutput, status: 202, examplePath: '/v1/alerts/alertmanager',
  },
  { method: 'GET', path: '/v1/alerts/:id', roles: oncallReads, operationId: 'getAlert', tag: 'alerts', summary: 'A stored alert', response: StoredRecord },
  { method: 'GET', path: '/v1/assessments/:id', roles: oncallReads, operationId: 'getAssessment', tag: 'alerts', summary: 'An assessment with its evidence pack, draft, guard findings, provenance and its citations resolved to source, heading path and passage', response: AssessmentOutput },
  { method: 'GET', path: '/v1/search', roles: oncallReads, operationId: 'search', tag: 'knowledge', summary: 'Hybrid search over the knowledge base', query: SearchQuery, response: SearchOutput },
  { method: 'POST', path: '/v1/ask', roles: oncallReads, operationId: 'ask', tag: 'knowledge', summary: 'Ask an on-call question: cited answer or a refusal with a reason', body: AskInput, response: StoredRecord },

  { method: 'GET', path: '/v1/proposals', roles: oncallReads, operationId: 'listProposals', tag: 'proposals', summary: 'Proposals, newest first', query: ListProposalsInput, response: ProposalListOutput },
  { method: 'GET', path: '/v1/proposals/:id', roles: oncallReads, operationId: 'getProposal', tag: 'proposals', summary: 'A proposal, its approvals, its hand-off and its preconditions evaluated now', response: ProposalDetailOutput },
  {
    method: 'POST', path: '/v1/proposals', roles: ['oncall'], operationId: 'propose', tag: 'proposals', summary: 'Open a proposal for a policy action (requester: the token\'s identity)',
    body: ProposeInput, response: ProposalCreateOutput, status: 201, alsoStatus: { status: 200, description: 'An equal proposal is already open: returned as it is' }, errors: [409],
  },
  { method: 'POST', path: '/v1/proposals/:id/approve', roles: reviewers, operationId: 'approveProposal', tag: 'proposals', summary: 'Approve as the token\'s identity (needs one of the proposal\'s approver roles)', body: ApproveInput, response: ApproveOutput, errors: [409] },
  { method: 'POST', path: '/v1/proposals/:id/reject', roles: reviewers, operationId: 'rejectProposal', tag: 'proposals', summary: 'Reject as the token\'s identity (needs one of the proposal\'s approver roles)', body: RejectInput, response: DecisionOutput, errors: [409] },
  { method: 'POST', path: '/v1/proposals/:id/withdraw', roles: ['oncall'], operationId: 'withdrawProposal', tag: 'proposals', summary: 'Withdraw (the requester, or oncall-lead / admin)', body: WithdrawInput, response: DecisionOutput, errors: [409] },

  { method: 'POST', path: '/v1/handoffs/claim', roles: ['executor'], operationId: 'claimHandoffs', tag: 'handoffs', summary: 'Lease approved actions for this executor (pull hand-off)', body: ClaimInput, bodyOptional: true, response: HandoffClaimOutput },
  { method: 'POST', path: '/v1/handoffs/:proposalId/complete', roles: ['executor'], operationId: 'completeHandoff', tag: 'handoffs', summary: 'Confirm a claimed action was taken over: the proposal becomes handed_off', body: CompleteHandoffInput, bodyOptional: true, response: HandoffCompleteOutput, errors: [409] },

  { method: 'GET', path: '/v1/audit', roles: reviewers, operationId: 'listAudit', tag: 'audit', summary: 'Audit rows with their hashes', query: AuditListInput, response: AuditListOutput },
  { method: 'GET', path: '/v1/audit/verify', roles: reviewers, operationId: 'verifyAudit', tag: 'audit', summary: 'Walk the hash chain; ok false names the first broken link', response: AuditVerifyOutput },

  { method: 'POST', path: '/v1/tokens', roles: ['admin'], operationId: 'createToken', tag: 'tokens', summary: 'Create an API token; the secret is returned this once', body: CreateTokenInput, response: TokenCreateOutput, status: 201 },
  { method: 'GET', path: '/v1/tokens', roles: ['admin'], operationId: 'listTokens', tag: 'tokens', summary: 'API tokens (never their secrets or hashes)', response: TokenListOutput },
  { method: 'DELETE', path: '/v1/tokens/:id', roles: ['admin'], operationId: 'revokeToken', tag: 'tokens', summary: 'Revoke a token', response: TokenRevokeOutput, errors: [409] },
] satisfies RouteDescriptor[])

/** `/v1/proposals/:id` → `/v1/proposals/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}')
export const pathParams = (path: string): string[] => [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!)

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  // Transforms and similar have no JSON Schema form: documented as "any" rather than failing the document.
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>
  return rest
}

const ERROR_TEXT: Record<number, string> = {
  400: 'Malformed JSON', 401: 'No, invalid or revoked bearer token', 403: 'Authenticated, but the token lacks a role for this route (or the domain refused this identity)',
  404: 'Unknown resource', 409: 'State conflict (already decided, expired, precondition no longer holds, …)', 413: 'Body too large',
  422: 'Input does not match the schema: details lists every failing path', 503: 'Not ready',
}

/**
 * OpenAPI treats `/v1/alerts/{source}` and `/v1/alerts/{id}` as the same path (templated names do not count),
 * so routes whose paths differ only in parameter names share the first one's key; their parameters take the
 * key's names and say what they really are.
 */
function documentedPaths(routes: readonly RouteDescriptor[]): Map<RouteDescriptor, { key: string; names: string[] }> {
  const byShape = new Map<string, RouteDescriptor>()
  const out = new Map<RouteDescriptor, { key: string; names: string[] }>()
  for (const d of routes) {
    const shape = d.path.replace(/:[A-Za-z_][A-Za-z0-9_]*/g, ':')
    const first = byShape.get(shape) ?? d
    byShape.set(shape, first)
    out.set(d, { key: openApiPath(first.path), names: pathParams(first.path) })
  }
  return out
}

function operation(d: RouteDescriptor, names: string[]): Record<string, unknown> {
  const params = pathParams(d.path).map((name, i) => ({
    name: names[i] ?? name, in: 'path', required: true,
    ...(names[i] && names[i] !== name ? { description: `the ${name}` } : {}),
    schema: name === 'source' && d.path.startsWith('/v1/alerts/') ? jsonSchema(AlertSourceParam, 'input') : { type: 'string' },
  }))
  const query = d.query ? jsonSchema(d.query, 'input') : null
  const qprops = (query?.properties ?? {}) as Record<string, Record<string, unknown>>
  const qreq = new Set((query?.required ?? []) as string[])
  const parameters = [...params, ...Object.entries(qprops).map(([name, schema]) => ({ name, in: 'query', required: qreq.has(name), schema }))]

  const errors = new Set<number>(d.errors ?? [])
  if (d.roles.length > 0) (errors.add(401), errors.add(403))
  if (d.body) (errors.add(400), errors.add(413), errors.add(422))
  if (d.query || params.length > 0) errors.add(422)
  if (params.length > 0) errors.add(404)
  const ok = { description: d.summary, content: { [d.contentType ?? 'application/json']: { schema: d.response ? jsonSchema(d.response, 'output') : d.contentType ? { type: 'string' } : {} } } }
  const responses: Record<string, unknown> = { [String(d.status ?? 200)]: ok }
  if (d.alsoStatus) responses[String(d.alsoStatus.status)] = { ...ok, description: d.alsoStatus.description }
  for (const s of [...errors].sort()) responses[String(s)] = { description: ERROR_TEXT[s] ?? 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } }

  return {
    operationId: d.operationId, summary: d.summary, ...(d.description ? { description: d.description } : {}), tags: [d.tag],
    security: d.roles.length > 0 ? [{ bearerAuth: [] }] : [],
    'x-roles': [...d.roles],
    ...(parameters.length ? { parameters } : {}),
    ...(d.body ? { requestBody: { required: !d.bodyOptional, content: { 'application/json': { schema: jsonSchema(d.body, 'input') } } } } : {}),
    responses,
  }
}

export function buildOpenApi(opts: { version?: string; routes?: readonly RouteDescriptor[] } = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const [d, { key, names }] of documentedPaths(opts.routes ?? ROUTES)) (paths[key] ??= {})[d.method.toLowerCase()] = operation(d, names)
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warden API',
      version: opts.version ?? '1',
      description:
        'Incident assistant whose AI is bounded by design: it drafts cited recommendations and may propose policy actions for humans to approve; it never executes anything. ' +
        `Each operation lists in x-roles the API roles (${API_ROLES.join(', ')}) any one of which admits a caller; admin holds every role and reviewer implies oncall. ` +
        'Approver roles (sre, dba, oncall-lead, …) ride on the same token and are checked by the approval queue.',
    },
    servers: [{ url: '/' }],
    security: [{ bearerAuth: [] }],
    tags: [...new Set((opts.routes ?? ROUTES).map((d) => d.tag))].map((name) => ({ name })),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'An API token (`wdn_…`), created by an admin; stored hashed, shown once.' } },
      schemas: { Error: jsonSchema(ErrorOutput, 'output') },
    },
  }
}

export function registerOpenApiRoute(app: Hono<AppEnv>): void {
  let doc: Record<string, unknown> | null = null
  // Public: the document says what each route needs, nothing about any principal. Built once, on first request.
  app.get('/openapi.json', (c) => c.json((doc ??= buildOpenApi())))
}
