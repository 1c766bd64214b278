import { describe, expect, it } from 'vitest'
import { classifyFailure, isHeartbeat, MIN_SCORE, NEIGHBOUR_CAP, RULES, type Neighbour } from '../../../src/alerts/classify/failure-class.js'
import { classifyAlert } from '../../../src/alerts/classify/index.js'
import { parseTaxonomy } from '../../../src/policy/taxonomy.js'
import { alert, shared } from './fixtures.js'

const { taxonomy, catalog } = shared
const cls = (over: Parameters<typeof alert>[0], extra: { neighbours?: Neighbour[]; service?: string } = {}) =>
  classifyFailure(alert(over), { taxonomy, catalog, service: extra.service ?? null, ...(extra.neighbours && { neighbours: extra.neighbours }) })

// Alerts phrased the way exporters, tools and people write them — written for these tests, not taken
// from the eval sets — so that the vocabulary is checked beyond the labelled cases.
// [expected class, alertname, summary, description]
const VOCABULARY: Array<[string, string, string, string]> = [
  ['unknown', 'KubePodCrashLooping', 'Pod is crash looping.', 'Pod payments/payments-gateway-6b7c8d9f5-abc12 (gateway) is in waiting state (reason: "CrashLoopBackOff").'],
  ['resource_exhaustion', 'ContainerOOMKilled', 'Container killed by the kernel', 'Container worker in pod search-indexer-0 was OOMKilled 3 times in the last hour.'],
  ['resource_exhaustion', 'NodeFilesystemSpaceFillingUp', 'Filesystem is predicted to run out of space within the next 24 hours.', 'Filesystem on /dev/nvme1n1 at 10.0.1.5:9100 has only 12.40% available space left and is filling up.'],
  ['resource_exhaustion', 'KubePersistentVolumeFillingUp', 'PersistentVolume is filling up.', 'The PersistentVolume claimed by data-orders-db-0 in Namespace db is only 2.1% free.'],
  ['resource_exhaustion', 'NodeFileDescriptorLimit', 'Kernel is predicted to exhaust file descriptors limit soon.', 'File descriptors limit at 10.0.1.5:9100 is currently at 91%.'],
  ['resource_exhaustion', 'PostgresqlTooManyConnections', 'Postgresql too many connections', 'PostgreSQL instance has too many connections (> 80%).'],
  ['resource_exhaustion', 'RedisOutOfMemory', 'Redis out of memory', 'Redis is running out of memory (> 90%)'],
  ['capacity_saturation', 'KubeHpaMaxedOut', 'HPA is running at max replicas', 'HPA checkout/checkout-api has been running at max replicas for longer than 15 minutes.'],
  ['capacity_saturation', 'KafkaConsumerLagHigh', 'Kafka consumer lag high', 'Consumer group order-events-consumer is 250000 messages behind on topic orders.'],
  ['capacity_saturation', 'CPUThrottlingHigh', 'Processes experience elevated CPU throttling.', '45.3% throttling of CPU in namespace search for container indexer in pod search-indexer-abc.'],
  ['unknown', 'HighRequestLatency', 'checkout-api p99 latency high', 'p99 latency for checkout-api is 2.3s (SLO 500ms).'],
  ['deployment_regression', 'ErrorRateHigh', 'payments-gateway error rate 8%', 'Error rate 8% on payments-gateway since deploy of v4.13.0 at 10:02'],
  ['deployment_regression', 'CheckoutErrors', 'Checkout errors up', 'Checkout errors up after enabling flag express_pay for 50% of users'],
  ['credential_expiry', 'CertificateNotReady', 'Certificate sso-tls is not ready', 'Certificate sso-tls in namespace identity is not ready: Issuing certificate as Secret does not exist'],
  ['credential_expiry', 'SSLCertExpiringSoon', 'SSL certificate expires soon', 'SSL certificate for https://api.example.com expires in 5 days'],
  ['credential_expiry', 'VaultTokenExpired', 'Vault token expired', 'Vault token for ci-runners expired; jobs cannot fetch secrets'],
  ['network', 'ProbeFailed', 'Probe failed', 'Probe to https://checkout.example.com failed: lookup checkout.example.com: no such host'],
  ['network', 'PacketLoss', 'Packet loss between zones', 'Packet loss 5% between nodes in eu-west-1a and eu-west-1b'],
  ['dependency_failure', 'CheckoutUpstreamErrors', 'checkout-api upstream errors', 'checkout-api: 30% of requests to payments-gateway fail with 503; checkout-api pods healthy'],
  ['dependency_failure', 'StripeErrors', 'Stripe API errors', '12% of charges failing with api_connection_error; the Stripe status page reports degraded performance'],
  ['config_drift', 'TerraformDrift', 'Drift detected in workspace prod-network', '2 resources modified outside Terraform'],
  ['config_drift', 'ArgoAppOutOfSync', 'Application payments is OutOfSync', ''],
  ['job_failure', 'KubeJobFailed', 'Job failed to complete.', 'Job data/sales-etl-20261121 failed to complete. Removing failed job after investigation should clear this alert.'],
  ['job_failure', 'CronJobNotScheduled', 'CronJob not scheduled', 'CronJob backup/pg-backup has not been scheduled for 2 days'],
  ['job_failure', 'BackupTooOld', 'orders-db backup too old', 'Last successful backup of orders-db was 30h ago (expected every 24h)'],
  ['data_freshness', 'TableStale', 'analytics.orders_daily is late', 'Table analytics.orders_daily last updated 7h ago (SLA 2h)'],
  ['data_freshness', 'DuplicateOrders', 'Duplicate order ids', 'Found 3,412 duplicate order_ids in warehouse.orders for 2026-11-20'],
  ['data_freshness', 'SchemaChange', 'Schema change in users', 'Schema change detected in source table users: column email_verified removed'],
  ['unknown', 'DeadMansSwitch', 'Alerting DeadMansSwitch', 'This is a DeadMansSwitch meant to ensure that the entire Alerting pipeline is functional.'],
  ['unknown', 'Alert', '', ''],
  ['capacity_saturation', 'GatewayRateLimiting', 'API gateway rate limiting', 'API gateway rate limiting 15% of requests; traffic 4x normal due to bot traffic'],
  ['capacity_saturation', 'DiskIOSaturation', 'Disk I/O saturation on pg-orders-0', '98% util on nvme0n1'],
  ['unknown', 'NodeClockNotSynchronising', 'Clock skew detected.', 'Clock on 10.0.1.5:9100 is out of sync by more than 0.05s. Ensure NTP is configured correctly on this host.'],
  ['network', 'NodeNetworkReceiveErrs', 'Network interface is reporting many receive errors.', '10.0.1.5 interface eth0 has encountered 1200 receive errors in the last two minutes.'],
  ['unknown', 'LatencyUp', 'Latency up on inventory-svc', 'No recent deploys; database latency normal'],
  ['credential_expiry', 'SigningKeyRotationFailed', 'JWT signing key rotation failed for identity-svc', 'KMS permission denied'],
  ['deployment_regression', 'CanaryAnalysisFailed', 'Canary analysis failed for checkout-api v2.4.0', 'error rate 4% vs 0.5% baseline'],
  ['resource_exhaustion', 'MemoryLeak', 'order-events consumer memory', 'Memory usage of order-events consumer grew steadily from 1GB to 3.7GB over 12h (limit 4Gi)'],
  ['job_failure', 'ExportPartial', 'Nightly export completed with errors', '3 of 12 files not uploaded'],
  ['network', 'DNSErrors', 'NXDOMAIN responses for internal names', 'CoreDNS returns NXDOMAIN for *.svc.cluster.local from 3 nodes'],
  ['resource_exhaustion', 'NodeMemoryHigh', 'Node memory usage 96%', 'Memory usage at 96% on ip-10-0-1-5'],
  ['dependency_failure', 'DBConnRefused', 'checkout-api cannot reach orders-db', 'connection refused to orders-db:5432; checkout-api pods healthy'],
  ['capacity_saturation', 'SQSQueueBacklog', 'Orders queue depth 120k', 'ApproximateNumberOfMessagesVisible 120k on orders-queue; workers at max 20 tasks; order volume 5x average after campaign'],
  ['dependency_failure', 'ExternalAPIDown', 'Shipping label API failing', 'Calls to carrier API time out after 10s; our workers are healthy'],
  ['deployment_regression', 'PodsNotReadyAfterDeploy', 'checkout-api pods not ready', 'Readiness probe failing on 4/10 pods after helm upgrade to chart 3.2.1'],
  ['config_drift', 'ConfigMismatch', 'Live nginx config does not match the repository', 'Manual edit detected on edge-gateway nodes'],
  ['credential_expiry', 'OAuthClientSecretExpired', 'OAuth client secret expired for sso', 'Logins fail with invalid_client; the client secret expired yesterday'],
  ['network', 'LoadBalancerTLSErrors', 'TLS handshake errors at the load balancer', 'Handshake timeouts between LB and backends in us-east-1b; certificate valid until 2027'],
  ['job_failure', 'AirflowDagFailed', 'DAG sales_daily failed', 'Task load_to_warehouse failed after 3 attempts; downstream tasks upstream_failed'],
  ['data_freshness', 'DbtSourceFreshness', 'Source orders is stale', 'dbt source freshness: orders max(updated_at) is 9 hours old (error after 6h)'],
  ['resource_exhaustion', 'EphemeralStorageEvictions', 'Pods evicted on node', 'Pods evicted: The node was low on resource: ephemeral-storage.'],
  ['capacity_saturation', 'ThreadPoolExhausted', 'Worker thread pool exhausted', 'All 200 request threads busy; request rate doubled since 09:00'],
  ['unknown', 'KubeNodeNotReady', 'Node is not ready.', 'ip-10-0-1-5 has been unready for more than 15 minutes.'],
  ['unknown', 'ErrorBudgetBurn', 'Error budget burning fast', '2% of the monthly budget consumed in 1h'],
  ['network', 'VPNTunnelDown', 'VPN tunnel to on-prem down', 'IPsec tunnel vpn-1 down; BGP session to 169.254.10.1 idle; on-prem routes withdrawn'],
  ['credential_expiry', 'KafkaSASLAuthFailures', 'Kafka clients failing authentication', 'order-events consumers get SASL authentication failed: invalid credentials after password rotation'],
  ['dependency_failure', 'RedisUnreachable', 'checkout-api cannot reach redis', 'redis-cache.internal:6379 unreachable from checkout-api; checkout-api pods healthy, CPU 15%'],
  ['deployment_regression', 'MigrationBroke', 'Errors after release 2026.11.22', 'Database migration in release 2026.11.22 dropped an index; queries slow since the release'],
  ['job_failure', 'SnapshotFailed', 'EBS snapshot failed', 'Nightly EBS snapshot for orders-db volume failed: SnapshotCreationPerVolumeRateExceeded'],
  ['data_freshness', 'RowCountAnomaly', 'orders_daily row count 40% below expected', 'Row count for dt=2026-11-21 is 40% below the 7-day average'],
  ['resource_exhaustion', 'WALDiskFull', 'pg_wal volume 97% full', 'WAL archiving failing; pg_wal volume 97% full on orders-db'],
  ['config_drift', 'SecurityGroupChanged', 'Security group changed in the console', 'sg-0abc modified in the AWS console by user admin; differs from terraform state'],
  ['capacity_saturation', 'ConnectionPoolSaturated', 'pgbouncer pool saturated', 'cl_waiting 240 clients waiting on pgbouncer; pool size 50 at max; request rate 3x normal'],
  ['network', 'InterAZLatency', 'Cross-AZ latency high', 'RTT between us-east-1a and us-east-1c 80ms (normal 1ms); packet retransmits up'],
  ['credential_expiry', 'GitHubAppTokenInvalid', 'CI cannot clone repositories', 'GitHub App installation token rejected: Bad credentials'],
  ['unknown', 'Anomaly', 'Traffic anomaly', 'Anomaly detector flagged metric checkout.requests'],
]

describe('classifyFailure: general SRE vocabulary', () => {
  it.each(VOCABULARY)('%s ← %s', (expected, name, summary, description) => {
    const r = cls({ name, summary, description })
    expect(r.failureClass, r.explanation).toBe(expected)
  })

  it('every rule targets a taxonomy class and documents itself', () => {
    for (const r of RULES) {
      expect(taxonomy.hasClass(r.class), r.id).toBe(true)
      expect(r.note.length, r.id).toBeGreaterThan(3)
      expect(r.pattern.flags, r.id).not.toMatch(/[gy]/)
    }
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length)
  })
})

describe('negation and health statements', () => {
  it('"No deploys in the last 24h" is evidence against a deploy, not for it', () => {
    const r = cls({ name: 'ErrorBudgetBurn', description: 'Burn rate 10x. No deploys in the last 24h; traffic 3x baseline due to a campaign.' })
    expect(r.failureClass).toBe('capacity_saturation')
    const deploy = r.evidence.find((e) => e.rule === 'rollout')
    expect(deploy).toMatchObject({ negated: true })
    expect(deploy!.score).toBeLessThan(0)
  })

  it('a negated signal alone never decides', () => {
    for (const description of ['No deploys today.', 'Not an OOM: memory is flat.', 'without any packet loss', 'no rollout in the last 20 hours']) {
      expect(cls({ name: 'LatencyHigh', description }).failureClass, description).toBe('unknown')
    }
  })

  it('"but" ends the scope of a negation', () => {
    const r = cls({ name: 'ExportRun', description: 'The run did not crash but finished with 2 of 4 partitions' })
    expect(r.failureClass).toBe('job_failure')
  })

  it('ignores symptoms stated as healthy, but not comparisons with normal', () => {
    expect(cls({ name: 'ReplicaLag', description: 'primary CPU and disk normal' }).failureClass).toBe('unknown')
    expect(cls({ name: 'GatewayRateLimiting', description: 'traffic 4x normal' }).failureClass).toBe('capacity_saturation')
  })

  it('"our pods healthy" is dependency evidence', () => {
    const r = cls({ name: 'CheckoutErrors', description: 'calls to payments-gateway time out; our pods are healthy' })
    expect(r.failureClass).toBe('dependency_failure')
    expect(r.evidence.map((e) => e.rule)).toContain('self-healthy')
  })
})

describe('confusable vocabulary', () => {
  it('schema drift is data, Terraform drift is config', () => {
    expect(cls({ name: 'SchemaDriftDetected', summary: 'Source schema changed for orders' }).failureClass).toBe('data_freshness')
    expect(cls({ name: 'TerraformDriftDetected', summary: 'Plan found changes made outside Terraform' }).failureClass).toBe('config_drift')
  })

  it('a clock out of sync is not config drift', () => {
    expect(cls({ name: 'NodeClockNotSynchronising', description: 'Clock is out of sync by 2s' }).failureClass).not.toBe('config_drift')
  })

  it('an expired certificate behind a TLS handshake failure is a credential problem', () => {
    expect(cls({ name: 'IngressTLSHandshakeErrors', description: 'Clients fail TLS handshakes: certificate has expired (notAfter 2026-11-21)' }).failureClass).toBe('credential_expiry')
    expect(cls({ name: 'IngressTLSHandshakeErrors', description: 'TLS handshake timeouts between the load balancer and backends' }).failureClass).toBe('network')
  })

  it('CPU throttling is capacity; CPU at 20% is not', () => {
    expect(cls({ name: 'CPUThrottlingHigh' }).failureClass).toBe('capacity_saturation')
    expect(cls({ name: 'Busy', description: 'CPU 20%' }).failureClass).toBe('unknown')
    expect(cls({ name: 'Busy', description: 'CPU 20%' }).evidence).toEqual([])
  })

  it('a Terraform plan exit code is drift evidence, not a failed job', () => {
    const r = cls({ name: 'DriftCheck', description: 'workspace prod plan exit code 2' })
    expect(r.evidence.map((e) => e.rule)).not.toContain('exit-code')
  })
})

describe('catalog-aware dependency evidence', () => {
  it('a failing clause naming one of the service\'s catalog dependencies counts for dependency_failure', () => {
    const over = { name: 'DatabaseErrors', description: "requests fail: upstream inventory-db returns 'sorry, too many clients already'" }
    const withService = cls(over, { service: 'inventory-svc' })
    expect(withService.failureClass).toBe('dependency_failure')
    expect(withService.evidence.map((e) => e.rule)).toContain('catalog-dependency(inventory-db)')
    // the same text about the database itself is resource exhaustion
    expect(cls({ name: 'DatabaseErrors', description: "sorry, too many clients already" }, { service: 'inventory-db' }).failureClass).toBe('resource_exhaustion')
  })

  it('a dependency stated as healthy is not evidence', () => {
    const r = cls({ name: 'X', description: 'payments-gateway latency normal' }, { service: 'checkout-api' })
    expect(r.evidence.map((e) => e.rule)).not.toContain('catalog-dependency(payments-gateway)')
  })
})

describe('unknown is an honest answer', () => {
  it('for empty or content-free alerts', () => {
    for (const a of [{ name: 'XyzAnomaly' }, { name: 'Alert', summary: '', description: '' }, { name: 'TargetDown', summary: '100% of the exporter targets are down' }]) {
      expect(cls(a)).toMatchObject({ failureClass: 'unknown' })
    }
  })

  it('for heartbeat alerts (Watchdog, DeadMansSwitch), which are also logged, not paged', () => {
    const watchdog = alert({
      name: 'Watchdog',
      labels: { alertname: 'Watchdog', severity: 'none' },
      summary: 'An alert that should always be firing',
      description: 'This is an alert meant to ensure that the entire alerting pipeline is functional.',
    })
    expect(isHeartbeat(watchdog)).toBe(true)
    expect(isHeartbeat(alert({ name: 'DeadMansSwitch' }))).toBe(true)
    expect(isHeartbeat(alert({ name: 'Heartbeat missed: nightly-export-host' }))).toBe(false)
    const c = classifyAlert({ ...watchdog, labels: { alertname: 'Watchdog', severity: 'critical' }, severity: 'critical' }, shared)
    expect(c).toMatchObject({ failureClass: 'unknown', severity: 'log', service: null, team: 'sre-oncall' })
    expect(c.decidedBy['failureClass']).toMatch(/heartbeat/)
  })

  it('below the minimum score', () => {
    const r = cls({ name: 'Probe', description: 'requests timing out' })
    expect(r.evidence.reduce((s, e) => s + e.score, 0)).toBeLessThan(MIN_SCORE)
    expect(r).toMatchObject({ failureClass: 'unknown', decision: 'below-threshold' })
  })

  it('for a tie the rules cannot break', () => {
    // one w3 signature each, both in the name
    const r = cls({ name: 'inodes and packet loss' })
    expect(r.scores[0]!.score).toBe(r.scores[1]!.score)
    expect(r).toMatchObject({ failureClass: 'unknown', decision: 'tie' })
    expect(r.explanation).toMatch(/tie between/)
  })

  it('never predicts a class the taxonomy does not have', () => {
    const small = parseTaxonomy('version: 1\nfailure_classes:\n  network: "net"\n  unknown: "?"\nseverities: [page, ticket, log]\n', 'small.yaml')
    const r = classifyFailure(alert({ name: 'KubePodCrashLooping', description: 'OOMKilled' }), { taxonomy: small })
    expect(r.failureClass).toBe('unknown')
    expect(classifyFailure(alert({ name: 'CoreDNSErrorsHigh' }), { taxonomy: small }).failureClass).toBe('network')
  })
})

describe('neighbours (nearest labelled past incidents)', () => {
  const n = (failureClass: string, similarity: number, incidentId = `INC-${failureClass}-${similarity}`): Neighbour => ({ failureClass, similarity, incidentId })

  it('cannot decide alone: the vote is capped below the minimum score', () => {
    const r = cls({ name: 'XyzAnomaly' }, { neighbours: [n('network', 1), n('network', 0.9), n('network', 0.8)] })
    expect(NEIGHBOUR_CAP).toBeLessThan(MIN_SCORE)
    expect(r.failureClass).toBe('unknown')
    expect(r.scores[0]).toMatchObject({ class: 'network', score: NEIGHBOUR_CAP })
  })

  it('can lift weak rule evidence over the line, and is recorded', () => {
    const weak = { name: 'Probe', description: 'requests timing out' } // timeouts 1.5: below the minimum
    expect(cls(weak).failureClass).toBe('unknown')
    const r = cls(weak, { neighbours: [n('dependency_failure', 0.9, 'INC-2041')] })
    expect(r).toMatchObject({ failureClass: 'dependency_failure', decision: 'rules+neighbours' })
    expect(r.explanation).toMatch(/neighbour INC-2041 \+1\.35/)
  })

  it('ignores unknown, unlisted and dissimilar neighbours', () => {
    const r = cls({ name: 'XyzAnomaly' }, { neighbours: [n('unknown', 1), n('made_up_class', 1), n('network', 0.1)] })
    expect(r.neighbourVotes).toEqual([])
  })

  it('does not overturn strong rule evidence', () => {
    const r = cls({ name: 'KubePodCrashLooping', description: 'last termination reason OOMKilled; memory leak' }, { neighbours: [n('deployment_regression', 1), n('deployment_regression', 1), n('deployment_regression', 1)] })
    expect(r.failureClass).toBe('resource_exhaustion')
  })
})

describe('bounded work on untrusted text', () => {
  it('classifies 4000-character adversarial fields quickly', () => {
    const inputs = ['calls '.repeat(700), 'no '.repeat(1333), 'us-east-1a and '.repeat(266), `${'9'.repeat(30)}% cpu `.repeat(100), 'pool '.repeat(800)]
    for (const s of inputs) {
      const t = performance.now()
      classifyAlert(alert({ name: s, summary: s, description: s, labels: { pod: s, service: s } }), shared)
      expect(performance.now() - t, s.slice(0, 20)).toBeLessThan(500)
    }
  })
})
