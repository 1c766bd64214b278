import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { loadCatalog, parseCatalog } from '../../../src/policy/catalog.js'
import { KNOWN_PRECONDITIONS, KNOWN_ROLES } from '../../../src/policy/names.js'
import { loadPolicy, parseDuration, parsePolicy } from '../../../src/policy/policy.js'
import { loadTaxonomy, parseTaxonomy } from '../../../src/policy/taxonomy.js'
import { DEMO_DIR, SHARED_DIR, SMALL_CATALOG, SMALL_TAXONOMY, problemsOf } from './fixtures.js'

const ctx = {
  catalog: parseCatalog(SMALL_CATALOG, 'catalog.yaml'),
  taxonomy: parseTaxonomy(SMALL_TAXONOMY, 'taxonomy.yaml'),
  knownPreconditions: KNOWN_PRECONDITIONS,
  knownRoles: KNOWN_ROLES,
}

const POLICY = `
version: 1
defaults:
  proposal_ttl: 2h
  approver_roles: [oncall-lead, sre]
  forbid_self_approval: true
actions:
  restart_workload:
    description: Rolling restart.
    risk: low
    applies_to: { kinds: [http-service] }
    params:
      service: { type: service }
      workload: { type: string, pattern: "^[a-z0-9-]{1,63}$" }
      replicas: { type: integer, min: 1, max: 50 }
    recommended_for: [resource_exhaustion]
    preconditions: [service_known, telemetry_safe]
    blast_radius: { max_services: 1 }
    approvals: 1
  failover_database:
    description: Promote the replica.
    risk: high
    applies_to: { kinds: [postgres] }
    params:
      service: { type: service }
    preconditions: [service_known]
    approvals: 2
    approver_roles: [dba]
    ttl: 30m
    forbid_self_approval: false
`
const bad = (edit: (text: string) => string) => problemsOf(() => parsePolicy(edit(POLICY), 'policy.yaml', ctx))

describe('policy: reference files', () => {
  for (const dir of [SHARED_DIR, DEMO_DIR]) {
    it(`loads ${dir.split('/').slice(-3).join('/')}/policy.yaml`, () => {
      const policy = loadPolicy(`${dir}/policy.yaml`, { ...ctx, catalog: loadCatalog(`${dir}/catalog.yaml`), taxonomy: loadTaxonomy(`${dir}/taxonomy.yaml`) })
      expect(policy.version).toBe(7)
      expect(policy.action('restart_workload')?.approverRoles).toEqual(['oncall-lead', 'sre'])
      expect(policy.action('failover_database')).toMatchObject({ approvals: 2, approverRoles: ['dba', 'incident-commander'], ttlMs: 2 * 3_600_000, forbidSelfApproval: true, risk: 'high' })
      expect(policy.action('scale_workload')?.blastRadius).toEqual({ maxServices: 1, maxScaleFactor: 2 })
      expect(policy.action('delete_everything')).toBeNull()
      // sha256 is of the file bytes, and stable across loads
      expect(policy.sha256).toBe(createHash('sha256').update(readFileSync(`${dir}/policy.yaml`)).digest('hex'))
      expect(loadPolicy(`${dir}/policy.yaml`, { ...ctx, catalog: loadCatalog(`${dir}/catalog.yaml`), taxonomy: loadTaxonomy(`${dir}/taxonomy.yaml`) }).sha256).toBe(policy.sha256)
    })
  }
})

describe('policy: defaults and overrides', () => {
  const policy = parsePolicy(POLICY, 'policy.yaml', ctx)

  it('applies defaults unless the action overrides them', () => {
    expect(policy.defaults).toEqual({ ttlMs: 7_200_000, approverRoles: ['oncall-lead', 'sre'], forbidSelfApproval: true })
    expect(policy.action('restart_workload')).toMatchObject({ ttlMs: 7_200_000, approverRoles: ['oncall-lead', 'sre'], forbidSelfApproval: true, recommendedFor: ['resource_exhaustion'] })
    expect(policy.action('failover_database')).toMatchObject({ ttlMs: 1_800_000, approverRoles: ['dba'], forbidSelfApproval: false, recommendedFor: [], blastRadius: { maxServices: null, maxScaleFactor: null } })
    expect(Object.isFrozen(policy.action('restart_workload')?.params)).toBe(true)
  })

  it('sha256 depends on the bytes only', () => {
    expect(parsePolicy(POLICY, 'other-name.yaml', ctx).sha256).toBe(policy.sha256)
    expect(parsePolicy(`${POLICY}# comment\n`, 'policy.yaml', ctx).sha256).not.toBe(policy.sha256)
  })

  it('parses durations', () => {
    expect([parseDuration('30m'), parseDuration('2h'), parseDuration('1d'), parseDuration('45s')]).toEqual([1_800_000, 7_200_000, 86_400_000, 45_000])
    expect([parseDuration('0h'), parseDuration('2 h'), parseDuration('1w'), parseDuration('-1h')]).toEqual([null, null, null, null])
  })
})

describe('policy: load errors name the file and the YAML path', () => {
  it('unknown precondition', () => {
    expect(bad((t) => t.replace('[service_known, telemetry_safe]', '[service_known, telemetry_sane]'))).toEqual([
      `policy.yaml: actions.restart_workload.preconditions[1]: "telemetry_sane" is not a precondition Warden implements (known: ${KNOWN_PRECONDITIONS.join(', ')})`,
    ])
  })

  it('unknown kind (neither in the catalog nor built in); built-in kinds absent from the catalog are fine', () => {
    expect(bad((t) => t.replace('kinds: [http-service]', 'kinds: [http-servce, pipeline]'))).toEqual([
      expect.stringMatching(/^policy\.yaml: actions\.restart_workload\.applies_to\.kinds\[0\]: "http-servce" is not a service kind \(known: http-service, worker/),
    ])
  })

  it('unknown failure class', () => {
    expect(bad((t) => t.replace('recommended_for: [resource_exhaustion]', 'recommended_for: [oom]'))).toEqual([
      'policy.yaml: actions.restart_workload.recommended_for[0]: "oom" is not a failure class in the taxonomy (known: resource_exhaustion, unknown)',
    ])
  })

  it('unknown approver role, in defaults and in an override', () => {
    expect(bad((t) => t.replace('[oncall-lead, sre]', '[oncall-lead, sres]').replace('approver_roles: [dba]', 'approver_roles: [dba, dbas]'))).toEqual([
      expect.stringMatching(/^policy\.yaml: defaults\.approver_roles\[1\]: "sres" is not a known approver role \(known: oncall, /),
      expect.stringMatching(/^policy\.yaml: actions\.failover_database\.approver_roles\[1\]: "dbas" is not a known approver role/),
    ])
    // Without knownRoles any role name is accepted.
    const { knownRoles: _omit, ...noRoles } = ctx
    expect(parsePolicy(POLICY.replace('[dba]', '[dbas]'), 'policy.yaml', noRoles).action('failover_database')?.approverRoles).toEqual(['dbas'])
  })

  it('bad pattern regex', () => {
    expect(bad((t) => t.replace('"^[a-z0-9-]{1,63}$"', '"^[a-z0-9-{1,63}$"'))).toEqual([
      expect.stringMatching(/^policy\.yaml: actions\.restart_workload\.params\.workload\.pattern: is not a valid regular expression: /),
    ])
  })

  it('min > max, approvals out of range, bad ttl, unknown risk, unknown key — all at once', () => {
    const problems = bad((t) =>
      t.replace('min: 1, max: 50', 'min: 51, max: 50').replace('approvals: 2', 'approvals: 6').replace('ttl: 30m', 'ttl: 30 minutes').replace('risk: low', 'risk: trivial').replace('preconditions: [service_known]\n', 'preconditons: [service_known]\n'),
    )
    expect(problems).toEqual(
      expect.arrayContaining([
        'policy.yaml: actions.restart_workload.params.replicas.min: min 51 is greater than max 50',
        expect.stringMatching(/^policy\.yaml: actions\.failover_database\.approvals: Too big/),
        'policy.yaml: actions.failover_database.ttl: must be a duration such as 30m, 2h or 1d',
        expect.stringMatching(/^policy\.yaml: actions\.restart_workload\.risk: /),
        expect.stringMatching(/^policy\.yaml: actions\.failover_database: unknown key "preconditons"/),
      ]),
    )
    expect(problems).toHaveLength(5)
    expect(bad((t) => t.replace('approvals: 1', 'approvals: 0'))).toEqual([expect.stringMatching(/^policy\.yaml: actions\.restart_workload\.approvals: Too small/)])
  })

  it('reports reference problems even when the schema fails elsewhere', () => {
    expect(bad((t) => t.replace('risk: low', 'risk: 3').replace('[service_known]', '[service_knwon]'))).toHaveLength(2)
  })

  it('YAML syntax error with line', () => {
    expect(problemsOf(() => parsePolicy('version: 1\nactions:\n  a: {\n', 'policy.yaml', ctx))).toEqual([
      expect.stringMatching(/^policy\.yaml: line \d+, column \d+: YAML syntax error: /),
    ])
  })
})
