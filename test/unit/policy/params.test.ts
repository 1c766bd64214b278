import { describe, expect, it } from 'vitest'
import { loadReference } from '../../../src/policy/reference.js'
import { parsePolicy, validateParams } from '../../../src/policy/policy.js'
import { KNOWN_PRECONDITIONS } from '../../../src/policy/names.js'
import { SHARED_DIR, paths } from './fixtures.js'

const { catalog, taxonomy, policy } = loadReference(paths(SHARED_DIR))
const check = (actionId: string, params: unknown) => validateParams(policy, actionId, params, catalog)

describe('validateParams (shared reference policy and catalog)', () => {
  it('accepts restart_workload on an http-service and freezes the result', () => {
    const result = check('restart_workload', { service: 'checkout-api', workload: 'web' })
    expect(result).toEqual({ ok: true, params: { service: 'checkout-api', workload: 'web' } })
    expect(result.ok && Object.isFrozen(result.params)).toBe(true)
  })

  it('canonicalises an alias (case-insensitive) to the service name', () => {
    expect(check('restart_workload', { service: 'PGW', workload: 'api' })).toEqual({ ok: true, params: { service: 'payments-gateway', workload: 'api' } })
  })

  it('rejects a service whose kind the action does not apply to', () => {
    expect(check('restart_workload', { service: 'orders-db', workload: 'primary' })).toEqual({
      ok: false,
      problems: ['restart_workload: param "service": orders-db is a postgres; restart_workload applies only to http-service, worker, stream-consumer'],
    })
    expect(check('failover_database', { service: 'pg-orders' })).toEqual({ ok: true, params: { service: 'orders-db' } })
  })

  it('rejects an unknown service', () => {
    expect(check('pause_pipeline', { service: 'payroll-etl' })).toEqual({ ok: false, problems: ['pause_pipeline: param "service": "payroll-etl" is not a service in the catalog'] })
  })

  it('rejects a pattern violation, matching the whole value', () => {
    expect(check('restart_workload', { service: 'checkout', workload: 'Bad Name!' })).toEqual({
      ok: false,
      problems: ['restart_workload: param "workload": "Bad Name!" does not match ^[a-z0-9-]{1,63}$'],
    })
    expect(check('restart_workload', { service: 'checkout', workload: 'web\nweb' }).ok).toBe(false)
  })

  it('rejects integers out of range and non-integers', () => {
    for (const replicas of [0, 51]) {
      expect(check('scale_workload', { service: 'checkout', replicas })).toEqual({
        ok: false,
        problems: [`scale_workload: param "replicas": ${replicas} is out of range (integer ≥ 1 ≤ 50)`],
      })
    }
    expect(check('scale_workload', { service: 'checkout', replicas: 50 })).toEqual({ ok: true, params: { service: 'checkout-api', replicas: 50 } })
    for (const replicas of ['3', 2.5, null]) expect(check('scale_workload', { service: 'checkout', replicas }).ok).toBe(false)
  })

  it('rejects missing, extra and non-object params; reports every problem', () => {
    expect(check('restart_workload', { service: 'checkout' })).toEqual({ ok: false, problems: ['restart_workload: missing param "workload" (string matching ^[a-z0-9-]{1,63}$)'] })
    expect(check('disable_feature_flag', { flag: 'new_checkout', force: true })).toEqual({ ok: false, problems: ['disable_feature_flag: unknown param "force" (declared: flag)'] })
    expect(check('restart_workload', { workload: 'BAD', extra: 1 })).toMatchObject({ ok: false, problems: { length: 3 } })
    expect(check('restart_workload', ['checkout', 'web'])).toMatchObject({ ok: false })
    expect(check('restart_workload', null)).toMatchObject({ ok: false })
  })

  it('rejects an unknown action', () => {
    expect(check('delete_database', { service: 'orders-db' })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^unknown action "delete_database" \(known: restart_workload, scale_workload, /)],
    })
    expect(check('__proto__', {}).ok).toBe(false)
  })
})

describe('validateParams: blast radius, enum and boolean', () => {
  const custom = parsePolicy(
    `
version: 1
defaults: { proposal_ttl: 1h, approver_roles: [sre] }
actions:
  drain_between:
    description: Move traffic from one service to another.
    risk: medium
    params:
      from: { type: service }
      to: { type: service }
      mode: { type: enum, values: [gradual, immediate] }
      dry_run: { type: boolean }
    blast_radius: { max_services: 1 }
    approvals: 1
`,
    'policy.yaml',
    { catalog, taxonomy, knownPreconditions: KNOWN_PRECONDITIONS },
  )
  const drain = (params: unknown) => validateParams(custom, 'drain_between', params, catalog)

  it('counts distinct services after canonicalisation', () => {
    expect(drain({ from: 'checkout', to: 'CHECKOUT-API', mode: 'gradual', dry_run: true })).toMatchObject({ ok: true, params: { from: 'checkout-api', to: 'checkout-api' } })
    expect(drain({ from: 'checkout', to: 'pgw', mode: 'gradual', dry_run: false })).toEqual({
      ok: false,
      problems: ['drain_between: names 2 services (checkout-api, payments-gateway); blast_radius.max_services is 1'],
    })
  })

  it('checks enum and boolean values', () => {
    expect(drain({ from: 'checkout', to: 'checkout', mode: 'all-at-once', dry_run: 'yes' })).toEqual({
      ok: false,
      problems: [
        'drain_between: param "mode": expected one of gradual, immediate, got "all-at-once"',
        'drain_between: param "dry_run": expected boolean, got "yes"',
      ],
    })
  })
})
