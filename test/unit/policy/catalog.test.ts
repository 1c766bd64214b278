import { describe, expect, it } from 'vitest'
import { loadCatalog, parseCatalog } from '../../../src/policy/catalog.js'
import { DEMO_DIR, SHARED_DIR, SMALL_CATALOG, problemsOf } from './fixtures.js'

describe('catalog: reference files', () => {
  const shared = loadCatalog(`${SHARED_DIR}/catalog.yaml`)

  it('loads the shared and the demo catalog', () => {
    expect(shared.services.length).toBeGreaterThan(5)
    expect(loadCatalog(`${DEMO_DIR}/catalog.yaml`).resolveName('www')).toBe('storefront-web')
    expect(shared.kinds).toEqual(new Set(['http-service', 'postgres', 'stream-consumer', 'worker', 'pipeline', 'ci', 'iac', 'cluster', 'ingress']))
  })

  it('resolves names and aliases case-insensitively to the canonical name', () => {
    expect(shared.resolveName('pgw')).toBe('payments-gateway')
    expect(shared.resolveName('PGW')).toBe('payments-gateway')
    expect(shared.resolveName(' Payments-Gateway ')).toBe('payments-gateway')
    expect(shared.resolveName('sales_daily')).toBe('sales-etl')
    expect(shared.resolveName('payments-gate')).toBeNull()
    expect(shared.resolveName('')).toBeNull()
  })

  it('answers owners and dependencies, routing unknown services to default_team', () => {
    expect(shared.teamOf('pgw')).toBe('payments')
    expect(shared.teamOf('no-such-service')).toBe('sre-oncall')
    expect(shared.teamOf(null)).toBe('sre-oncall')
    expect(shared.dependenciesOf('checkout')).toEqual(['payments-gateway', 'inventory-svc', 'orders-db', 'order-events'])
    expect([...shared.dependentsOf('orders-db')].sort()).toEqual(['checkout-api', 'order-events'])
    expect(shared.service('nope')).toBeNull()
    expect(shared.service('eks-prod')?.kind).toBe('cluster')
  })

  it('slices one service for an evidence pack', () => {
    expect(shared.slice('PGW')).toEqual({
      service: 'payments-gateway',
      team: 'payments',
      tier: 1,
      kind: 'http-service',
      aliases: ['payments', 'payment-gw', 'pgw'],
      depends_on: ['identity-svc'],
      dependents: ['checkout-api'],
      team_contacts: { pager: 'payments-primary', chat: '#payments-oncall' },
    })
    expect(Object.isFrozen(shared.slice('pgw'))).toBe(true)
    expect(shared.slice('nope')).toBeNull()
  })
})

describe('catalog: load errors name the file and the YAML path', () => {
  const bad = (edit: (text: string) => string) => problemsOf(() => parseCatalog(edit(SMALL_CATALOG), 'catalog.yaml'))

  it('unknown team', () => {
    expect(bad((t) => t.replace('team: payments', 'team: paymnts'))).toEqual([
      'catalog.yaml: services[0].team: "paymnts" is not a team (known: ops, payments)',
    ])
  })

  it('unknown default_team', () => {
    expect(bad((t) => t.replace('default_team: ops', 'default_team: sre'))).toEqual([
      'catalog.yaml: default_team: "sre" is not a team (known: ops, payments)',
    ])
  })

  it('unknown dependency, with a hint when it is an alias', () => {
    expect(bad((t) => t.replace('depends_on: [payments-db]', 'depends_on: [payments-dbx, pg-payments]'))).toEqual([
      'catalog.yaml: services[0].depends_on[0]: "payments-dbx" is not a service (known: payments-api, payments-db)',
      'catalog.yaml: services[0].depends_on[1]: "pg-payments" is not a service; it is an alias of "payments-db", use the service name',
    ])
  })

  it('duplicate alias, also across case and against another service name', () => {
    const problems = bad((t) => t.replace('aliases: [pg-payments]', 'aliases: [PAY-API, payments-api]'))
    expect(problems).toHaveLength(2)
    expect(problems[0]).toMatch(/^catalog\.yaml: services\[1\]\.aliases\[0\]: "PAY-API" duplicates the alias "pay-api" of services\[0\]/)
    expect(problems[1]).toMatch(/^catalog\.yaml: services\[1\]\.aliases\[1\]: "payments-api" duplicates the name "payments-api" of services\[0\]/)
  })

  it('empty names and schema errors, all reported at once', () => {
    const problems = bad((t) => t.replace('name: payments-db', 'name: ""').replace('tier: 1\n    kind: postgres', 'kind: postgres').replace('team: payments', 'team: nobody'))
    expect(problems).toEqual(
      expect.arrayContaining([
        'catalog.yaml: services[1].name: must not be empty',
        'catalog.yaml: services[1].tier: is required (number)',
        'catalog.yaml: services[0].team: "nobody" is not a team (known: ops, payments)',
        'catalog.yaml: services[0].depends_on[0]: "payments-db" is not a service (known: payments-api)',
      ]),
    )
  })

  it('unknown keys are rejected (a typo must not drop data)', () => {
    expect(bad((t) => t.replace('depends_on: [payments-db]', 'depends-on: [payments-db]'))).toEqual([
      expect.stringMatching(/^catalog\.yaml: services\[0\]: unknown key "depends-on"/),
    ])
  })

  it('YAML syntax error with line and column', () => {
    expect(problemsOf(() => parseCatalog('version: 1\nteams:\n  ops: { pager: a, chat: b\nservices: []\n', 'catalog.yaml'))).toEqual([
      expect.stringMatching(/^catalog\.yaml: line \d+, column \d+: YAML syntax error: /),
    ])
    expect(problemsOf(() => parseCatalog('version: 1\nversion: 2\n', 'catalog.yaml'))).toEqual([
      'catalog.yaml: line 2, column 1: YAML syntax error: Map keys must be unique',
    ])
  })

  it('a missing file is a problem naming the path', () => {
    expect(problemsOf(() => loadCatalog('/nonexistent/catalog.yaml'))).toEqual(['/nonexistent/catalog.yaml: cannot read file (ENOENT)'])
  })
})
