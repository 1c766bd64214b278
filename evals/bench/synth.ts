// Deterministic synthetic SRE text for the benchmarks. Why not lorem ipsum: both retrievers' costs depend on
// the vocabulary's shape. Full text cost grows with how many rows a query term matches (common words such as
// "error" or "latency" hit a large share of real runbooks), and the hashing embedder's vectors cluster by
// shared words. So passages mix (a) a Zipf-distributed general ops vocabulary, (b) a per-document failure
// topic whose words recur within the document, (c) the document's service, and (d) a long tail of
// identifiers (pod names, error codes, metric names) that are rare, like in real incident text.

/** mulberry32: tiny, fast, good enough for benchmark data, and identical on every machine for a seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Rng = () => number
/** Fisher-Yates (Array#sort with a random comparator is biased and engine-dependent). */
export function shuffle<T>(rng: Rng, xs: readonly T[]): T[] {
  const out = [...xs]
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1))
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!
export const between = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1))

export const SERVICES = [
  'payments-api',
  'cart-api',
  'orderbook-db',
  'inventory-api',
  'auth-svc',
  'edge-proxy',
  'shipment-events',
  'catalog-search',
  'storefront-web',
  'finance-etl',
  'ci-builders',
  'k8s-shop-prod',
] as const

export const TEAMS = ['payments', 'checkout', 'data-platform', 'fulfilment', 'identity-access', 'edge', 'platform', 'search'] as const

export const KINDS = ['runbook', 'case_study', 'telemetry', 'doc'] as const

// General operations vocabulary, roughly most to least frequent (rank drives the Zipf weight).
const GENERAL = (
  'service error latency request pod deploy alert traffic database restart config node cluster memory cpu ' +
  'timeout connection replica primary queue consumer producer lag rollback release version check dashboard ' +
  'metric threshold incident customer upstream downstream retry backoff rate limit cache hit miss ttl ' +
  'certificate tls dns resolve network packet loss zone region failover quorum leader election disk volume ' +
  'storage write read throughput saturation pool exhausted thread heap garbage collection pause oom killed ' +
  'crashloop probe readiness liveness ingress egress proxy gateway load balancer health endpoint header ' +
  'token key rotation secret vault kms permission role policy audit log trace span sample budget slo sli ' +
  'burn page escalate oncall handover postmortem mitigation impact severity degraded outage partial spike ' +
  'drop regression canary rollout feature flag toggle batch job cron schedule backlog index shard partition ' +
  'compaction vacuum bloat lock deadlock transaction commit wal checkpoint snapshot backup restore replication ' +
  'slot stream topic offset rebalance broker schema migration query plan slow scan autoscaler hpa replicas ' +
  'quota limit eviction taint toleration daemonset statefulset deployment namespace helm terraform drift ' +
  'apply plan state module pipeline runner artifact registry image tag digest build cache warm cold start ' +
  'webhook callback idempotency duplicate reconcile ledger export settlement acquirer provider fallback ' +
  'circuit breaker bulkhead shed priority fairness jitter clock skew ntp certificate expiry renewal acme ' +
  'cdn origin purge stale header compression payload size serialization json protobuf grpc http status'
).split(' ')

// Failure topics: words that co-occur within one document (so documents form topical clusters).
const TOPICS: readonly string[][] = [
  ['disk', 'full', 'wal', 'retention', 'pvc', 'inode', 'archive', 'cleanup'],
  ['connection', 'pool', 'saturation', 'pgbouncer', 'max_connections', 'idle', 'leak', 'checkout'],
  ['oomkilled', 'memory', 'heap', 'limit', 'crashloop', 'leak', 'allocation', 'gc'],
  ['certificate', 'expired', 'tls', 'handshake', 'renewal', 'cert-manager', 'chain', 'ocsp'],
  ['replication', 'lag', 'replica', 'standby', 'apply', 'slot', 'cdc', 'logical'],
  ['failover', 'primary', 'unreachable', 'patroni', 'promotion', 'split-brain', 'fencing', 'quorum'],
  ['consumer', 'lag', 'kafka', 'partition', 'rebalance', 'offset', 'backpressure', 'throughput'],
  ['dns', 'resolution', 'coredns', 'ndots', 'nxdomain', 'search', 'upstream', 'timeout'],
  ['packet', 'loss', 'interzone', 'mtu', 'retransmit', 'vpc', 'peering', 'route'],
  ['deploy', 'regression', 'canary', 'rollback', 'release', 'argo', 'sync', 'diff'],
  ['feature', 'flag', 'toggle', 'cohort', 'percentage', 'kill-switch', 'launchdarkly', 'variant'],
  ['signing', 'key', 'jwks', 'kid', 'rotation', 'jwt', 'invalid_token', 'propagation'],
  ['provider', 'outage', 'acquirer', 'fallback', 'circuit', 'breaker', 'decline', 'retry'],
  ['indexer', 'backlog', 'reindex', 'elasticsearch', 'shard', 'refresh', 'bulk', 'mapping'],
  ['etl', 'partial', 'late', 'ledger', 'export', 'airflow', 'dag', 'backfill'],
  ['terraform', 'drift', 'atlantis', 'plan', 'apply', 'state', 'lock', 'import'],
  ['runner', 'queue', 'starvation', 'spot', 'capacity', 'preemption', 'autoscaling', 'builder'],
  ['cache', 'headers', 'cdn', 'purge', 'stale', 'vary', 'max-age', 'origin'],
  ['deadlock', 'lock', 'lock_timeout', 'statement_timeout', 'blocking', 'pg_locks', 'advisory', 'vacuum'],
  ['rate', 'limit', '429', 'throttle', 'quota', 'burst', 'token-bucket', 'client'],
  ['5xx', 'errors', 'gateway', '502', '503', 'upstream', 'reset', 'keepalive'],
  ['latency', 'p99', 'slow', 'query', 'plan', 'index', 'seq-scan', 'statistics'],
  ['cron', 'job', 'missed', 'schedule', 'backoff', 'suspend', 'reconcile', 'stock'],
  ['autoscaler', 'hpa', 'replicas', 'scale', 'cpu', 'target', 'cooldown', 'thrash'],
]

const HEADINGS = ['Symptoms', 'Triage', 'Mitigation', 'Rollback', 'Escalation', 'Verification', 'Background', 'Dashboards', 'Known issues', 'Follow-ups']
const LEXICON_TAIL = 3000
const GLUE = ['the', 'and', 'to', 'of', 'if', 'on', 'for', 'when', 'then', 'check', 'with', 'after', 'before']

/**
 * The general lexicon: the real ops words above, then a long tail of pronounceable pseudo-words standing in
 * for the thousands of other words real runbooks use (product names, nouns, verbs). The tail matters for
 * cost realism: with only a few hundred words every common term occurs in nearly every passage, and the OR
 * full text query search() builds then matches ~90% of rows. With the tail, synthetic questions match a share
 * of rows close to what the demo questions match in the real corpus + feed (measured on 1,500 chunks: real
 * p50 0.40 / p90 0.60 of chunks; synthetic p50 0.39 / p90 0.83, so the tail is somewhat pessimistic).
 */
const LEXICON: readonly string[] = (() => {
  const r = prng(0x5eed)
  const on = ['b', 'c', 'd', 'f', 'g', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'st', 'tr', 'pl', 'gr']
  const nu = ['a', 'e', 'i', 'o', 'u', 'ai', 'ou', 'ea']
  const co = ['', 'n', 'r', 'l', 's', 'x', 'nd', 'rt']
  const tail = new Set<string>()
  while (tail.size < LEXICON_TAIL) {
    const syllables = 2 + Math.floor(r() * 2)
    let w = ''
    for (let i = 0; i < syllables; i++) w += pick(r, on) + pick(r, nu) + (i === syllables - 1 ? pick(r, co) : '')
    tail.add(w)
  }
  return [...GENERAL, ...tail]
})()

/** Cumulative Zipf-Mandelbrot weights 1/(rank + 20) over the lexicon, sampled by binary search. */
const ZIPF_CDF = (() => {
  const w = LEXICON.map((_, r) => 1 / (r + 20))
  const total = w.reduce((a, b) => a + b, 0)
  let acc = 0
  return w.map((x) => (acc += x / total))
})()

function zipfWord(rng: Rng): string {
  const u = rng()
  let lo = 0
  let hi = ZIPF_CDF.length - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (ZIPF_CDF[mid]! < u) lo = mid + 1
    else hi = mid
  }
  return LEXICON[lo]!
}

/** Rare tokens: each combination appears in only a handful of passages, like real pod names and error codes. */
function identifier(rng: Rng, service: string): string {
  switch (Math.floor(rng() * 5)) {
    case 0:
      return `${service}-${Math.floor(rng() * 0xfffff).toString(16)}`
    case 1:
      return `ERR_${between(rng, 1000, 9999)}`
    case 2:
      return `${pick(rng, GENERAL)}_${pick(rng, GENERAL)}_total`
    case 3:
      return `v${between(rng, 1, 9)}.${between(rng, 0, 40)}.${between(rng, 0, 20)}`
    default:
      return `INC-${between(rng, 2019, 2026)}-${String(between(rng, 1, 999)).padStart(4, '0')}`
  }
}

export interface PassageContext {
  service: string
  topic: readonly string[]
}

export function docContext(rng: Rng, service?: string): PassageContext {
  return { service: service ?? pick(rng, SERVICES), topic: pick(rng, TOPICS) }
}

/** A paragraph of sentences, ~minChars..maxChars long. */
export function passage(rng: Rng, ctx: PassageContext, minChars = 400, maxChars = 900): string {
  const target = between(rng, minChars, maxChars)
  const sentences: string[] = []
  let len = 0
  while (len < target) {
    const n = between(rng, 8, 16)
    const words: string[] = []
    for (let i = 0; i < n; i++) {
      const u = rng()
      if (u < 0.3) words.push(pick(rng, ctx.topic))
      else if (u < 0.72) words.push(zipfWord(rng))
      else if (u < 0.9) words.push(pick(rng, GLUE))
      else if (u < 0.96) words.push(ctx.service)
      else words.push(identifier(rng, ctx.service))
    }
    const s = words.join(' ')
    const sentence = `${s[0]!.toUpperCase()}${s.slice(1)}.`
    // Stop before overshooting maxChars so every section stays one chunk (chunker maxChars is 1000).
    if (len > 0 && len + sentence.length + 1 > maxChars) break
    sentences.push(sentence)
    len += sentence.length + 1
  }
  return sentences.join(' ')
}

const QUESTION_TEMPLATES: Array<(w: string[], svc: string) => string> = [
  (w, s) => `how do I fix ${w.join(' ')} on ${s}`,
  (w, s) => `${s} ${w.join(' ')} what should I check first`,
  (w) => `why is there ${w.join(' ')} and how to mitigate it`,
  (w, s) => `runbook for ${s} ${w.join(' ')}`,
  (w) => `${w.join(' ')} after the latest deploy`,
]

/** A question a responder might type about a passage: a few of its content words in a natural frame. */
export function questionFrom(rng: Rng, text: string, service: string): string {
  const words = [...new Set(text.toLowerCase().match(/[a-z0-9][a-z0-9_.-]*[a-z0-9]/g) ?? [])].filter(
    (w) => w.length > 3 && !GLUE.includes(w) && w !== service,
  )
  const chosen: string[] = []
  const want = between(rng, 3, 6)
  for (let i = 0; i < want * 4 && chosen.length < want && words.length; i++) {
    const w = pick(rng, words)
    if (!chosen.includes(w)) chosen.push(w)
  }
  return pick(rng, QUESTION_TEMPLATES)(chosen, service)
}

/** Hand-written questions in the style of the demo eval, to keep a few realistic phrasings in the mix. */
export const FIXED_QUESTIONS: ReadonlyArray<{ query: string; service: string }> = [
  { query: 'payments-api 5xx spike right after a deploy, how do I roll back', service: 'payments-api' },
  { query: 'orderbook-db disk full because WAL retention from a replication slot', service: 'orderbook-db' },
  { query: 'edge-proxy expired TLS certificate renewal failed', service: 'edge-proxy' },
  { query: 'cart-api pods OOMKilled crashloop after memory limit change', service: 'cart-api' },
  { query: 'inventory-api connection pool exhausted timeouts to the database', service: 'inventory-api' },
  { query: 'kafka consumer lag growing on shipment-events', service: 'shipment-events' },
  { query: 'users logged out with invalid_token unknown kid after signing key rotation', service: 'auth-svc' },
  { query: 'catalog-search indexer backlog and stale search results', service: 'catalog-search' },
  { query: 'terraform drift detected by atlantis plan on prod firewall rules', service: 'k8s-shop-prod' },
  { query: 'CI builders queue starvation when spot capacity is short', service: 'ci-builders' },
]

/** A runbook-style markdown document with `sections` H2 sections of one chunk each (~400-900 chars). */
export function markdownDoc(rng: Rng, i: number, sections: number): { name: string; body: string } {
  const ctx = docContext(rng)
  const team = pick(rng, TEAMS)
  const title = `${ctx.service} ${ctx.topic.slice(0, 3).join(' ')} (${i})`
  const heads = shuffle(rng, HEADINGS).slice(0, sections)
  const tags = ctx.topic.slice(0, 4).map((t) => JSON.stringify(t)).join(', ')
  const parts = [`---`, `title: ${JSON.stringify(title)}`, `service: ${ctx.service}`, `team: ${team}`, `tags: [${tags}]`, `---`, '', `# ${title}`, '']
  for (let s = 0; s < sections; s++) parts.push(`## ${heads[s % heads.length]}`, '', passage(rng, ctx), '')
  return { name: `synthetic-${String(i).padStart(5, '0')}.md`, body: parts.join('\n') }
}
