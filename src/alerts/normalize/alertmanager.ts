import { z } from 'zod'
import type { AlertSource, CanonicalAlert } from '../types.js'
import { firstText, httpLinks, StringMap, Timestamp, toIso, toStringMap, truncate } from './common.js'

// Prometheus Alertmanager webhook, payload version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Schemas are loose objects: senders add fields over time (groupKey, truncatedAlerts…) and an unknown
// extra field must not make us drop a page. Fields we read are checked strictly; fields we only
// describe are optional but, when present, must have the documented type.

/** Labels must name the alert: `alertname` is what every canonical alert is called by. */
export const PrometheusLabels = StringMap.superRefine((labels, ctx) => {
  const name = labels['alertname']
  if (typeof name !== 'string' || name.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'label `alertname` is required and must be a non-empty string', path: ['alertname'] })
  }
})

export const AlertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: PrometheusLabels,
  // Always sent by Alertmanager, possibly as {}; tolerated when absent since nothing is lost.
  annotations: StringMap.optional(),
  // Needed for the dedup key (source + fingerprint + startsAt), hence required.
  startsAt: Timestamp,
  // Go zero time ("0001-01-01T00:00:00Z") while firing; CanonicalAlert has no end time, so it is only validated.
  endsAt: Timestamp.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().min(1),
})
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>

export const AlertmanagerPayload = z.looseObject({
  version: z.literal('4'),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupLabels: StringMap.optional(),
  commonLabels: StringMap.optional(),
  commonAnnotations: StringMap.optional(),
  externalURL: z.string().optional(),
  // A notification always carries at least one alert; an empty one has nothing to classify.
  alerts: z.array(AlertmanagerAlert).min(1),
})
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>

/** Annotation keys whose values are links a responder wants (runbook_url, dashboard, grafana_dashboard_url…). */
const LINK_ANNOTATION = /runbook|dashboard/i

/**
 * One Prometheus-style alert (Alertmanager, and Grafana which copies the format) to a canonical alert.
 * `extraLinks` and `extraAnnotations` let Grafana add its own per-alert fields.
 */
export function fromPrometheusAlert(
  source: AlertSource,
  alert: AlertmanagerAlert,
  extra: { links?: Array<string | undefined>; annotations?: Record<string, string> } = {},
): CanonicalAlert {
  const labels = toStringMap(alert.labels)
  const annotations = { ...toStringMap(alert.annotations), ...extra.annotations }
  const linkAnnotations = Object.entries(annotations)
    .filter(([k]) => LINK_ANNOTATION.test(k))
    .map(([, v]) => v)
  return {
    source,
    fingerprint: truncate(alert.fingerprint),
    status: alert.status,
    name: labels['alertname'] ?? '',
    labels,
    annotations,
    // Rules written for older Alertmanager/Grafana setups put their only text in `message`.
    summary: firstText(annotations['summary'], annotations['message']),
    description: firstText(annotations['description'], annotations['message']),
    startsAt: toIso(alert.startsAt),
    links: httpLinks([alert.generatorURL, ...(extra.links ?? []), ...linkAnnotations]),
    severity: labels['severity'] ?? null,
  }
}

/** One canonical alert per element of `alerts[]`: Alertmanager groups alerts, we classify each. */
export function normalizeAlertmanager(payload: AlertmanagerPayload): CanonicalAlert[] {
  return payload.alerts.map((a) => fromPrometheusAlert('alertmanager', a))
}
