import { describe, expect, it } from 'vitest'
import { classifyAlert } from '../../../src/alerts/classify/index.js'
import { candidates, resolveService } from '../../../src/alerts/classify/service.js'
import { normalizeAlert } from '../../../src/alerts/normalize/index.js'
import { alert, demo, shared } from './fixtures.js'

const { catalog } = shared
const resolve = (labels: Record<string, string>, text: { name?: string; summary?: string; description?: string } = {}) => resolveService(alert({ labels, ...text }), catalog)

describe('resolveService: label values', () => {
  it('resolves an exact name or alias, case-insensitively, and says which label decided', () => {
    expect(resolve({ service: 'checkout-api' })).toMatchObject({ service: 'checkout-api', rule: 'label:service', strength: 1 })
    expect(resolve({ service: 'PGW' })).toMatchObject({ service: 'payments-gateway', rule: 'label:service' })
    expect(resolve({ app: 'Stock-Service' })).toMatchObject({ service: 'inventory-svc', rule: 'label:app' })
  })

  it('reads label keys in priority order: an explicit service label beats a workload label', () => {
    expect(resolve({ pod: 'inventory-svc-7d9f6c5b8-x2k4q', service: 'checkout-api' }).service).toBe('checkout-api')
    expect(resolve({ namespace: 'checkout', deployment: 'payments-gateway' }).service).toBe('payments-gateway')
    // a key that does not resolve falls through to the next one
    expect(resolve({ application: 'network-policies', cluster: 'prod-cluster' })).toMatchObject({ service: 'k8s-prod', rule: 'label:cluster' })
  })

  it('treats app.kubernetes.io/name and app_kubernetes_io_name as the same key', () => {
    expect(resolve({ 'app.kubernetes.io/name': 'search-indexer' }).rule).toBe('label:app.kubernetes.io/name')
    expect(resolve({ app_kubernetes_io_name: 'indexer' }).service).toBe('search-indexer')
  })

  it('ignores labels that name another service (upstream, principal)', () => {
    expect(resolve({ upstream: 'payments-gateway', principal: 'ci-terraform-apply' }).service).toBeNull()
  })

  it('strips a :port', () => {
    expect(resolve({ instance: 'orders-db:5432' })).toMatchObject({ service: 'orders-db', rule: 'label:instance~port' })
  })

  it('takes the host of a URL, then its first DNS label', () => {
    expect(resolve({ instance: 'https://checkout-api.shop.svc.cluster.local:8443/healthz' })).toMatchObject({ service: 'checkout-api', rule: 'label:instance~url-host~host' })
    expect(resolve({ instance: 'https://api.example.com/healthz' }).service).toBeNull()
  })

  it('does not read anything into IP addresses', () => {
    expect(resolve({ instance: '10.2.3.4:9100' })).toMatchObject({ service: null, rule: 'unresolved' })
  })

  it('strips Kubernetes pod and ReplicaSet hashes', () => {
    expect(resolve({ pod: 'checkout-api-7d9f6c5b8-x2k4q' })).toMatchObject({ service: 'checkout-api', rule: 'label:pod~pod-hash', strength: 0.8 })
    expect(resolve({ pod: 'search-indexer-5f7c9-abcde' }).service).toBe('search-indexer')
    expect(resolve({ pod: 'inventory-svc-x7k2p' })).toMatchObject({ service: 'inventory-svc', rule: 'label:pod~hash-suffix' })
  })

  it('strips StatefulSet ordinals', () => {
    expect(resolve({ pod: 'pg-orders-0' })).toMatchObject({ service: 'orders-db', rule: 'label:pod~ordinal' })
    expect(resolve({ instance: 'pg-inventory-12:9187' })).toMatchObject({ service: 'inventory-db', rule: 'label:instance~port~ordinal' })
  })

  it('drops trailing dash/underscore segments one at a time', () => {
    expect(resolve({ job_name: 'sales-etl-backfill-2911' })).toMatchObject({ service: 'sales-etl', rule: 'label:job_name~trimmed' })
    expect(resolve({ cronjob: 'catalog-indexer-full-reindex' }).service).toBe('search-indexer')
    expect(resolve({ dataset: 'sales_daily_v2' }).service).toBe('sales-etl')
  })

  it('never tries a lone segment shorter than 4 characters', () => {
    expect(candidates('pg-main-7').map((c) => c.value)).not.toContain('pg')
    expect(candidates('sso-tls-legacy').map((c) => c.value)).not.toContain('sso')
    expect(resolve({ namespace: 'sso-system' }).service).toBeNull() // "sso" is an alias, but too generic alone
    expect(resolve({ namespace: 'auth-system' }).service).toBe('identity-svc') // "auth" is 4 characters
  })

  it('slugs human-written names (PagerDuty service display names)', () => {
    expect(resolve({ service: 'Checkout API (prod)' })).toMatchObject({ service: 'checkout-api', rule: 'label:service~slug' })
    expect(resolve({ service: 'Data Engineering' }).service).toBeNull()
  })

  it('lists candidates in order, each step applied to the previous result', () => {
    expect(candidates('https://pg-orders-0.db.internal:5432').map((c) => `${c.value} ${c.steps.join('~')}`)).toEqual([
      'https://pg-orders-0.db.internal:5432 ',
      'pg-orders-0.db.internal url-host',
      'pg-orders-0 url-host~host',
      'pg-orders url-host~host~ordinal',
    ])
  })

  it('only tries very long values exactly (bounded work on untrusted input)', () => {
    expect(candidates(`${'a-'.repeat(2000)}b`)).toHaveLength(1)
  })
})

describe('resolveService: text mentions', () => {
  it('falls back to whole-token mentions in the name, summary, then description', () => {
    expect(resolve({}, { summary: 'orders-db primary unreachable' })).toMatchObject({ service: 'orders-db', rule: 'text:summary' })
    expect(resolve({}, { summary: 'Indexer enrichment timeouts' })).toMatchObject({ service: 'search-indexer', rule: 'text:summary(alias)' })
    expect(resolve({}, { summary: 'Nightly export late', description: 'sales-etl has not written dt=2026-11-20' })).toMatchObject({ service: 'sales-etl', rule: 'text:description' })
  })

  it('prefers a canonical name to an alias in the same field, and the earliest mention', () => {
    expect(resolve({}, { summary: 'checkout latency up because payments-gateway is slow' }).service).toBe('payments-gateway')
    expect(resolve({}, { summary: 'payments-gateway then checkout-api' }).service).toBe('payments-gateway')
  })

  it('matches whole tokens only', () => {
    expect(resolve({}, { summary: 'payments-gateway-canary errors' }).service).toBeNull()
    expect(resolve({}, { summary: 'reauthentication storm' }).service).toBeNull()
    expect(resolve({}, { summary: 'cert for sso.example.com' }).service).toBe('identity-svc')
  })

  it('uses a PagerDuty service summary as the service label, else the text', () => {
    const pd = (serviceSummary: string, title: string) => {
      const r = normalizeAlert('pagerduty', {
        event: { id: 'E1', event_type: 'incident.triggered', resource_type: 'incident', occurred_at: '2026-11-21T10:00:00Z', data: { id: 'P1', type: 'incident', title, service: { id: 'PS', summary: serviceSummary }, urgency: 'high' } },
      })
      if (!r.ok) throw new Error(r.error.message)
      return resolveService(r.alerts[0]!, demo.catalog)
    }
    expect(pd('cart-api', 'writes failing')).toMatchObject({ service: 'cart-api', rule: 'label:service' })
    expect(pd('Data Engineering', 'finance_daily DAG failed at dbt_run')).toMatchObject({ service: 'finance-etl', rule: 'text:summary(alias)' })
  })
})

describe('unresolved alerts', () => {
  it('give service null and the catalog default team, never an invented name', () => {
    const c = classifyAlert(alert({ name: 'NodeDiskPressure', labels: { node: 'ip-10-2-3-4', instance: '10.2.3.4:9100' }, summary: 'Node ip-10-2-3-4 has disk pressure' }), shared)
    expect(c.service).toBeNull()
    expect(c.team).toBe('sre-oncall')
    expect(c.decidedBy['service']).toMatch(/unresolved/)
    expect(c.decidedBy['team']).toMatch(/default_team/)
    for (const labels of [{ service: 'shipping-svc' }, { service: 'checkoutapi' }, { job: 'legacy-wishlist-exporter' }, { namespace: 'default' }] as Array<Record<string, string>>) {
      expect(resolve(labels).service).toBeNull()
    }
  })
})
