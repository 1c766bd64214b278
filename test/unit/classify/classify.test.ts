import { describe, expect, it } from 'vitest'
import { classifyAlert, classifyAlertDetailed } from '../../../src/alerts/classify/index.js'
import { Classification } from '../../../src/assistant/types.js'
import { alert, shared } from './fixtures.js'

describe('classifyAlert', () => {
  const crash = alert({
    name: 'KubePodCrashLooping',
    labels: { alertname: 'KubePodCrashLooping', severity: 'critical', namespace: 'checkout', pod: 'checkout-api-7d9f6c5b8-x2k4q' },
    severity: 'critical',
    summary: 'Pod checkout/checkout-api-7d9f6c5b8-x2k4q is crash looping',
    description: 'Container api restarted 14 times; last termination reason OOMKilled (limit 512Mi).',
  })

  it('returns a valid Classification with an explanation for every field', () => {
    const c = classifyAlert(crash, shared)
    expect(Classification.parse(c)).toEqual(c)
    expect(c).toMatchObject({ service: 'checkout-api', team: 'storefront', failureClass: 'resource_exhaustion', severity: 'page' })
    expect(Object.keys(c.decidedBy).sort()).toEqual(['confidence', 'failureClass', 'service', 'severity', 'team'])
    expect(c.decidedBy['service']).toMatch(/^label:pod~pod-hash/)
    expect(c.decidedBy['team']).toBe('catalog owner of checkout-api → storefront')
    expect(c.decidedBy['failureClass']).toMatch(/oom/)
    expect(c.decidedBy['severity']).toMatch(/critical/)
  })

  it('is deterministic', () => {
    expect(classifyAlert(crash, shared)).toEqual(classifyAlert(structuredClone(crash), shared))
  })

  it('confidence: higher for direct evidence and a clear margin, low for unknown, never certain', () => {
    const strong = classifyAlert({ ...crash, labels: { service: 'checkout-api' } }, shared).confidence
    const viaPod = classifyAlert(crash, shared).confidence
    const textOnly = classifyAlert({ ...crash, labels: {}, summary: 'checkout crash looping' }, shared).confidence
    const contested = classifyAlert({ ...crash, labels: { service: 'checkout-api' }, description: 'OOMKilled since rollout of v2026.11.3' }, shared).confidence
    const nothing = classifyAlert(alert({ name: 'XyzAnomaly' }), shared).confidence
    expect(strong).toBeGreaterThan(viaPod)
    expect(viaPod).toBeGreaterThan(textOnly)
    expect(strong).toBeGreaterThan(contested)
    expect(nothing).toBeLessThan(0.5)
    for (const x of [strong, viaPod, textOnly, contested, nothing]) {
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThanOrEqual(0.95)
    }
  })

  it('exposes the scores and evidence behind a decision', () => {
    const d = classifyAlertDetailed(crash, shared)
    expect(d.failure.scores[0]).toMatchObject({ class: 'resource_exhaustion' })
    expect(d.failure.evidence.some((e) => e.rule === 'oom' && e.field === 'description')).toBe(true)
    expect(d.service).toMatchObject({ service: 'checkout-api', rule: 'label:pod~pod-hash' })
  })
})
