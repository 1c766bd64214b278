import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { INFRA, metricNames, PROMETHEUS_SERIES, readYaml, scrapedMetricNames } from './infra.js'

// Alert rules and the dashboard may only query metrics Warden really exports. The list comes from a scrape
// of the real app's GET /metrics (its registry), not from a copy that could drift from src/http/metrics.ts.

const rules = readYaml('infra/monitoring/warden-rules.yaml')
const alerts: Array<{ alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }> = rules.groups.flatMap((g: any) => g.rules)
const dashboard = JSON.parse(fs.readFileSync(path.join(INFRA, 'monitoring/grafana/dashboards/warden.json'), 'utf8'))
const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])])
const panelQueries: Array<[string, string]> = panels.flatMap((p) => (p.targets ?? []).map((t: any) => [p.title, t.expr] as [string, string]))
const readme = fs.readFileSync(path.join(INFRA, 'README.md'), 'utf8')

let exported: Set<string>
const unknown = (expr: string) => metricNames(expr).filter((n) => !exported.has(n) && !PROMETHEUS_SERIES.has(n))

beforeAll(async () => {
  exported = await scrapedMetricNames()
})

describe('PromQL metric-name extraction', () => {
  it('finds selectors, not functions, keywords, labels, strings, durations or Grafana variables', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le, route) (rate(http_seconds_bucket{route="/v1/alerts/:source", x=~"a|b"}[$__rate_interval])))')).toEqual(['http_seconds_bucket'])
    expect(metricNames('max by (kind) (delta(jobs{status="dead"}[30m])) > 0 and on() (sum(up) > 0) or absent(ingest_ts)')).toEqual(['jobs', 'up', 'ingest_ts'])
    expect(metricNames('a / ignoring(pod) group_left(team) b offset 1h > 7 * 86400 unless c_total')).toEqual(['a', 'b', 'c_total'])
    expect(metricNames('rate(process_cpu_seconds_total[5m:30s]) > bool 1e3')).toEqual(['process_cpu_seconds_total'])
  })

  it('the check flags a name Warden does not export (including a histogram suffix on a gauge)', () => {
    expect(unknown('sum(rate(warden_http_request_duration_seconds_count[5m])) / max(warden_not_a_metric)')).toEqual(['warden_not_a_metric'])
    expect(unknown('max(warden_jobs_bucket)')).toEqual(['warden_jobs_bucket'])
  })
})

describe('alert rules', () => {
  it('the scrape lists the domain and HTTP metrics (the app was really scraped)', () => {
    for (const n of ['warden_http_request_duration_seconds_bucket', 'warden_jobs', 'warden_llm_fallbacks_total', 'warden_knowledge_last_complete_ingest_age_seconds', 'nodejs_eventloop_lag_p99_seconds']) expect(exported, n).toContain(n)
  })

  it('covers errors, intake latency, queue backlog and dead jobs, LLM fallbacks, staleness and failed ingestion', () => {
    const used = new Set(alerts.flatMap((a) => metricNames(a.expr)))
    for (const n of ['warden_http_request_duration_seconds_count', 'warden_http_request_duration_seconds_bucket', 'warden_jobs_oldest_due_age_seconds', 'warden_jobs', 'warden_llm_fallbacks_total', 'warden_knowledge_last_complete_ingest_age_seconds', 'warden_ingest_runs']) expect(used, n).toContain(n)
  })

  it.each(alerts.map((a) => [a.alert, a]))('%s queries only exported metrics', (_name, a) => {
    expect(metricNames(a.expr).length).toBeGreaterThan(0)
    expect(unknown(a.expr)).toEqual([])
  })

  it.each(alerts.map((a) => [a.alert, a]))('%s has a severity, a summary and a runbook section in infra/README.md', (name, a) => {
    expect(['critical', 'warning', 'info']).toContain(a.labels.severity)
    expect(a.annotations.summary).toBeTruthy()
    expect(a.annotations.runbook_url).toBe(`infra/README.md#${name.toLowerCase()}`)
    expect(readme).toMatch(new RegExp(`^#{2,4} ${name}$`, 'm'))
  })

  it('alert names are unique', () => {
    expect(new Set(alerts.map((a) => a.alert)).size).toBe(alerts.length)
  })
})

describe('Grafana dashboard', () => {
  it('has panels with queries', () => {
    expect(panelQueries.length).toBeGreaterThan(15)
  })

  it.each(panelQueries)('%s queries only exported metrics', (_title, expr) => {
    expect(metricNames(expr).length).toBeGreaterThan(0)
    expect(unknown(expr)).toEqual([])
  })

  it('every panel uses the datasource template variable, which the dashboard defines', () => {
    expect(dashboard.templating.list.find((v: any) => v.name === 'datasource')?.type).toBe('datasource')
    for (const p of panels.filter((p) => p.type !== 'row')) expect(p.datasource?.uid, p.title).toBe('${datasource}')
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length)
  })
})

describe('Prometheus configuration', () => {
  it('compose mounts the rules where prometheus.yml loads them, and scrapes the API port', () => {
    const prom = readYaml('infra/monitoring/prometheus.yml')
    const compose = readYaml('infra/compose/compose.yaml')
    const mounts: string[] = compose.services.prometheus.volumes
    for (const file of prom.rule_files as string[]) expect(mounts.some((m) => m.endsWith(`:${file}:ro`) && m.startsWith('../monitoring/warden-rules.yaml'))).toBe(true)
    const targets = prom.scrape_configs.flatMap((s: any) => s.static_configs.flatMap((c: any) => c.targets))
    expect(targets).toEqual([`api:${compose.services.api.environment.PORT}`])
  })

  it('every scrape job is job="warden", which the rules select on', () => {
    for (const f of ['infra/monitoring/prometheus.yml', 'infra/monitoring/prometheus-k8s-scrape.yaml']) expect(readYaml(f).scrape_configs.map((s: any) => s.job_name)).toEqual(['warden'])
    expect(alerts.filter((a) => /\bup\b/.test(a.expr)).every((a) => a.expr.includes('up{job="warden"}'))).toBe(true)
  })
})
