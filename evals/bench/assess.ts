import path from 'node:path'
import { parseArgs } from 'node:util'
import { runIngest } from '../../ingest/pipeline.js'
import { classifyAlert } from '../../src/alerts/classify/index.js'
import { getAlert, receiveAlerts } from '../../src/alerts/receive.js'
import type { CanonicalAlert } from '../../src/alerts/types.js'
import { assessAlert, draftFromPack, gatherEvidence, type AssistantDeps } from '../../src/assistant/assess.js'
import { retrievePassages, telemetryStatus } from '../../src/assistant/evidence.js'
import { createLlmClient } from '../../src/assistant/llm.js'
import { insertAssessment } from '../../src/assistant/store.js'
import { loadConfig } from '../../src/config/env.js'
import { openDatabase, type Database } from '../../src/db/index.js'
import { createLocalEmbeddings } from '../../src/knowledge/embeddings/local.js'
import { refreshTermStats } from '../../src/knowledge/termstats.js'
import { loadReference } from '../../src/policy/reference.js'
import { startFakeOpenAI } from '../../test/helpers/fake-openai.js'
import { loadClassifyCases, type ClassifyCase } from '../classify.js'
import { scriptedReply } from '../suite/llm.js'
import { prng } from './synth.js'
import { buildIndexAfterLoad, bulkLoadSynthetic, createScratchDatabase, fmt, formatTable, intList, loadAvg, percentile, positiveInt, progress, REPO_ROOT, runMain, serverMemoryNote } from './util.js'

// bench:assess — deterministic assessment latency at 10k and 100k indexed chunks on real Postgres, and the
// prompt size of the LLM path.
//
// Knowledge base: synthetic chunks bulk-loaded like bench:retrieval (util.ts bulkLoadSynthetic, one HNSW build
// after the load), plus the demo corpus through runIngest so alerts resolve to real services with runbooks,
// case studies and telemetry. Alerts: the demo labelled payloads (evals/cases/demo-alerts.jsonl, all four
// formats) with a fresh fingerprint per delivery, round-robin. Timed: assessAlert end to end (retrieval,
// telemetry, pack, classification, draft, guard, storing the assessment with its audit row) — the alert is
// received before the clock starts. A second, smaller pass times the phases separately to show where the time
// goes. Tokens: the LLM path against a local fake OpenAI-compatible server, counting what the fake receives.
//
// Targets (issue) are printed beside the figures, never asserted.
// Usage: npm run bench:assess -- [--sizes 10000,100000] [--assessments 300] [--phases 60] [--llm-assessments 72] [--json]

const TARGET_P95_MS = 50
const TARGET_PROMPT_TOKENS = 4000
const WARMUP = 20

const { values: args } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    assessments: { type: 'string', default: '300' },
    phases: { type: 'string', default: '60' },
    'llm-assessments': { type: 'string', default: '72' },
    seed: { type: 'string', default: '7' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

interface Summary {
  n: number
  p50: number
  p95: number
  max: number
}
const summarize = (xs: number[]): Summary => ({ n: xs.length, p50: percentile(xs, 50), p95: percentile(xs, 95), max: Math.max(...xs) })

interface SizeResult {
  size: number
  chunks: number
  loadSeconds: number
  indexSeconds: number
  demoIngestSeconds: number
  assess: Summary
  outcomes: Record<string, number>
  withActions: number
  phases: Record<'gather' | 'retrieval' | 'telemetry' | 'draftAndGuard' | 'store', Summary>
  tokens: TokenResult | null
}

interface TokenResult {
  assessments: number
  counter: string
  /** System + user messages as sent (what the evidence budget bounds). */
  messages: Summary
  /** The whole request body, JSON schema and all: an upper bound on what a server bills. */
  requestBody: Summary
  /** chars/4 of the messages, for comparison with the tokenizer. */
  charsOver4: Summary
  /** What the fake reported as usage (its own estimate: request body length / 4). */
  reportedUsage: Summary
  evidenceChars: number
}

/** Fresh fingerprints so every delivery is a new alert instance (dedup is source + fingerprint + start). */
function uniquePayload(c: ClassifyCase, i: number): unknown {
  const suffix = `-bench${i}`
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v === null || typeof v !== 'object') return v
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'fingerprint' && typeof x === 'string' ? x + suffix : walk(x)]))
  }
  const p = walk(c.payload) as Record<string, unknown>
  if (c.format === 'pagerduty') {
    const data = (p.event as { data: { id: string } }).data
    data.id += suffix
  }
  if (c.format === 'generic') p.fingerprint = `${String(p.fingerprint ?? c.id)}${suffix}`
  return p
}

async function receiveAll(db: Database, cases: ClassifyCase[], from: number, count: number): Promise<string[]> {
  const ids: string[] = []
  for (let i = from; ids.length < count; i++) {
    const c = cases[i % cases.length]!
    const r = await receiveAlerts({ db }, { format: c.format, payload: uniquePayload(c, i) })
    if (!r.ok) throw new Error(`case ${c.id}: ${r.error.message}`)
    for (const a of r.alerts) if (a.needsAssessment) ids.push(a.alertId)
  }
  return ids.slice(0, count)
}

async function main(): Promise<void> {
  if (args.help) {
    console.log('usage: tsx evals/bench/assess.ts [--sizes 10000,100000] [--assessments 300] [--phases 60] [--llm-assessments 72] [--seed 7] [--json]')
    return
  }
  const sizes = intList(args.sizes, 'sizes')
  const n = positiveInt(args.assessments, 'assessments')
  const nPhases = positiveInt(args.phases, 'phases')
  const nLlm = positiveInt(args['llm-assessments'], 'llm-assessments')
  const seed = positiveInt(args.seed, 'seed')
  const env = loadConfig().env
  const settings = { minConfidence: env.WARDEN_MIN_CONFIDENCE, evidenceChars: env.WARDEN_EVIDENCE_CHARS, efSearch: env.WARDEN_HNSW_EF_SEARCH }
  const reference = loadReference({
    catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
    taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
    policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
  })
  const cases = loadClassifyCases(path.join(REPO_ROOT, 'evals/cases/demo-alerts.jsonl'))
  const loadStart = loadAvg()
  const results: SizeResult[] = []
  let serverMemory: string | null = null

  for (const size of sizes) {
    const label = `postgres@${size}`
    const scratch = await createScratchDatabase(`a${size}`)
    progress(`${label}: scratch database ${scratch.name}`)
    const db = await openDatabase({ kind: 'postgres', url: scratch.url, poolMax: 5 })
    try {
      serverMemory ??= await serverMemoryNote(db)
      const embedder = createLocalEmbeddings()
      // Synthetic first, index once, then the demo corpus through the real pipeline (a few hundred rows
      // into an existing graph), then corpus statistics over everything (runIngest only refreshes them when
      // its own share of the corpus is large).
      const load = await bulkLoadSynthetic(db, embedder, prng(seed), size, { label })
      progress(`${label}: building HNSW index`)
      const indexSeconds = await buildIndexAfterLoad(db, embedder)
      let t = performance.now()
      await runIngest({ db, embedder }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 1 << 21 })
      await refreshTermStats(db)
      // VACUUM too, not only ANALYZE: the bulk load makes the table due for autovacuum (inserts alone trigger it
      // since Postgres 13), which would otherwise run beside the timed assessments.
      await db.query('vacuum analyze')
      // And a CHECKPOINT: the load and the index build leave ~1 GB of dirty buffers, which the checkpointer would
      // otherwise be writing out (spread over checkpoint_completion_target) during the timed assessments.
      await db.query('checkpoint').catch((err: Error) => progress(`${label}: checkpoint skipped (${err.message})`))
      const demoIngestSeconds = (performance.now() - t) / 1000
      const chunks = (await db.query<{ n: number }>('select count(*)::int n from chunks')).rows[0]!.n
      progress(`${label}: ${chunks} chunks indexed (synthetic load ${fmt(load.seconds)} s, index ${fmt(indexSeconds)} s, demo ingest ${fmt(demoIngestSeconds)} s)`)

      const deps: AssistantDeps = { db, embedder, reference, llm: null, settings }
      const ids = await receiveAll(db, cases, 0, WARMUP + n)
      for (const id of ids.slice(0, WARMUP)) await assessAlert(deps, id)
      progress(`${label}: timing ${n} deterministic assessments`)
      const ms: number[] = []
      const outcomes: Record<string, number> = {}
      let withActions = 0
      for (const id of ids.slice(WARMUP)) {
        t = performance.now()
        const a = await assessAlert(deps, id)
        ms.push(performance.now() - t)
        outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1
        if (a.draft.actions.length) withActions++
      }

      progress(`${label}: phase breakdown over ${nPhases} more alerts`)
      const phases = await timePhases(deps, await receiveAll(db, cases, WARMUP + n + 1000, nPhases))

      progress(`${label}: LLM path against a local fake server, ${nLlm} assessments`)
      const tokens = await measureTokens(deps, await receiveAll(db, cases, WARMUP + n + 5000, nLlm), settings.evidenceChars)

      results.push({ size, chunks, loadSeconds: load.seconds, indexSeconds, demoIngestSeconds, assess: summarize(ms), outcomes, withActions, phases, tokens })
    } finally {
      await db.close().catch(() => {})
      await scratch.drop()
    }
  }
  console.log(report(results, loadStart, n, settings.evidenceChars, serverMemory))
  if (args.json) console.log(JSON.stringify({ targets: { p95Ms: TARGET_P95_MS, promptTokens: TARGET_PROMPT_TOKENS }, results }, null, 2))
}

/**
 * The same steps as assessAlert, timed one by one: gatherEvidence (whose retrieval and telemetry steps are
 * re-run alone on the same inputs to split it), draftFromPack (draft + guard), and the insert with its audit
 * row. The rerun sees warm caches, so its figures are a lower bound on the share inside gather.
 */
async function timePhases(deps: AssistantDeps, ids: string[]): Promise<SizeResult['phases']> {
  const p = { gather: [] as number[], retrieval: [] as number[], telemetry: [] as number[], draftAndGuard: [] as number[], store: [] as number[] }
  const { catalog, taxonomy } = deps.reference
  const evDeps = { db: deps.db, embedder: deps.embedder, catalog, efSearch: deps.settings?.efSearch }
  for (const id of ids) {
    const alert = (await getAlert(deps.db, id)) as CanonicalAlert
    let t = performance.now()
    const g = await gatherEvidence(deps, alert)
    p.gather.push(performance.now() - t)
    t = performance.now()
    const d = await draftFromPack(deps, g)
    p.draftAndGuard.push(performance.now() - t)
    t = performance.now()
    await deps.db.transaction((tx) =>
      insertAssessment(tx, { id: `as_bench_${id}`, subject: 'alert', alertId: id, question: null, outcome: d.outcome, refusalReason: d.refusalReason, classification: g.classification, draft: d.draft, evidencePack: g.pack, interventions: d.interventions, injectionFlagged: g.injection.length > 0, provenance: d.provenance, confidence: g.classification.confidence, startedAt: new Date().toISOString() }, new Date()),
    )
    p.store.push(performance.now() - t)
    // Split of gather, on the same inputs (same query construction as gatherEvidence).
    const first = classifyAlert(alert, { catalog, taxonomy })
    const query = [alert.name.replace(/([a-z])([A-Z])/g, '$1 $2'), alert.summary, alert.description].filter(Boolean).join('. ').slice(0, 1500)
    t = performance.now()
    await retrievePassages(evDeps, query, first.service)
    p.retrieval.push(performance.now() - t)
    t = performance.now()
    await telemetryStatus(deps.db, first.service, alert.startsAt ? new Date(alert.startsAt) : new Date())
    p.telemetry.push(performance.now() - t)
  }
  return { gather: summarize(p.gather), retrieval: summarize(p.retrieval), telemetry: summarize(p.telemetry), draftAndGuard: summarize(p.draftAndGuard), store: summarize(p.store) }
}

/** A real tokenizer when one is installed (js-tiktoken, o200k_base as gpt-4o-mini), else chars/4. */
async function tokenCounter(): Promise<{ name: string; count: (s: string) => number }> {
  try {
    const mod = (await import('js-tiktoken')) as { getEncoding: (name: string) => { encode: (s: string) => number[] } }
    const enc = mod.getEncoding('o200k_base')
    return { name: 'o200k_base (js-tiktoken)', count: (s) => enc.encode(s).length }
  } catch {
    return { name: 'chars/4 estimate (js-tiktoken not installed)', count: (s) => Math.ceil(s.length / 4) }
  }
}

async function measureTokens(base: AssistantDeps, ids: string[], evidenceChars: number): Promise<TokenResult> {
  const fake = await startFakeOpenAI()
  try {
    fake.script(scriptedReply('warden_assessment', 0))
    const llm = createLlmClient({ apiKey: 'sk-fake-bench', baseURL: fake.baseURL, model: 'gpt-4o-mini', method: 'jsonSchema', timeoutMs: 10_000 })
    const deps: AssistantDeps = { ...base, llm }
    const counter = await tokenCounter()
    const messages: number[] = []
    const body: number[] = []
    const chars4: number[] = []
    const reported: number[] = []
    for (const id of ids) {
      const before = fake.requests.length
      const a = await assessAlert(deps, id)
      const sent = fake.requests.slice(before)
      // Alerts without a resolved service still call the model; every call of this assessment counts.
      if (sent.length === 0) continue
      const msgs = sent.flatMap((r) => (r.body.messages ?? []) as Array<{ role: string; content: string }>)
      // ~4 tokens of chat framing per message (role, separators), as OpenAI's counting guide describes.
      messages.push(msgs.reduce((s, m) => s + counter.count(String(m.content)) + 4, 0))
      chars4.push(Math.ceil(msgs.reduce((s, m) => s + String(m.content).length, 0) / 4))
      body.push(sent.reduce((s, r) => s + counter.count(JSON.stringify(r.body)), 0))
      if (a.provenance.tokens) reported.push(a.provenance.tokens.prompt)
    }
    return { assessments: messages.length, counter: counter.name, messages: summarize(messages), requestBody: summarize(body), charsOver4: summarize(chars4), reportedUsage: summarize(reported), evidenceChars }
  } finally {
    await fake.close()
  }
}

function report(results: SizeResult[], loadStart: string, n: number, evidenceChars: number, serverMemory: string | null): string {
  const ms = (x: number) => fmt(x, 1)
  const verdict = (p95: number) => (p95 <= TARGET_P95_MS ? 'meets' : 'MISSES')
  const out: string[] = [
    `bench:assess — deterministic assessAlert on real PostgreSQL (local-hash embeddings, no network); load avg at start ${loadStart}, now ${loadAvg()}`,
    `PostgreSQL: ${serverMemory ?? 'unknown'}`,
    '',
    formatTable(
      ['chunks', 'assessments', 'p50 ms', 'p95 ms', 'max ms', `target p95 ≤ ${TARGET_P95_MS} ms`, 'outcomes', 'with actions'],
      results.map((r) => [fmt(r.chunks, 0), String(r.assess.n), ms(r.assess.p50), ms(r.assess.p95), ms(r.assess.max), verdict(r.assess.p95), Object.entries(r.outcomes).map(([k, v]) => `${k} ${v}`).join(', '), String(r.withActions)]),
    ),
    '',
    'Where the time goes (p50 / p95 ms; retrieval and telemetry are re-run alone, with warm caches, on the same inputs as gather):',
    formatTable(
      ['chunks', 'gather evidence', '  retrieval (5 searches)', '  telemetry', 'draft + guard', 'store + audit'],
      results.map((r) => [fmt(r.chunks, 0), ...(['gather', 'retrieval', 'telemetry', 'draftAndGuard', 'store'] as const).map((k) => `${ms(r.phases[k].p50)} / ${ms(r.phases[k].p95)}`)]),
    ),
    '',
    `Prompt tokens per assessment, LLM path (fake OpenAI-compatible server; WARDEN_EVIDENCE_CHARS=${evidenceChars}; target ≤ ${fmt(TARGET_PROMPT_TOKENS, 0)}):`,
    formatTable(
      ['chunks', 'assessments', 'messages p50', 'messages max', 'whole request p50', 'whole request max', 'chars/4 p50', 'fake-reported p50', 'verdict'],
      results.map((r) => {
        const t = r.tokens
        if (!t) return [fmt(r.chunks, 0), '0', '-', '-', '-', '-', '-', '-', '-']
        return [fmt(r.chunks, 0), String(t.assessments), fmt(t.messages.p50, 0), fmt(t.messages.max, 0), fmt(t.requestBody.p50, 0), fmt(t.requestBody.max, 0), fmt(t.charsOver4.p50, 0), fmt(t.reportedUsage.p50, 0), t.messages.max <= TARGET_PROMPT_TOKENS ? 'meets' : 'MISSES']
      }),
    ),
    `  token counter: ${results[0]?.tokens?.counter ?? '-'}; "messages" = system + user message content + 4 per message (what a chat model bills as input);`,
    '  "whole request" tokenises the JSON body including the response JSON schema (an upper bound); the fake reports body length / 4.',
    '',
    `Setup per size: synthetic bulk load ${results.map((r) => `${fmt(r.loadSeconds)} s`).join(' / ')}, HNSW build ${results.map((r) => `${fmt(r.indexSeconds)} s`).join(' / ')}, demo ingest ${results.map((r) => `${fmt(r.demoIngestSeconds)} s`).join(' / ')}; ${WARMUP} warm-up assessments before the ${n} timed.`,
  ]
  return out.join('\n')
}

runMain(main)
