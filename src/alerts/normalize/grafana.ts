import { z } from 'zod'
import type { CanonicalAlert } from '../types.js'
import { AlertmanagerAlert, fromPrometheusAlert } from './alertmanager.js'
import { StringMap, truncate } from './common.js'

// Grafana unified alerting webhook (Grafana 9+ contact point "webhook", payload version "1").
// It is Alertmanager's format plus Grafana fields, so alerts reuse the Alertmanager alert schema and
// mapping. Legacy (pre-unified) Grafana webhooks (ruleName, evalMatches) are a different format and
// are not accepted.

export const GrafanaAlert = AlertmanagerAlert.extend({
  // Query results that made the rule fire, e.g. { B: 8040, C: 1 }; null for no-data/error states.
  values: z.record(z.string(), z.unknown()).nullable().optional(),
  valueString: z.string().optional(),
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  imageURL: z.string().optional(),
})
export type GrafanaAlert = z.infer<typeof GrafanaAlert>

export const GrafanaPayload = z.looseObject({
  // Absent in some older 9.x releases; when present it must be "1" (an Alertmanager "4" is not Grafana).
  version: z.literal('1').optional(),
  orgId: z.number().optional(),
  title: z.string().optional(),
  state: z.string().optional(),
  message: z.string().optional(),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupLabels: StringMap.optional(),
  commonLabels: StringMap.optional(),
  commonAnnotations: StringMap.optional(),
  externalURL: z.string().optional(),
  alerts: z.array(GrafanaAlert).min(1),
})
export type GrafanaPayload = z.infer<typeof GrafanaPayload>

/**
 * Whether an object that has `alerts` came from Grafana rather than Alertmanager. Grafana adds
 * top-level orgId/state/title and per-alert valueString/silenceURL, and labels its payload version "1".
 */
export function looksLikeGrafana(payload: Record<string, unknown>): boolean {
  if (payload['version'] === '1') return true
  if (['orgId', 'state', 'title'].some((k) => Object.hasOwn(payload, k))) return true
  const alerts = payload['alerts']
  if (!Array.isArray(alerts)) return false
  return alerts.some((a) => typeof a === 'object' && a !== null && (Object.hasOwn(a, 'valueString') || Object.hasOwn(a, 'silenceURL')))
}

export function normalizeGrafana(payload: GrafanaPayload): CanonicalAlert[] {
  return payload.alerts.map((a) =>
    fromPrometheusAlert('grafana', a, {
      // Dashboard and panel are evidence a responder opens; silenceURL is an action, not evidence, so it is left out.
      links: [a.dashboardURL, a.panelURL],
      // The measured value ("[ var='B' labels={} value=8040 ]") is often the most telling fact, and
      // CanonicalAlert has no field for it; the dotted key is not one Grafana rules use.
      annotations: a.valueString ? { 'grafana.valueString': truncate(a.valueString) } : {},
    }),
  )
}
