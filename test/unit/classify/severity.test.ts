import { describe, expect, it } from 'vitest'
import { classifyAlert } from '../../../src/alerts/classify/index.js'
import { decideSeverity, mapSenderSeverity } from '../../../src/alerts/classify/severity.js'
import { alert, shared } from './fixtures.js'

describe('mapSenderSeverity', () => {
  it.each([
    ['critical', 'page'],
    ['CRITICAL', 'page'],
    ['high', 'page'],
    ['urgent', 'page'],
    ['emergency', 'page'],
    ['P1', 'page'],
    ['p2', 'page'],
    ['SEV-1', 'page'],
    ['sev2', 'page'],
    ['1', 'page'],
    ['P1 - Critical', 'page'],
    ['warning', 'ticket'],
    ['warn', 'ticket'],
    ['error', 'ticket'],
    ['medium', 'ticket'],
    ['low', 'ticket'],
    ['minor', 'ticket'],
    ['P3', 'ticket'],
    ['P5', 'ticket'],
    ['sev4', 'ticket'],
    ['3', 'ticket'],
    ['ticket', 'ticket'],
    ['info', 'log'],
    ['informational', 'log'],
    ['none', 'log'],
    ['debug', 'log'],
  ] as const)('%s → %s', (raw, expected) => {
    expect(mapSenderSeverity(raw)).toBe(expected)
  })

  it('returns null for what it does not recognise', () => {
    for (const raw of ['', '  ', 'purple', '5xx']) expect(mapSenderSeverity(raw), raw).toBeNull()
  })
})

describe('decideSeverity', () => {
  const known = { failureClass: 'network', tier: 1 }

  it('logs resolved alerts whatever the sender said', () => {
    expect(decideSeverity(alert({ status: 'resolved', severity: 'critical' }), known)).toMatchObject({ severity: 'log', rule: expect.stringMatching(/resolved/) })
  })

  it('logs heartbeat alerts', () => {
    expect(decideSeverity(alert({ severity: 'critical' }), { ...known, heartbeat: true }).severity).toBe('log')
  })

  it('uses the sender severity, PagerDuty priority before urgency', () => {
    expect(decideSeverity(alert({ severity: 'warning' }), known)).toEqual({ severity: 'ticket', rule: 'sender severity="warning" → ticket' })
    expect(decideSeverity(alert({ severity: 'low', labels: { priority: 'P1', urgency: 'low' } }), known).severity).toBe('page')
    // Grafana puts the severity only in a label
    expect(decideSeverity(alert({ labels: { severity: 'critical' } }), { failureClass: 'unknown', tier: 3 }).severity).toBe('page')
  })

  it('without a recognised sender severity, pages only tier-1 services with a known class', () => {
    expect(decideSeverity(alert(), { failureClass: 'network', tier: 1 })).toMatchObject({ severity: 'page', rule: expect.stringMatching(/tier 1/) })
    expect(decideSeverity(alert(), { failureClass: 'unknown', tier: 1 }).severity).toBe('ticket')
    expect(decideSeverity(alert(), { failureClass: 'network', tier: 2 }).severity).toBe('ticket')
    expect(decideSeverity(alert({ severity: 'purple' }), { failureClass: 'network', tier: null })).toMatchObject({ severity: 'ticket', rule: expect.stringMatching(/unrecognised.*unresolved/) })
  })
})

describe('severity in classifyAlert', () => {
  it('maps Alertmanager severities and falls back to the catalog tier for Grafana alerts', () => {
    const am = (severity: string) => classifyAlert(alert({ name: 'KubeJobFailed', labels: { severity, service: 'sales-etl' }, severity }), shared).severity
    expect([am('critical'), am('warning'), am('info'), am('none')]).toEqual(['page', 'ticket', 'log', 'log'])
    const grafana = alert({ source: 'grafana', name: 'Checkout conversion drop', labels: { service: 'checkout' }, description: 'right after feature flag new_cart_flow was enabled' })
    expect(classifyAlert(grafana, shared)).toMatchObject({ service: 'checkout-api', failureClass: 'deployment_regression', severity: 'page' })
    expect(classifyAlert({ ...grafana, labels: { service: 'sales-etl' } }, shared).severity).toBe('ticket') // tier 2
  })
})
