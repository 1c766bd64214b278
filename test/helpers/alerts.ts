// Builders for realistic webhook payloads used across tests.

export function amPayload(opts: { name: string; labels: Record<string, string>; summary: string; description: string; startsAt?: string; status?: 'firing' | 'resolved'; fingerprint?: string }) {
  const labels = { alertname: opts.name, severity: 'critical', ...opts.labels }
  const annotations = { summary: opts.summary, description: opts.description }
  return {
    version: '4', groupKey: `{}:{alertname="${opts.name}"}`, truncatedAlerts: 0, status: opts.status ?? 'firing', receiver: 'warden',
    groupLabels: { alertname: opts.name }, commonLabels: labels, commonAnnotations: annotations, externalURL: 'http://alertmanager:9093',
    alerts: [{ status: opts.status ?? 'firing', labels, annotations, startsAt: opts.startsAt ?? '2026-11-21T13:40:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus:9090/graph', fingerprint: opts.fingerprint ?? 'f00dfeed01' }],
  }
}
