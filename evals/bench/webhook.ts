import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import autocannon from 'autocannon'
import pg from 'pg'
import { runIngest } from '../../ingest/pipeline.js'
import { openDatabase } from '../../src/db/index.js'
import { createToken } from '../../src/http/auth/tokens.js'
import { createLocalEmbeddings } from '../../src/knowledge/embeddings/local.js'
import { fmt, formatTable, loadAvg, onCleanup, positiveInt, progress, REPO_ROOT, runMain } from './util.js'

// Webhook benchmark: the real server (`warden serve`, a child process — the figures are the server's, not the
// load generator's) on real Postgres in deterministic mode, loaded by autocannon:
//   1. POST /v1/alerts/alertmanager — every request a NEW alert (unique fingerprint), so each one is an insert
//      plus an audit row plus whatever intake enqueues, never a cheap dedupe hit;
//   2. POST /v1/ask — retrieval + deterministic draft + guard + stored answer.
// Reported beside the targets from the issue (≥ 200 alerts/s, p99 ≤ 100 ms, 0 errors, RSS growth < 10 %).
// Nothing is asserted: this is a measurement tool. The database is dropped and re-created at start.
//
// Two deployment shapes: assessment workers inside the API process (`--workers N`, WARDEN_WORKER_CONCURRENCY),
// or an API process with no workers plus `warden worker` processes beside it (`--worker-processes P`, each
// with `--workers` slots, default 1) — the shape for a busy intake, where assessment CPU cannot stall the API's
// event loop. Memory: RSS is sampled through the run, and the server's post-GC heap (heap-probe.cjs, SIGUSR2)
// is read before and after each phase, so RSS growth can be told apart as leak (heap grows) or warm-up.
//
// Usage: npm run bench:webhook -- [--duration 60] [--ask-duration N] [--connections 10] [--workers N]
//        [--worker-processes P] [--database-url postgres://…/warden_bench] [--keep] [--json]

const TARGET = { alertsPerSec: 200, p99Ms: 100, errors: 0, rssGrowthPct: 10 }

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    'ask-duration': { type: 'string' },
    connections: { type: 'string', default: '10' },
    /** Assessment workers in the server (WARDEN_WORKER_CONCURRENCY); 0 separates intake cost from assessment cost. */
    workers: { type: 'string' },
    /** `warden worker` processes beside the API (which then runs no workers); each has --workers slots (default 1). */
    'worker-processes': { type: 'string', default: '0' },
    /** Write a V8 CPU profile of the API process to this directory (node --cpu-prof; open in Chrome DevTools). */
    'cpu-prof': { type: 'string' },
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/warden_bench' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
})
const duration = positiveInt(args.duration!, 'duration')
const askDuration = args['ask-duration'] ? positiveInt(args['ask-duration'], 'ask-duration') : duration
const connections = positiveInt(args.connections!, 'connections')
const dbUrl = args['database-url']!
const workerProcesses = Number(args['worker-processes'])
if (!Number.isInteger(workerProcesses) || workerProcesses < 0) throw new Error('--worker-processes: a whole number ≥ 0')
const shape = workerProcesses > 0 ? `API with 0 workers + ${workerProcesses} worker process(es) × ${args.workers ?? 1} slot(s)` : `API with in-process workers ${args.workers ?? 'default'}`
const HEAP_PROBE = path.join(REPO_ROOT, 'evals/bench/heap-probe.cjs')

/** Drops and re-creates the bench database through the server's `postgres` database. */
async function freshDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1)
  if (!/^[a-z_][a-z0-9_]*$/i.test(name)) throw new Error(`--database-url: unsupported database name "${name}"`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin.toString() })
    await c.connect()
    try {
      await c.query(sql)
    } finally {
      await c.end()
    }
  }
  await run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await run(`CREATE DATABASE ${name}`)
  if (!args.keep) onCleanup(() => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))
}

/** Migrated database with the demo corpus and two tokens (webhook, oncall). */
async function prepare(): Promise<{ webhook: string; oncall: string; questions: string[] }> {
  const db = await openDatabase({ kind: 'postgres', url: dbUrl, poolMax: 4 })
  try {
    const s = await runIngest({ db, embedder: createLocalEmbeddings() }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 2 << 20 })
    progress(`demo corpus ingested: ${JSON.stringify(s.counts)}`)
    const webhook = (await createToken(db, { name: 'bench-webhook', identity: 'bench-alertmanager', roles: ['webhook'] }, 'bench')).token
    const oncall = (await createToken(db, { name: 'bench-oncall', identity: 'bench-oncall', roles: ['oncall'] }, 'bench')).token
    const questions = fs.readFileSync(path.join(REPO_ROOT, 'evals/cases/demo-retrieval.jsonl'), 'utf8').split('\n').filter((l) => l.trim()).map((l) => String((JSON.parse(l) as { question: string }).question))
    return { webhook, oncall, questions }
  } finally {
    await db.close()
  }
}

function childEnv(workers: string | undefined): Record<string, string> {
  const env: Record<string, string> = { ...(process.env as Record<string, string>), DATABASE_URL: dbUrl, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', WARDEN_DEMO_TOKENS: 'false' }
  delete env.OPENAI_API_KEY // deterministic mode
  if (workers !== undefined) env.WARDEN_WORKER_CONCURRENCY = workers
  return env
}

/** A warden CLI child; resolves once its stdout matches `ready` (with the match). */
async function startChild(command: string, workers: string | undefined, ready: RegExp, nodeFlags: string[] = []): Promise<{ match: RegExpExecArray; child: ChildProcess; stderrLines: (prefix: string) => string[] }> {
  const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', '--require', HEAP_PROBE, '--import', 'tsx', 'src/cli/main.ts', command], { cwd: REPO_ROOT, env: childEnv(workers), stdio: ['ignore', 'pipe', 'pipe'] })
  onCleanup(() => void child.kill('SIGTERM'))
  let stderr = ''
  const lines: string[] = []
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000)
    for (const l of String(d).split('\n')) if (l.startsWith('heap-probe ')) lines.push(l)
  })
  const match = await new Promise<RegExpExecArray>((resolve, reject) => {
    let out = ''
    child.stdout!.on('data', (d) => {
      out += d
      const m = ready.exec(out)
      if (m) resolve(m)
    })
    child.once('exit', (code) => reject(new Error(`warden ${command} exited with ${code} before it was ready:\n${stderr}`)))
    setTimeout(() => reject(new Error(`warden ${command} did not start in 60 s:\n${stderr}`)), 60_000)
  })
  return { match, child, stderrLines: (prefix) => lines.filter((l) => l.startsWith(prefix)) }
}

/** `warden serve` as a child on port 0 (no workers when worker processes run beside it). */
async function startServer() {
  const s = await startChild('serve', workerProcesses > 0 ? '0' : args.workers, /listening on (http:\/\/\S+)/, args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(args['cpu-prof'])] : [])
  return { url: s.match[1]!, child: s.child, probes: () => s.stderrLines('heap-probe ') }
}

/** The server's post-GC heap and RSS (MiB), through heap-probe.cjs. */
async function heapProbe(child: ChildProcess, probes: () => string[]): Promise<{ heapUsed: number; rss: number }> {
  const before = probes().length
  child.kill('SIGUSR2')
  for (let i = 0; i < 100 && probes().length === before; i++) await new Promise((r) => setTimeout(r, 50))
  const line = probes()[before]
  if (!line) return { heapUsed: NaN, rss: NaN }
  const m = JSON.parse(line.slice('heap-probe '.length)) as { heapUsed: number; rss: number }
  return { heapUsed: m.heapUsed / 2 ** 20, rss: m.rss / 2 ** 20 }
}

/** Resident set size of a process in MiB (Linux /proc). */
function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))
  return m ? Number(m[1]) / 1024 : NaN
}

let seq = 0
function alertBody(): string {
  const n = ++seq
  const fingerprint = `bench${process.pid.toString(16)}${n.toString(16).padStart(10, '0')}`
  const labels = { alertname: 'KubePodCrashLooping', severity: 'critical', namespace: 'shop', pod: `cart-api-bench-${n}`, container: 'cart-api' }
  const annotations = { summary: `Pod shop/cart-api-bench-${n} is crash looping`, description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.' }
  const alert = { status: 'firing', labels, annotations, startsAt: new Date(Date.UTC(2026, 10, 21, 10, 0, 0) + n * 1000).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prometheus:9090/graph', fingerprint }
  return JSON.stringify({ version: '4', groupKey: `{}:{alertname="KubePodCrashLooping",pod="${labels.pod}"}`, truncatedAlerts: 0, status: 'firing', receiver: 'warden', groupLabels: { alertname: labels.alertname }, commonLabels: labels, commonAnnotations: annotations, externalURL: 'http://alertmanager:9093', alerts: [alert] })
}

interface RouteResult {
  route: string
  reqPerSec: number
  p50: number
  p99: number
  requests: number
  errors: number
  non2xx: number
  rssBefore: number
  rssAfter: number
  /** Server RSS (MiB) every 5 s through the phase. */
  rssSeries: number[]
  /** Post-GC heap (MiB) before and after the phase. */
  heapBefore: number
  heapAfter: number
}

async function load(route: string, server: { url: string; child: ChildProcess; probes: () => string[] }, seconds: number, token: string, body: () => string): Promise<RouteResult> {
  const { url, child } = server
  const pid = child.pid!
  const heapBefore = (await heapProbe(child, server.probes)).heapUsed
  const rssBefore = rssMiB(pid)
  progress(`${route}: ${seconds}s, ${connections} connections (server RSS ${fmt(rssBefore)} MiB, post-GC heap ${fmt(heapBefore)} MiB)`)
  const rssSeries = [rssBefore]
  const sampler = setInterval(() => rssSeries.push(rssMiB(pid)), 5000)
  const r = await autocannon({
    url: `${url}${route}`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path: route, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: body() }) }],
  })
  clearInterval(sampler)
  const rssAfter = rssMiB(pid)
  rssSeries.push(rssAfter)
  const heapAfter = (await heapProbe(child, server.probes)).heapUsed
  return { route, reqPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, requests: r.requests.total, errors: r.errors + r.timeouts, non2xx: r.non2xx, rssBefore, rssAfter, rssSeries, heapBefore, heapAfter }
}

async function queueState(): Promise<string> {
  const c = new pg.Client({ connectionString: dbUrl })
  await c.connect()
  try {
    const assessments = (await c.query<{ n: number }>("select count(*)::int n from assessments where subject = 'alert'")).rows[0]!.n
    const alerts = (await c.query<{ n: number }>('select count(*)::int n from alerts')).rows[0]!.n
    const hasJobs = (await c.query<{ t: string | null }>("select to_regclass('public.jobs')::text t")).rows[0]!.t
    if (!hasJobs) return `alerts stored ${alerts}; alert assessments completed ${assessments}; no jobs table (intake assesses in-process)`
    const { rows } = await c.query<{ status: string; n: number }>('select status, count(*)::int n from jobs group by status order by status')
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]))
    const depth = (by.queued ?? 0) + (by.running ?? 0) + (by.failed ?? 0)
    return `alerts stored ${alerts}; alert assessments completed ${assessments}; jobs ${JSON.stringify(by)} → queue depth ${depth}`
  } finally {
    await c.end()
  }
}

/** `warden audit verify` on the bench database, as an operator would run it after the load. */
async function auditVerify(): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', 'verify'], { cwd: REPO_ROOT, env: childEnv(undefined), stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout!.on('data', (d) => (out += d))
  child.stderr!.on('data', (d) => (out += d))
  const code = await new Promise<number | null>((r) => child.once('exit', r))
  return `exit ${code}: ${out.trim().split('\n').slice(-1)[0] ?? ''}`
}

runMain(async () => {
  const loadAtStart = loadAvg()
  progress(`fresh database ${dbUrl}`)
  await freshDatabase(dbUrl)
  const { webhook, oncall, questions } = await prepare()
  const server = await startServer()
  const { url, child } = server
  progress(`server ${url} (pid ${child.pid}); ${shape}`)
  const workerChildren: ChildProcess[] = []
  for (let i = 0; i < workerProcesses; i++) workerChildren.push((await startChild('worker', args.workers ?? '1', /Warden worker running/)).child)
  // Warm-up: JIT, pool connections and prepared plans, so the first second of the run is not the cold start.
  await autocannon({ url: `${url}/v1/alerts/alertmanager`, connections: 2, amount: 200, requests: [{ method: 'POST', headers: { authorization: `Bearer ${webhook}`, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: alertBody() }) }] })
  const intake = await load('/v1/alerts/alertmanager', server, duration, webhook, alertBody)
  const afterIntake = await queueState()
  let q = 0
  const ask = await load('/v1/ask', server, askDuration, oncall, () => JSON.stringify({ question: questions[q++ % questions.length] }))
  const afterAsk = await queueState()
  // Wait for the server to exit: a CPU profile is written on exit.
  await new Promise<void>((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', () => resolve())
    child.kill('SIGTERM')
  })
  for (const w of workerChildren) w.kill('SIGTERM')
  const audit = await auditVerify()

  const growth = (r: RouteResult) => ((r.rssAfter - r.rssBefore) / r.rssBefore) * 100
  const rows = [intake, ask].map((r) => [r.route, fmt(r.reqPerSec), fmt(r.p50, 0), fmt(r.p99, 0), String(r.requests), `${r.errors} / ${r.non2xx}`, `${fmt(r.rssBefore)} → ${fmt(r.rssAfter)} MiB`, `${fmt(growth(r))} %`])
  rows.push(['target (intake)', `≥ ${TARGET.alertsPerSec}`, '', `≤ ${TARGET.p99Ms}`, '', `${TARGET.errors} / ${TARGET.errors}`, '', `< ${TARGET.rssGrowthPct} %`])
  const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met')
  const report = {
    database: 'postgres',
    mode: 'deterministic',
    duration,
    askDuration,
    connections,
    shape,
    loadAtStart,
    auditVerify: audit,
    results: [intake, ask],
    queueAfterIntake: afterIntake,
    queueAfterAsk: afterAsk,
    targets: {
      alertsPerSec: verdict(intake.reqPerSec >= TARGET.alertsPerSec),
      p99: verdict(intake.p99 <= TARGET.p99Ms),
      errors: verdict(intake.errors === 0 && intake.non2xx === 0),
      rssGrowth: verdict(growth(intake) < TARGET.rssGrowthPct),
    },
  }
  if (args.json) return void process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  process.stdout.write(
    [
      `Webhook benchmark — warden serve on PostgreSQL, deterministic mode, ${connections} connections, ${shape}, load average at start ${loadAtStart}`,
      '',
      formatTable(['route', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors / non-2xx', 'server RSS', 'RSS growth'], rows),
      '',
      `intake targets: ≥ ${TARGET.alertsPerSec} alerts/s ${report.targets.alertsPerSec}; p99 ≤ ${TARGET.p99Ms} ms ${report.targets.p99}; 0 errors ${report.targets.errors}; RSS growth < ${TARGET.rssGrowthPct} % over ${duration} s ${report.targets.rssGrowth}`,
      `after intake: ${afterIntake}`,
      `after ask:    ${afterAsk}`,
      ...[intake, ask].map((r) => `${r.route}: RSS every 5 s ${r.rssSeries.map((v) => fmt(v, 0)).join(' ')} MiB; post-GC heap ${fmt(r.heapBefore)} → ${fmt(r.heapAfter)} MiB`),
      `audit verify after the run: ${audit}`,
      '',
    ].join('\n'),
  )
})
