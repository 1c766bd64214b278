import type { Hono } from 'hono'
import type { Metrics } from '../metrics.js'
import type { AppEnv } from '../types.js'

// GET /metrics: Prometheus text exposition (text/plain; version=0.0.4). Unauthenticated, like the health
// probes, because it is scraped from inside the cluster. It carries no secrets, but it does describe traffic,
// queue depth, proposal states and knowledge freshness: serve it on an internal address or block /metrics at
// the ingress, never expose it publicly.
export function registerMetricsRoute(app: Hono<AppEnv>, metrics: Metrics): void {
  app.get('/metrics', async (c) => {
    // Collectors never throw on a failed database read (they drop their series and count the failure in
    // warden_metrics_collect_errors_total), so the process and HTTP figures are served even when the DB is down.
    const body = await metrics.registry.metrics()
    return c.body(body, 200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' })
  })
}
