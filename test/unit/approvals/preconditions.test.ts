import { describe, expect, it } from 'vitest'
import { evaluatePreconditions, targetService, type PreconditionContext } from '../../../src/approvals/preconditions.js'
import type { EvidencePack } from '../../../src/assistant/types.js'
import type { LatestTelemetry } from '../../../src/knowledge/store.js'
import { KNOWN_PRECONDITIONS } from '../../../src/policy/names.js'
import { loadReference } from '../../../src/policy/reference.js'
import type { TelemetrySummary } from '../../../ingest/types.js'
import { DEMO_DIR, SHARED_DIR, paths } from '../policy/fixtures.js'

const { catalog, policy } = loadReference(paths(SHARED_DIR))
const NOW = new Date('2026-11-21T14:10:00Z')

function telemetry(service: string, opts: { status?: 'ok' | 'degraded' | 'unsafe'; end?: string; signals?: TelemetrySummary['signals']; changes?: TelemetrySummary['recent_changes'] } = {}): LatestTelemetry {
  const end = opts.end ?? '2026-11-21T14:00:00Z'
  const document: TelemetrySummary = {
    service,
    window: { start: '2026-11-21T13:00:00Z', end },
    signals: opts.signals ?? {},
    data_quality: { status: opts.status ?? 'ok', freshness_lag_s: 20, completeness_pct: 100, reasons: opts.status === 'unsafe' ? ['half the series missing'] : [] },
    recent_changes: opts.changes ?? [],
  }
  return { service, window_start: new Date(document.window.start), window_end: new Date(end), data_quality_status: opts.status ?? 'ok', document, source_uri: 'file:///t.json', content_hash: 'h' }
}

const ctx = (over: Partial<PreconditionContext>): PreconditionContext => ({ service: 'checkout-api', params: {}, catalog, evidence: null, telemetry: null, now: NOW, ...over })
const one = (name: string, c: PreconditionContext, action = policy.action('restart_workload')!) => evaluatePreconditions([name], action, c)[0]!

describe('preconditions', () => {
  it('implements every precondition a policy may name', () => {
    for (const name of KNOWN_PRECONDITIONS) expect(one(name, ctx({})).detail).not.toMatch(/not implemented/)
    expect(one('dns_is_fine', ctx({}))).toEqual({ name: 'dns_is_fine', ok: false, detail: 'precondition dns_is_fine is not implemented' })
  })

  it('service_known', () => {
    expect(one('service_known', ctx({}))).toMatchObject({ ok: true, detail: expect.stringMatching(/checkout-api is in the catalog/) })
    expect(one('service_known', ctx({ service: 'ghost-svc' })).ok).toBe(false)
    expect(one('service_known', ctx({ service: null })).ok).toBe(false)
  })

  it('telemetry_safe fails closed on unsafe or missing telemetry', () => {
    expect(one('telemetry_safe', ctx({ telemetry: telemetry('checkout-api') })).ok).toBe(true)
    expect(one('telemetry_safe', ctx({ telemetry: telemetry('checkout-api', { status: 'degraded' }) })).ok).toBe(true)
    expect(one('telemetry_safe', ctx({ telemetry: telemetry('checkout-api', { status: 'unsafe' }) }))).toMatchObject({ ok: false, detail: expect.stringMatching(/unsafe: half the series missing/) })
    expect(one('telemetry_safe', ctx({ telemetry: null }))).toMatchObject({ ok: false, detail: expect.stringMatching(/no telemetry summary/) })
  })

  it('telemetry_fresh: the latest window must have ended within 2h', () => {
    expect(one('telemetry_fresh', ctx({ telemetry: telemetry('checkout-api') })).ok).toBe(true)
    expect(one('telemetry_fresh', ctx({ telemetry: telemetry('checkout-api', { end: '2026-11-21T11:00:00Z' }) }))).toMatchObject({ ok: false, detail: expect.stringMatching(/190 min ago/) })
  })

  it('replication_lag_below_30s needs a trusted lag signal under 30s', () => {
    const at = (signals: TelemetrySummary['signals'], status?: 'unsafe') => one('replication_lag_below_30s', ctx({ service: 'orders-db', telemetry: telemetry('orders-db', { signals, status }) }))
    expect(at({ replication_lag_s: 0.4 }).ok).toBe(true)
    expect(at({ replication_lag_s: 30 }).ok).toBe(false)
    expect(at({ replication_lag_s: null }).ok).toBe(false)
    expect(at({}).ok).toBe(false)
    expect(at({ replication_lag_s: 1 }, 'unsafe').ok).toBe(false)
  })

  it('recent_deploy_in_evidence: a recent deploy the evidence shows, rolling back to the revision it names', () => {
    const deploy = { type: 'deploy' as const, at: '2026-11-21T12:30:00Z', id: 'deploy-42', revision: 'v2', previous_revision: 'v1' }
    const rollback = policy.action('rollback_deployment')!
    const pack: EvidencePack = {
      items: [{ ref: 'E2', kind: 'telemetry', trusted: true, title: 't', text: 't', contentHash: 'h', chunkId: null, sourceUri: null, sourceKind: 'telemetry', headingPath: [], meta: { recent_changes: [deploy] } }],
      telemetry: { service: 'checkout-api', status: 'ok', reasons: [], windowEnd: '2026-11-21T14:00:00Z', ref: 'E2' },
      catalogSlice: null, retrievalQuery: '',
    }
    const check = (params: Record<string, unknown>, c: Partial<PreconditionContext>) => one('recent_deploy_in_evidence', ctx({ params, ...c }), rollback)
    expect(check({ to_revision: 'v1' }, { evidence: pack })).toMatchObject({ ok: true, detail: expect.stringMatching(/deploy-42 .*evidence E2.*previous revision v1/) })
    expect(check({ to_revision: 'v0' }, { evidence: pack })).toMatchObject({ ok: false, detail: expect.stringMatching(/rolls back to v0/) })
    expect(check({ to_revision: 'v1' }, { telemetry: telemetry('checkout-api', { changes: [deploy] }) }).ok).toBe(true)
    expect(check({ to_revision: 'v1' }, { telemetry: telemetry('checkout-api', { changes: [{ ...deploy, at: '2026-11-20T08:00:00Z' }] }) })).toMatchObject({ ok: false, detail: expect.stringMatching(/no deploy within 6h/) })
    expect(check({ to_revision: 'v1' }, {})).toMatchObject({ ok: false, detail: 'no deploy in the evidence' })
    expect(check({ to_revision: 'v1' }, { telemetry: telemetry('checkout-api', { changes: [{ ...deploy, type: 'flag' }] }) }).ok).toBe(false)
  })

  it('checks blast_radius.max_scale_factor against the live replica count, failing closed without one', () => {
    const scale = policy.action('scale_workload')!
    const run = (replicas: number, signals: TelemetrySummary['signals']) => evaluatePreconditions(scale.preconditions, scale, ctx({ params: { service: 'checkout-api', replicas }, telemetry: telemetry('checkout-api', { signals }) }))
    expect(run(8, { replicas: 4 }).map((r) => [r.name, r.ok])).toEqual([['service_known', true], ['blast_radius.max_scale_factor', true]])
    expect(run(9, { replicas: 4 }).at(-1)).toMatchObject({ ok: false, detail: expect.stringMatching(/above max_scale_factor 2/) })
    expect(run(1, { replicas: 4 }).at(-1)!.ok).toBe(false)
    expect(run(4, {}).at(-1)).toMatchObject({ ok: false, detail: expect.stringMatching(/no replicas signal/) })
  })

  it('the target service is the action\'s service param', () => {
    const demo = loadReference(paths(DEMO_DIR)).policy
    expect(targetService(demo.action('failover_database')!, { service: 'orderbook-db' })).toBe('orderbook-db')
    expect(targetService(demo.action('disable_feature_flag')!, { flag: 'x' })).toBeNull()
  })
})
