// The canonical alert every webhook format is normalized into. Every string in it is untrusted data.

export type AlertSource = 'alertmanager' | 'grafana' | 'pagerduty' | 'generic'

export interface CanonicalAlert {
  source: AlertSource
  /** The sender's fingerprint (Alertmanager/Grafana `fingerprint`, PagerDuty incident id/key), else a hash of name+labels. */
  fingerprint: string
  status: 'firing' | 'resolved'
  name: string
  labels: Record<string, string>
  annotations: Record<string, string>
  summary: string
  description: string
  /** ISO 8601; null when the sender did not say. With `fingerprint` and `source` it is the dedup key. */
  startsAt: string | null
  links: string[]
  /** Severity as the sender stated it (label, urgency…), not our page/ticket/log decision. */
  severity: string | null
}
