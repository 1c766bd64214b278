import type { Catalog } from '../../policy/catalog.js'
import type { CanonicalAlert } from '../types.js'
import { findMentions } from './text.js'

// Which catalog service an alert is about. The catalog is the only source of names: a value that does
// not resolve to a catalog name or alias gives `null` (and the default team), never a made-up service.
//
// Order of evidence, first hit wins:
//  1. Label values, by key priority (SERVICE_LABEL_KEYS): explicit service labels first, then the
//     workload objects Kubernetes exporters attach (deployment, pod…), then stream/data identifiers,
//     then the broad ones (namespace, instance, cluster). Each value is tried exactly, then through a
//     chain of general normalisations (see `candidates`).
//  2. Whole-token mentions of catalog names/aliases in the alert's name, summary, then description;
//     within one field a canonical name beats an alias, then the earliest mention wins.
//
// A PagerDuty alert's `service` label is the PagerDuty service's display name ("Data Engineering"):
// it resolves when the PD service is named like the catalog service, else the text decides.

/**
 * Label keys that can name a service, highest priority first. Keys are compared after lower-casing and
 * mapping `.`, `/` and `-` to `_` (so `app.kubernetes.io/name` and `app_kubernetes_io_name` are one key).
 * Deliberately absent: keys that name a *different* service than the one alerting (`upstream`,
 * `destination`, `peer`), and free-form ones (`principal`, `secret`, `source_table`).
 */
export const SERVICE_LABEL_KEYS: readonly string[] = Object.freeze([
  'service',
  'service_name',
  'exported_service',
  'app',
  'app_kubernetes_io_name',
  'k8s_app',
  'application',
  'app_kubernetes_io_instance',
  'deployment',
  'statefulset',
  'daemonset',
  'replicaset',
  'horizontalpodautoscaler',
  'hpa',
  'job_name',
  'cronjob',
  'exported_job',
  'consumergroup',
  'consumer_group',
  'topic',
  'queue',
  'pipeline',
  'dag_id',
  'dataset',
  'database',
  'datname',
  'container',
  'pod',
  'job',
  'namespace',
  'exported_namespace',
  'instance',
  'host',
  'hostname',
  'cluster',
  'workspace',
])

/** Keys whose exact value is a deliberate statement of the service (strongest evidence). */
const EXPLICIT_KEYS = new Set(['service', 'service_name', 'exported_service', 'app', 'app_kubernetes_io_name', 'k8s_app', 'application'])

export interface ServiceResolution {
  service: string | null
  /** What decided: `label:<key>`, `label:<key>~<step>~<step>…`, `text:<field>`, `text:<field>(alias)`, or `unresolved`. */
  rule: string
  /** The label value or text token that resolved (absent when unresolved). */
  matched?: string
  /** 0..1, how direct the evidence is; used by the confidence formula. */
  strength: number
}

export const normalizeKey = (k: string): string => k.trim().toLowerCase().replace(/[./-]/g, '_')

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/
/** `-<replicaset hash>-<pod suffix>` of a Deployment's pod; the hash carries at least one digit. */
const POD_HASH = /^(.+?)-(?=[a-z0-9]*\d)[a-z0-9]{5,10}-[a-z0-9]{5}$/
/** `-<pod suffix>` of a DaemonSet/ReplicaSet-less pod (5 chars with a digit), or a ReplicaSet name's hash. */
const POD_SUFFIX = /^(.+?)-(?=[a-z0-9]*\d)[a-z0-9]{5,10}$/
/** StatefulSet ordinal (`pg-orders-0`, `kafka-12`). */
const ORDINAL = /^(.+?)-\d{1,3}$/
/** Longest value that is normalised (a URL or a DNS name fits); longer values are only tried exactly. */
const MAX_NORMALISED_LENGTH = 300
/** Shortest single segment tried on its own after trimming: `pg`, `db`, `api`, `app` are too generic. */
const MIN_SINGLE_SEGMENT = 4

function slug(s: string): string {
  return s
    .replace(/\([^)]*\)|\[[^\]]*\]/g, ' ')
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '-')
}

interface Candidate {
  value: string
  steps: string[]
}

/**
 * The value, then general normalisations of it, in order; each step applies to the previous result:
 *  - `slug`: a name with spaces, bracketed parts dropped, words joined by `-` (`Checkout API (prod)` → `checkout-api`)
 *  - `url-host`: the host of a URL (`https://api.example.com/healthz` → `api.example.com`)
 *  - `port`: strip `:port` (`pg-orders-0:9100` → `pg-orders-0`)
 *  - `host`: first DNS label of a host name (`orders-db.data.svc.cluster.local` → `orders-db`); IPs stop here
 *  - `pod-hash`: Kubernetes ReplicaSet/pod hash suffixes (`checkout-api-7d9f6c5b8-x2k4q` → `checkout-api`)
 *  - `hash-suffix`: one trailing hash-like segment with a digit, 5–10 characters (a DaemonSet pod's
 *    suffix, a CronJob-spawned Job's `-29378490`)
 *  - `ordinal`: StatefulSet ordinal (`pg-orders-0` → `pg-orders`)
 *  - `trimmed`: drop trailing `-`/`_` segments one at a time (`sales-etl-backfill-2911` → `sales-etl-backfill`
 *    → `sales-etl`), keeping at least one segment and never trying a lone segment under 4 characters.
 */
export function candidates(raw: string): Candidate[] {
  const out: Candidate[] = []
  const seen = new Set<string>()
  const push = (value: string, steps: string[]) => {
    const v = value.trim()
    const key = v.toLowerCase()
    if (v !== '' && !seen.has(key)) {
      seen.add(key)
      out.push({ value: v, steps })
    }
  }
  let cur: Candidate = { value: raw.trim(), steps: [] }
  push(cur.value, cur.steps)
  // Label values are untrusted and up to 4000 characters; no real name is longer than a DNS name.
  if (cur.value.length > MAX_NORMALISED_LENGTH) return out
  const step = (value: string | undefined, name: string) => {
    if (value === undefined || value === '' || value === cur.value) return
    cur = { value, steps: [...cur.steps, name] }
    push(cur.value, cur.steps)
  }
  // Human-written names (PagerDuty service display names): "Checkout API (prod)" → "checkout-api".
  if (/\s/.test(cur.value)) step(slug(cur.value), 'slug')
  step(/^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/:?#]+)/i.exec(cur.value)?.[1], 'url-host')
  step(/^([^:/\s]+):\d{1,5}$/.exec(cur.value)?.[1], 'port')
  if (IPV4.test(cur.value) || cur.value.includes(':')) return out // addresses and IPv6 say nothing about a service
  if (cur.value.includes('.')) step(cur.value.split('.')[0], 'host')
  step(POD_HASH.exec(cur.value)?.[1], 'pod-hash')
  if (cur.steps.at(-1) !== 'pod-hash') step(POD_SUFFIX.exec(cur.value)?.[1], 'hash-suffix')
  step(ORDINAL.exec(cur.value)?.[1], 'ordinal')
  // Progressive trimming of trailing segments.
  const parts = cur.value.split(/(?=[-_])/) // keeps separators attached to the following segment
  for (let n = parts.length - 1; n >= 1; n--) {
    const value = parts.slice(0, n).join('')
    if (n === 1 && value.length < MIN_SINGLE_SEGMENT) break
    push(value, [...cur.steps, 'trimmed'])
  }
  return out
}

/** Resolve a single label value (exact, then normalised); null when nothing resolves. */
export function resolveValue(value: string, catalog: Catalog): { service: string; steps: string[]; value: string } | null {
  for (const c of candidates(value)) {
    const service = catalog.resolveName(c.value)
    if (service !== null) return { service, steps: c.steps, value: c.value }
  }
  return null
}

function fromLabels(alert: CanonicalAlert, catalog: Catalog): ServiceResolution | null {
  const byKey = new Map<string, Array<[string, string]>>()
  for (const [k, v] of Object.entries(alert.labels)) {
    const nk = normalizeKey(k)
    byKey.set(nk, [...(byKey.get(nk) ?? []), [k, v]])
  }
  for (const key of SERVICE_LABEL_KEYS) {
    for (const [k, v] of byKey.get(key) ?? []) {
      const r = resolveValue(v, catalog)
      if (!r) continue
      const exact = r.steps.length === 0
      return {
        service: r.service,
        rule: `label:${k}${r.steps.map((s) => `~${s}`).join('')}`,
        matched: exact ? v : `${v} → ${r.value}`,
        strength: exact ? (EXPLICIT_KEYS.has(key) ? 1 : 0.9) : 0.8,
      }
    }
  }
  return null
}

function fromText(alert: CanonicalAlert, catalog: Catalog): ServiceResolution | null {
  const fields: Array<[string, string, number]> = [
    ['name', alert.name, 0.7],
    ['summary', alert.summary, 0.7],
    ['description', alert.description, 0.55],
  ]
  const seen = new Set<string>()
  for (const [field, text, strength] of fields) {
    if (!text || seen.has(text)) continue // generic/PagerDuty alerts use the title as name and summary
    seen.add(text)
    const mentions = findMentions(text, catalog)
    const best = mentions.find((m) => m.fullName) ?? mentions[0]
    if (best) {
      const f = field === 'name' && text === alert.summary ? 'summary' : field
      return {
        service: best.service,
        rule: `text:${f}${best.fullName ? '' : '(alias)'}`,
        matched: best.token,
        strength: best.fullName ? strength : strength - 0.1,
      }
    }
  }
  return null
}

/** The alert's catalog service and the rule that decided it; `service: null` when nothing resolves. */
export function resolveService(alert: CanonicalAlert, catalog: Catalog): ServiceResolution {
  return fromLabels(alert, catalog) ?? fromText(alert, catalog) ?? { service: null, rule: 'unresolved', strength: 0 }
}
