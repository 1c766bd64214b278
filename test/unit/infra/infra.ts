import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { parseAllDocuments } from 'yaml'
import { createApp } from '../../../src/http/app.js'
import type { Database } from '../../../src/db/types.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { loadReference } from '../../../src/policy/reference.js'

// Shared by the infra/ tests: reading the deployment files, and the app itself as the source of truth for
// which routes and metrics exist (never a hand-written list that could drift with it).

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const INFRA = path.join(REPO_ROOT, 'infra')

/** Every file under a directory, recursively, as paths relative to the repository root. */
export function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    return e.isDirectory() ? walk(p) : [path.relative(REPO_ROOT, p)]
  })
}

/** All YAML documents of a file. Merge keys (`<<: *anchor`) are resolved, as Docker Compose resolves them. */
export function readYamlDocs(rel: string): unknown[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8'), { merge: true })
  const list = Array.isArray(docs) ? docs : [docs]
  for (const d of list) if (d.errors.length) throw new Error(`${rel}: ${d.errors.map((e) => e.message).join('; ')}`)
  return list.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined)
}
export const readYaml = <T = any>(rel: string): T => readYamlDocs(rel)[0] as T

/** KEY=VALUE lines of an env file (comments and blank lines skipped), as Docker Compose reads `.env`. */
export function readEnvFile(rel: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8').split('\n')) {
    const t = line.trim()
    if (!t || t.startsWith('#')) continue
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(t)
    if (!m) throw new Error(`${rel}: not KEY=VALUE: ${line}`)
    out[m[1]!] = m[2]!
  }
  return out
}

/** Variables a Compose file interpolates (`$VAR`, `${VAR}`, `${VAR:-x}`, `${VAR:?msg}`…); `$$` is a literal `$`. */
export function interpolatedNames(text: string): string[] {
  const names = new Set<string>()
  for (const m of text.replace(/\$\$/g, '').matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) names.add(m[1] ?? m[2]!)
  return [...names]
}

/** Compose interpolation of one value with the given variables; a `:?`/`?` variable that is missing throws. */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^}])*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (all, name?: string, op?: string, arg?: string, bare?: string) => {
    if (all === '$$') return '$'
    if (bare) return vars[bare] ?? ''
    const v = vars[name!]
    const unset = op?.startsWith(':') ? v === undefined || v === '' : v === undefined
    if (!op) return v ?? ''
    if (op.endsWith('-')) return unset ? arg! : v!
    if (unset) throw new Error(`compose: ${name} is required: ${arg}`)
    return v!
  })
}

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan'])

/**
 * Metric names a PromQL expression selects. Strings, label matchers, ranges/subqueries, grouping label lists
 * and Grafana variables are removed first; what remains are identifiers, of which those followed by `(` are
 * functions and the rest (keywords aside) metric names.
 */
export function metricNames(expr: string): string[] {
  const s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, ' ')
  const names = new Set<string>()
  for (const m of s.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*/g)) {
    const after = s.slice(m.index + m[0].length).trimStart()
    if (after.startsWith('(') || KEYWORDS.has(m[0].toLowerCase())) continue
    names.add(m[0])
  }
  return [...names]
}

/**
 * A Database for tests that must not touch one: every call is refused, as by a server that is down. The app
 * treats that as an unavailable database (readiness 503, domain metrics left out of the scrape), which is what
 * these tests rely on; nothing here fabricates a query result.
 */
export function unavailableDatabase(): Database {
  const refuse = () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED (no database in unit tests)'), { code: 'ECONNREFUSED' }))
  return { kind: 'postgres', query: refuse, transaction: refuse, exec: refuse, tryLock: refuse, close: () => Promise.resolve() } as Database
}

/** The real Warden app (routes, middleware, metrics registry) over a database that is down. */
export function createAppWithoutDatabase() {
  const reference = loadReference({
    catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
    taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
    policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
  })
  return createApp({ db: unavailableDatabase(), embedder: createLocalEmbeddings(), reference, llm: null, logger: pino({ level: 'silent' }) })
}

/**
 * Metric names Warden exposes, from a real scrape of GET /metrics: every `# TYPE` line (prom-client writes one
 * per registered metric even when the database read fails and the metric has no sample), with the sample
 * names a histogram or summary adds.
 */
export async function scrapedMetricNames(): Promise<Set<string>> {
  const res = await createAppWithoutDatabase().request('/metrics')
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
  const names = new Set<string>()
  for (const m of (await res.text()).matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [name, type] = [m[1]!, m[2]!]
    names.add(name)
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s)
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name + s)
  }
  return names
}

/** Series Prometheus itself attaches to every target: the only non-Warden names the rules may use. */
export const PROMETHEUS_SERIES = new Set(['up'])
