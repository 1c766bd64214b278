import { z } from 'zod'
import type { CanonicalAlert } from '../types.js'
import { httpLinks, safeJson, ScalarValue, Timestamp, toIso, truncate } from './common.js'

// PagerDuty v3 webhook (https://developer.pagerduty.com/docs/webhooks-overview). One delivery carries
// one event about one resource. Only incident events whose data is the incident itself become alerts:
// pings (`pagey.ping`), service events and incident sub-resources (notes, responders) have no title,
// service or urgency to classify, so they are rejected here and the HTTP layer decides what to answer.

const NonEmpty = z.string().min(1)

// Details are free-form: PagerDuty passes through whatever the upstream integration sent.
const Details = z.record(z.string(), z.unknown())

export const PagerDutyIncident = z.looseObject({
  id: NonEmpty,
  type: z.literal('incident'),
  number: z.number().optional(),
  status: z.string().optional(),
  incident_key: z.string().nullable().optional(),
  created_at: Timestamp.optional(),
  title: NonEmpty,
  service: z.looseObject({ id: z.string(), summary: z.string() }),
  urgency: z.string().nullable().optional(),
  priority: z.looseObject({ summary: z.string() }).nullable().optional(),
  html_url: z.string().optional(),
  body: z.looseObject({ details: z.unknown().optional(), custom_details: Details.nullable().optional() }).nullable().optional(),
  custom_details: Details.nullable().optional(),
})
export type PagerDutyIncident = z.infer<typeof PagerDutyIncident>

export const PagerDutyPayload = z.looseObject({
  event: z.looseObject({
    id: z.string(),
    // incident.triggered | acknowledged | resolved | reopened | priority_updated | escalated | …: the list grows.
    event_type: z.string().regex(/^incident\./, 'expected an incident.* event type'),
    resource_type: z.literal('incident'),
    occurred_at: Timestamp,
    // A user or service reference, or null for automatic transitions; kept out of the alert.
    agent: z.unknown().optional(),
    client: z.unknown().optional(),
    data: PagerDutyIncident,
  }),
})
export type PagerDutyPayload = z.infer<typeof PagerDutyPayload>

/** Flatten custom_details into `custom_details.<key>` annotations; nested values become JSON text. */
function flattenCustomDetails(...sources: Array<Record<string, unknown> | null | undefined>): Record<string, string> {
  const entries: Array<[string, string]> = []
  for (const src of sources) {
    for (const [k, v] of Object.entries(src ?? {})) {
      if (v === null || v === undefined) continue
      const text = ScalarValue.safeParse(v).success ? String(v) : safeJson(v)
      entries.push([truncate(`custom_details.${k}`), truncate(text)])
    }
  }
  return Object.fromEntries(entries)
}

export function normalizePagerDuty(payload: PagerDutyPayload): CanonicalAlert[] {
  const { event } = payload
  const d = event.data
  const labels: Array<[string, string]> = [
    ['service', d.service.summary],
    ['pd_service_id', d.service.id],
  ]
  if (d.urgency) labels.push(['urgency', d.urgency])
  if (d.priority?.summary) labels.push(['priority', d.priority.summary])

  const customDetails = d.body?.custom_details ?? d.custom_details
  const details = d.body?.details
  const description =
    typeof details === 'string' ? details : details !== undefined && details !== null ? safeJson(details) : customDetails ? safeJson(customDetails) : ''

  return [
    {
      source: 'pagerduty',
      fingerprint: truncate(d.id),
      // Any event about a resolved incident (a later priority change, say) must not look like a new page.
      status: event.event_type === 'incident.resolved' || d.status === 'resolved' ? 'resolved' : 'firing',
      name: truncate(d.title),
      labels: Object.fromEntries(labels.map(([k, v]) => [k, truncate(v)])),
      annotations: flattenCustomDetails(d.body?.custom_details, d.custom_details),
      summary: truncate(d.title),
      description: truncate(description),
      // The incident's creation, not this event's time: it stays the same across triggered → resolved,
      // which is what keeps the dedup key stable for one incident.
      startsAt: toIso(d.created_at ?? event.occurred_at),
      links: httpLinks([d.html_url]),
      severity: d.urgency ? truncate(d.urgency) : null,
    },
  ]
}
