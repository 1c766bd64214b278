import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { IngestBusyError, runIngest } from '../../../ingest/pipeline.js'
import { getRun } from '../../../ingest/runs.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import type { EmbeddingProvider } from '../../../src/knowledge/embeddings/types.js'
import { search } from '../../../src/knowledge/search.js'
import { latestTelemetry } from '../../../src/knowledge/store.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// The embedder is real (local hashing); the wrapper only counts calls so tests can prove
// that unchanged sources cost no embedding.
function counting(inner: EmbeddingProvider) {
  const stats = { calls: 0, texts: 0 }
  const provider: EmbeddingProvider = {
    id: inner.id,
    dim: inner.dim,
    async embed(texts) {
      stats.calls++
      stats.texts += texts.length
      return inner.embed(texts)
    },
  }
  return { provider, stats }
}

/** `inner` except that texts containing `word` embed as NaN, which pgvector rejects: that source's write fails. */
function failingOn(inner: EmbeddingProvider, word: string): EmbeddingProvider {
  return {
    id: inner.id,
    dim: inner.dim,
    embed: async (texts) => (await inner.embed(texts)).map((v, i) => (texts[i]!.includes(word) ? v.map(() => Number.NaN) : v)),
  }
}

const RUNBOOK = (team = 'storefront') => `---
title: Cart API memory exhaustion
service: cart-api
team: ${team}
tags: [oom, memory]
last_reviewed: 2026-10-01
---
# Cart API memory exhaustion

## Symptoms
Pods of cart-api restart with OOMKilled; the container memory limit is 768Mi.

## Triage
1. Check restarts: kubectl -n shop get pods -l app=cart-api
2. Compare heap usage with the limit on the JVM dashboard.

## Mitigation
Propose restart_workload for the leaking pod, or scale_workload when traffic doubled.
`

const CASE_STUDY = `---
incident_id: INC-2025-0001
title: Cart API OOM during the spring sale
services: [cart-api]
failure_class: resource_exhaustion
started_at: 2025-04-01T10:00:00Z
resolved_at: 2025-04-01T11:30:00Z
mitigation: Raised the memory limit to 1Gi and rolled the pods.
outcome: Checkout recovered after 90 minutes.
---
# Cart API OOM during the spring sale

## Summary
A promotion banner cached full product images in memory; cart-api pods were OOMKilled every 4 minutes.

## Follow-ups
Bound the image cache at 64 MiB.
`

const TELEMETRY = (status: 'ok' | 'unsafe', end = '2026-11-21T14:00:00Z') =>
  JSON.stringify({
    service: 'cart-api',
    window: { start: '2026-11-21T13:00:00Z', end },
    signals: { error_rate: 0.02, latency_p95_ms: 420, memory_saturation: 0.97 },
    data_quality: { status, freshness_lag_s: 40, completeness_pct: status === 'ok' ? 100 : 41, reasons: status === 'ok' ? [] : ['scrape gap 35 min'] },
    recent_changes: [{ type: 'deploy', at: '2026-11-21T12:50:00Z', id: 'deploy-cart-991', revision: 'v2026.11.21-2', previous_revision: 'v2026.11.20-1' }],
  })

const FEED = `<?xml version="1.0"?><rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Ops notes</title><link>https://notes.example/</link>
<item><title>Connection pool sizing</title><link>https://notes.example/pool-sizing</link><pubDate>Mon, 02 Nov 2026 00:00:00 GMT</pubDate><category>postgres</category>
<content:encoded><![CDATA[<h2>Why pools saturate</h2><p>Each replica opens 20 connections; with 30 replicas the database max_connections of 500 is exceeded.</p><h2>What to do</h2><p>Put pgbouncer in transaction mode in front of the primary.</p>]]></content:encoded></item>
<item><title>DNS TTLs during failover</title><link>https://notes.example/dns-ttl</link><pubDate>Tue, 03 Nov 2026 00:00:00 GMT</pubDate>
<content:encoded><![CDATA[<p>Clients cached the old primary address for the full 300 second TTL.</p>]]></content:encoded></item>
</channel></rss>`

const HTML_PAGE = `<html><head><title>Escalation policy</title></head><body><h1>Escalation policy</h1><h2>Paging</h2><p>Page the incident commander after 15 minutes without mitigation.</p></body></html>`

const ATOM = `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Status notes</title><id>urn:status</id><updated>2026-11-05T00:00:00Z</updated>
<entry><title>Queue lag after the broker upgrade</title><id>urn:status:1</id><link rel="alternate" href="https://status.example/queue-lag"/><updated>2026-11-04T00:00:00Z</updated><category term="kafka"/>
<content type="html">&lt;h2&gt;What we saw&lt;/h2&gt;&lt;p&gt;Consumer lag on the orders topic reached 48000 messages after the rolling upgrade.&lt;/p&gt;</content></entry>
<entry><title>Certificate rotation</title><id>urn:status:2</id><link rel="alternate" href="https://status.example/cert-rotation"/><updated>2026-11-05T00:00:00Z</updated>
<summary>The ingress certificate is rotated every 60 days by cert-manager.</summary></entry>
</feed>`

const MD_PAGE = `---
title: On-call handbook
---
# On-call handbook

## Handover
Write the handover note in the incident channel before 09:30.
`

function writeCorpus(dir: string, files: Record<string, string | Buffer>) {
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), content)
  }
}

describe(`ingestion pipeline (${backend})`, () => {
  let t: TestDatabase
  let dir: string
  const local = createLocalEmbeddings()

  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())
  beforeEach(async () => {
    await t.db.query('truncate sources, chunks, telemetry_summaries, ingest_runs, ingest_run_items cascade')
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-corpus-'))
    writeCorpus(dir, {
      'runbooks/cart-api-oom.md': RUNBOOK(),
      'incidents/INC-2025-0001.md': CASE_STUDY,
      'telemetry/cart-api.json': TELEMETRY('ok'),
      'feeds/ops.xml': FEED,
      'pages/escalation.html': HTML_PAGE,
    })
  })

  it('indexes every source type with its kind, heading paths and the latest telemetry', async () => {
    const { provider, stats } = counting(local)
    const s = await runIngest({ db: t.db, embedder: provider }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('complete')
    expect(s.counts).toMatchObject({ read: 5, sources: 6, new: 6, quarantined: 0, failed: 0 })
    expect(stats.calls).toBe(6)
    const { rows } = await t.db.query<{ uri: string; kind: string; service: string | null }>('select uri, kind, service from sources order by uri')
    expect(rows).toEqual([
      { uri: 'file://incidents/INC-2025-0001.md', kind: 'case_study', service: 'cart-api' },
      { uri: 'file://pages/escalation.html', kind: 'doc', service: null },
      { uri: 'file://runbooks/cart-api-oom.md', kind: 'runbook', service: 'cart-api' },
      { uri: 'file://telemetry/cart-api.json', kind: 'telemetry', service: 'cart-api' },
      { uri: 'https://notes.example/dns-ttl', kind: 'doc', service: null },
      { uri: 'https://notes.example/pool-sizing', kind: 'doc', service: null },
    ])
    const triage = await t.db.query<{ heading_path: string[] }>(
      "select c.heading_path from chunks c join sources s on s.id = c.source_id where s.uri = 'file://runbooks/cart-api-oom.md' order by ord",
    )
    expect(triage.rows.map((r) => r.heading_path.at(-1))).toContain('Triage')
    const tel = await latestTelemetry(t.db, 'cart-api')
    expect(tel?.data_quality_status).toBe('ok')
    expect(tel?.document.recent_changes[0]?.revision).toBe('v2026.11.21-2')
  })

  it('quarantines bad input with a reason and still indexes everything else', async () => {
    writeCorpus(dir, {
      'runbooks/no-team.md': '---\ntitle: Orphan\nservice: cart-api\n---\n# Orphan\n\nSome text.\n',
      'runbooks/broken-yaml.md': '---\ntitle: [unclosed\n---\n# Broken\n\nBody\n',
      'runbooks/empty.md': '   \n',
      'blob.md': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x01]),
      'big.md': `# Big\n\n${'x'.repeat(5000)}`,
      'telemetry/bad.json': '{"service": "cart-api", "signals": {}, "data_quality": {"status": "weird"}}',
      'notes.txt.exe': 'MZ',
    })
    const s = await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 4096 })
    expect(s.status).toBe('complete')
    expect(s.counts.new).toBe(6)
    const q = Object.fromEntries(s.items.filter((i) => i.outcome === 'quarantined').map((i) => [i.uri, i.reason]))
    expect(q).toEqual({
      'file://runbooks/no-team.md': 'missing_field',
      'file://runbooks/broken-yaml.md': 'unparseable',
      'file://runbooks/empty.md': 'empty',
      'file://blob.md': 'binary',
      'file://big.md': 'oversized',
      'file://telemetry/bad.json': expect.stringMatching(/invalid_field|missing_field/),
      'file://notes.txt.exe': 'unsupported_type',
    })
    const detail = s.items.find((i) => i.uri === 'file://runbooks/no-team.md')?.detail
    expect(detail).toMatch(/team/)
    const stored = await getRun(t.db, s.runId)
    expect(stored?.items.filter((i) => i.outcome === 'quarantined')).toHaveLength(7)
    const reasons = stored!.run.counts.quarantine_reasons
    expect(reasons).toMatchObject({ unparseable: 1, empty: 1, binary: 1, oversized: 1, unsupported_type: 1 })
    expect(Object.values(reasons).reduce((a, b) => a + b, 0)).toBe(7)
  })

  it('re-ingesting unchanged sources makes no embedding call and no write; a change replaces chunks atomically', async () => {
    const first = counting(local)
    await runIngest({ db: t.db, embedder: first.provider }, { inputs: [dir], maxBytes: 1 << 20 })
    const before = await t.db.query<{ id: number; updated_at: Date }>('select id, updated_at from sources order by id')
    const chunkIdsBefore = (await t.db.query<{ id: number }>('select id from chunks order by id')).rows.map((r) => r.id)

    const again = counting(local)
    const s2 = await runIngest({ db: t.db, embedder: again.provider }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s2.counts).toMatchObject({ unchanged: 6, new: 0, updated: 0, chunks_written: 0, embedding_calls: 0 })
    expect(again.stats.calls).toBe(0)
    expect((await t.db.query('select id, updated_at from sources order by id')).rows).toEqual(before.rows)
    expect((await t.db.query<{ id: number }>('select id from chunks order by id')).rows.map((r) => r.id)).toEqual(chunkIdsBefore)
    expect((await getRun(t.db, s2.runId))?.items.every((i) => i.outcome === 'unchanged' && i.content_hash)).toBe(true)

    writeCorpus(dir, { 'runbooks/cart-api-oom.md': RUNBOOK().replace('768Mi', '1536Mi') })
    const third = counting(local)
    const s3 = await runIngest({ db: t.db, embedder: third.provider }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s3.counts).toMatchObject({ updated: 1, unchanged: 5 })
    expect(third.stats.calls).toBe(1)
    const texts = await t.db.query<{ text: string }>(
      "select c.text from chunks c join sources s on s.id = c.source_id where s.uri = 'file://runbooks/cart-api-oom.md'",
    )
    expect(texts.rows.some((r) => r.text.includes('1536Mi'))).toBe(true)
    expect(texts.rows.some((r) => r.text.includes('768Mi'))).toBe(false)
  })

  it('tombstones a source that disappeared from a synced directory and from a feed', async () => {
    await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    fs.rmSync(path.join(dir, 'telemetry/cart-api.json'))
    writeCorpus(dir, { 'feeds/ops.xml': FEED.replace(/<item><title>DNS TTLs[\s\S]*?<\/item>/, '') })
    const s = await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('complete')
    expect(s.items.filter((i) => i.outcome === 'tombstoned').map((i) => i.uri).sort()).toEqual([
      'file://telemetry/cart-api.json',
      'https://notes.example/dns-ttl',
    ])
    expect(await latestTelemetry(t.db, 'cart-api')).toBeNull()
    const hits = await search({ db: t.db, embedder: local }, { query: 'DNS TTL old primary address', k: 10 })
    expect(hits.map((h) => h.sourceUri)).not.toContain('https://notes.example/dns-ttl')
    const row = await t.db.query<{ status: string }>("select status from sources where uri = 'https://notes.example/dns-ttl'")
    expect(row.rows[0]?.status).toBe('tombstoned')
  })

  it('a feed that can no longer be parsed does not tombstone its items', async () => {
    await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    writeCorpus(dir, { 'feeds/ops.xml': '<rss><channel><item>' })
    const s = await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.counts.tombstoned).toBe(0)
    expect(s.items.find((i) => i.uri === 'file://feeds/ops.xml')?.outcome).toBe('quarantined')
  })

  it('a source whose write fails leaves nothing of itself behind and the other sources are indexed', async () => {
    // pgvector rejects NaN: the chunk insert of this one source fails inside its (single-statement) write.
    const poisoned = failingOn(local, 'pgbouncer')
    const s = await runIngest({ db: t.db, embedder: poisoned }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('failed')
    const failed = s.items.filter((i) => i.outcome === 'failed')
    expect(failed.map((i) => [i.uri, i.reason])).toEqual([['https://notes.example/pool-sizing', 'index_error']])
    expect(s.counts.new).toBe(5)
    // Not half-visible: no source row, no chunk; the run item says why.
    const left = await t.db.query("select 1 from sources where uri = 'https://notes.example/pool-sizing'")
    expect(left.rows).toHaveLength(0)
    const chunks = await t.db.query<{ uri: string }>('select distinct s.uri from chunks c join sources s on s.id = c.source_id order by 1')
    expect(chunks.rows.map((r) => r.uri)).not.toContain('https://notes.example/pool-sizing')
    expect(chunks.rows).toHaveLength(5)
    const stored = await getRun(t.db, s.runId)
    expect(stored?.items.find((i) => i.uri === 'https://notes.example/pool-sizing')).toMatchObject({ outcome: 'failed', reason: 'index_error' })
    expect(await latestTelemetry(t.db, 'cart-api')).not.toBeNull()
    // The next run converges: the source is written then.
    const again = await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(again.counts).toMatchObject({ new: 1, unchanged: 5, failed: 0 })
  })

  it('an item listed by two feeds of one run is looked up after its first write, as in a sequential run', async () => {
    const copy = FEED.replace(/<item><title>Connection pool[\s\S]*?<\/item>/, '')
    writeCorpus(dir, { 'feeds/ops-copy.xml': copy })
    const c = counting(local)
    // The real database, with each source write held back 30 ms (a slow server): the next feed is read and
    // looked up meanwhile, so the race this guards against is certain to happen.
    const slowWrites = new Proxy(t.db, {
      get: (db, key) =>
        key === 'query'
          ? async (sql: string, params?: unknown[]) => {
              if (sql.startsWith('with src as')) await new Promise((r) => setTimeout(r, 30))
              return db.query(sql, params)
            }
          : Reflect.get(db, key),
    })
    const s = await runIngest({ db: slowWrites, embedder: c.provider }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('complete')
    const dns = s.items.filter((i) => i.uri === 'https://notes.example/dns-ttl').map((i) => i.outcome)
    // Its metadata names the feed, so the second listing differs and updates the first; looked up before the
    // first write (one-candidate lookahead), it would be counted new twice.
    expect(dns).toEqual(['new', 'updated'])
    expect(c.stats.calls).toBe(7)
    const rows = await t.db.query<{ n: number }>(
      "select count(*)::int as n from chunks c join sources s on s.id = c.source_id where s.uri = 'https://notes.example/dns-ttl'",
    )
    expect(rows.rows[0]!.n).toBe(1)
  })

  it('ingests an Atom feed and a plain Markdown page end to end, as docs with their links and headings', async () => {
    writeCorpus(dir, { 'feeds/status.atom': ATOM, 'pages/handbook.md': MD_PAGE })
    const s = await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('complete')
    expect(s.counts).toMatchObject({ read: 7, new: 9, quarantined: 0 })
    const { rows } = await t.db.query<{ uri: string; kind: string; title: string }>(
      "select uri, kind, title from sources where uri like 'https://status.example/%' or uri = 'file://pages/handbook.md' order by uri",
    )
    expect(rows).toEqual([
      { uri: 'file://pages/handbook.md', kind: 'doc', title: 'On-call handbook' },
      { uri: 'https://status.example/cert-rotation', kind: 'doc', title: 'Certificate rotation' },
      { uri: 'https://status.example/queue-lag', kind: 'doc', title: 'Queue lag after the broker upgrade' },
    ])
    const lag = await search({ db: t.db, embedder: local }, { query: 'consumer lag orders topic rolling upgrade', k: 1, kind: 'doc' })
    expect(lag[0]).toMatchObject({ sourceUri: 'https://status.example/queue-lag', kind: 'doc' })
    expect(lag[0]!.headingPath).toContain('What we saw')
    const handover = await search({ db: t.db, embedder: local }, { query: 'handover note incident channel', k: 1 })
    expect(handover[0]).toMatchObject({ sourceUri: 'file://pages/handbook.md', headingPath: ['On-call handbook', 'Handover'] })
  })

  it('quarantines a URL it cannot read as unreadable, records the run\'s model, and indexes the rest', async () => {
    const server = http.createServer((_req, res) => res.writeHead(503).end('down for maintenance'))
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const down = `http://127.0.0.1:${(server.address() as AddressInfo).port}/runbooks/db.md`
    // A port nothing listens on: connection refused.
    const closed = http.createServer()
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r))
    const refused = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/feed.xml`
    await new Promise((r) => closed.close(r))
    try {
      const s = await runIngest({ db: t.db, embedder: local }, { inputs: [dir, down, refused], maxBytes: 1 << 20 })
      // Every input was indexed or quarantined with a reason: the run is complete.
      expect(s.status).toBe('complete')
      expect(s.counts).toMatchObject({ new: 6, quarantined: 2, failed: 0 })
      const bad = s.items.filter((i) => i.outcome === 'quarantined')
      expect(bad.map((i) => [i.uri, i.reason])).toEqual([
        [down, 'unreadable'],
        [refused, 'unreadable'],
      ])
      expect(bad[0]!.detail).toMatch(/503/)
      const stored = await getRun(t.db, s.runId)
      expect(stored?.run.embedding_model).toBe(local.id)
      expect(stored?.run.counts.quarantine_reasons).toEqual({ unreadable: 2 })
      expect((await t.db.query('select 1 from sources where uri = any($1)', [[down, refused]])).rows).toHaveLength(0)
    } finally {
      await new Promise((r) => server.close(r))
    }
  })

  it('allows a single writer: a second concurrent run fails fast', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => (release = r))
    const slow: EmbeddingProvider = { id: local.id, dim: local.dim, embed: async (x) => (await gate, local.embed(x)) }
    const first = runIngest({ db: t.db, embedder: slow }, { inputs: [dir], maxBytes: 1 << 20 })
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    await expect(runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })).rejects.toBeInstanceOf(IngestBusyError)
    expect(Date.now() - started).toBeLessThan(2000)
    release()
    expect((await first).status).toBe('complete')
  })

  it('switching embedding model re-embeds every source and never mixes models in search', async () => {
    await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    const other = createLocalEmbeddings({ dim: 256 })
    expect(other.id).not.toBe(local.id)
    const s = await runIngest({ db: t.db, embedder: other }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.counts.updated).toBe(6)
    expect(s.items.every((i) => i.reason === 'model_switch')).toBe(true)
    const models = await t.db.query<{ embedding_model: string; embedding_dim: number }>('select distinct embedding_model, embedding_dim from chunks')
    expect(models.rows).toEqual([{ embedding_model: other.id, embedding_dim: 256 }])
    const hits = await search({ db: t.db, embedder: other }, { query: 'cart-api OOMKilled memory limit', k: 3, mode: 'vector' })
    expect(hits.length).toBeGreaterThan(0)
    // The old model has no rows left, so a query embedded with it finds nothing rather than comparing across models.
    expect(await search({ db: t.db, embedder: local }, { query: 'cart-api OOMKilled', k: 3, mode: 'vector' })).toEqual([])
  })

  it('two models side by side (a switch cut short): a query of either model sees only that model\'s chunks', async () => {
    await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    const other = createLocalEmbeddings({ dim: 256 })
    // The switch fails for one source (pgvector rejects NaN), which keeps its chunks of the old model.
    const poisoned = failingOn(other, 'pgbouncer')
    const s = await runIngest({ db: t.db, embedder: poisoned }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(s.status).toBe('failed')
    const models = await t.db.query<{ uri: string; embedding_model: string }>(
      'select distinct s.uri, c.embedding_model from chunks c join sources s on s.id = c.source_id order by 1',
    )
    expect(models.rows.filter((r) => r.embedding_model === local.id).map((r) => r.uri)).toEqual(['https://notes.example/pool-sizing'])
    expect(models.rows.filter((r) => r.embedding_model === other.id)).toHaveLength(5)
    // 'primary' is in both notes' text: full text too has rows of both models to choose from.
    const query = 'pgbouncer in front of the primary'
    for (const mode of ['hybrid', 'vector', 'fts'] as const) {
      const mine = await search({ db: t.db, embedder: other }, { query, k: 10, mode })
      expect(mine.length, mode).toBeGreaterThan(0)
      expect(mine.map((h) => h.sourceUri), mode).not.toContain('https://notes.example/pool-sizing')
      const old = await search({ db: t.db, embedder: local }, { query, k: 10, mode })
      expect(new Set(old.map((h) => h.sourceUri)), mode).toEqual(new Set(['https://notes.example/pool-sizing']))
    }
    // The next run with the new model finishes the switch.
    const again = await runIngest({ db: t.db, embedder: other }, { inputs: [dir], maxBytes: 1 << 20 })
    expect(again.counts).toMatchObject({ updated: 1, unchanged: 5 })
    expect((await t.db.query('select distinct embedding_model from chunks')).rows).toEqual([{ embedding_model: other.id }])
  })

  it('filters by service and kind and still returns k hits', async () => {
    await runIngest({ db: t.db, embedder: local }, { inputs: [dir], maxBytes: 1 << 20 })
    const runbooks = await search({ db: t.db, embedder: local }, { query: 'memory limit OOMKilled restart', k: 3, kind: 'runbook' })
    expect(runbooks.length).toBe(3)
    expect(new Set(runbooks.map((h) => h.kind))).toEqual(new Set(['runbook']))
    const svc = await search({ db: t.db, embedder: local }, { query: 'connection pool pgbouncer', k: 4, service: 'cart-api' })
    expect(svc.length).toBe(4)
    expect(svc.every((h) => h.service === 'cart-api')).toBe(true)
    const team = await search({ db: t.db, embedder: local }, { query: 'memory limit restart pods', k: 3, team: 'storefront' })
    expect(team.length).toBe(3)
    expect(team.every((h) => h.team === 'storefront')).toBe(true)
    expect(await search({ db: t.db, embedder: local }, { query: 'memory limit restart pods', k: 3, team: 'no-such-team' })).toEqual([])
    const top = await search({ db: t.db, embedder: local }, { query: 'pgbouncer transaction mode', k: 1 })
    expect(top[0]?.sourceUri).toBe('https://notes.example/pool-sizing')
    expect(top[0]?.headingPath).toContain('What to do')
  })
})
