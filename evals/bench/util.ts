import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import pg from 'pg'
import type { Database } from '../../src/db/index.js'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'
import { ensureModelIndex, toVectorLiteral } from '../../src/knowledge/models.js'
import { docContext, KINDS, passage, SERVICES, TEAMS, type Rng } from './synth.js'

// Shared plumbing for the benchmarks: scratch databases/dirs that are always cleaned up (even on Ctrl-C or a
// thrown error), a counting embedder, percentiles and a plain-text table printer.

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Admin URL used only to CREATE/DROP the scratch databases; the benchmarks never touch its own data. */
export const ADMIN_URL = process.env.WARDEN_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

// ---------------------------------------------------------------------------------------------------------
// Cleanup registry. Cleanups run LIFO once: on normal completion, on a thrown error, and on SIGINT/SIGTERM,
// so an interrupted 100k run does not leave a 300 MB database or a PGlite data dir behind.

type Cleanup = () => Promise<void> | void
const cleanups: Cleanup[] = []
let cleaning: Promise<void> | null = null

export function onCleanup(fn: Cleanup): () => Promise<void> {
  cleanups.push(fn)
  // The returned function runs this cleanup early (e.g. drop the 10k database before building the 100k one).
  return async () => {
    const i = cleanups.indexOf(fn)
    if (i < 0) return
    cleanups.splice(i, 1)
    await fn()
  }
}

export function runCleanups(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length) {
      const fn = cleanups.pop()!
      try {
        await fn()
      } catch (err) {
        console.error(`cleanup failed: ${err instanceof Error ? err.message : String(err)}`)
      }
    }
  })()
  return cleaning
}

let interrupted = false

/** Runs main with cleanup guaranteed; exit code 1 on error, 130 on interrupt. */
export function runMain(main: () => Promise<void>): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true
      console.error(`\n${sig}: cleaning up scratch databases and directories…`)
      // DROP DATABASE … WITH (FORCE) terminates the benchmark's own in-flight connections; their clients then
      // emit 'error' with no listener. That must not kill the process before the remaining cleanups ran.
      process.on('uncaughtException', (err) => console.error(`(ignored while cleaning up: ${err.message})`))
      void runCleanups().finally(() => process.exit(130))
    })
  }
  main()
    .then(runCleanups)
    .catch(async (err: unknown) => {
      // After Ctrl-C the in-flight query fails because cleanup dropped its database: not worth a stack trace.
      if (!interrupted) console.error(err instanceof Error ? (err.stack ?? err.message) : String(err))
      await runCleanups()
      process.exitCode = 1
    })
}

// ---------------------------------------------------------------------------------------------------------
// Scratch resources

/** CREATE DATABASE warden_bench_<pid>_<suffix>; returns its URL. Dropped WITH (FORCE) on cleanup. */
export async function createScratchDatabase(suffix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `warden_bench_${process.pid}_${suffix}`.replace(/[^a-z0-9_]/gi, '_').toLowerCase()
  const admin = new pg.Client({ connectionString: ADMIN_URL })
  await admin.connect()
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(ADMIN_URL)
  url.pathname = `/${name}`
  const drop = onCleanup(async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL })
    await c.connect()
    try {
      // FORCE: a pool we failed to close (error path) must not keep the scratch database alive.
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    } finally {
      await c.end()
    }
  })
  return { url: url.toString(), name, drop }
}

export function createScratchDir(label: string): { dir: string; remove: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `warden-bench-${label}-`))
  const remove = onCleanup(() => fs.rmSync(dir, { recursive: true, force: true }))
  return { dir, remove }
}

// ---------------------------------------------------------------------------------------------------------
// Measurement helpers

/** Wraps an embedder to count calls and texts: "re-ingest performs 0 embedding calls" is checked here, at the provider. */
export function countingEmbedder(inner: EmbeddingProvider): EmbeddingProvider & { calls: number; texts: number; ms: number } {
  const wrapped = {
    id: inner.id,
    dim: inner.dim,
    calls: 0,
    texts: 0,
    ms: 0,
    async embed(texts: string[]): Promise<number[][]> {
      wrapped.calls++
      wrapped.texts += texts.length
      const t = performance.now()
      try {
        return await inner.embed(texts)
      } finally {
        wrapped.ms += performance.now() - t
      }
    },
  }
  return wrapped
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1]!
}

export const loadAvg = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ')

/**
 * The server's shared memory setup, printed beside the figures: whether its shared_buffers sit in huge pages
 * changes HNSW walk times (infra/ci/postgres.sh). PostgreSQL 15 does not say whether huge_pages=try got them, so
 * the kernel's reservation is read where the server is local (/proc/meminfo); "unknown" elsewhere.
 */
export async function serverMemoryNote(db: Database): Promise<string> {
  const row = (await db.query<{ sb: string; hp: string; need: string }>(
    `select current_setting('shared_buffers') as sb, current_setting('huge_pages') as hp, current_setting('shared_memory_size_in_huge_pages', true) as need`,
  )).rows[0]!
  let pages = 'unknown'
  try {
    const info = Object.fromEntries([...fs.readFileSync('/proc/meminfo', 'utf8').matchAll(/^(HugePages_\w+):\s+(\d+)/gm)].map((m) => [m[1], Number(m[2])]))
    const used = info.HugePages_Total! - info.HugePages_Free! + info.HugePages_Rsvd!
    pages = used >= Number(row.need) && Number(row.need) > 0 ? `in huge pages (${used} × 2 MB in use)` : `in 4 KB pages (${used} huge pages in use, server wants ${row.need})`
  } catch {
    // Not Linux, or no access: leave it unknown.
  }
  return `shared_buffers ${row.sb}, huge_pages=${row.hp}, shared memory ${pages}`
}

export const peakRssMiB = () => process.resourceUsage().maxRSS / 1024

export const progress = (msg: string) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`)

export function fmt(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || Number.isNaN(x)) return '-'
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** Plain-text table with a header rule; columns padded to their widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ').trimEnd()
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n')
}

/** Parses "10000,100000" / "40,100,200" into positive integers; throws on junk so a typo is not silently ignored. */
export function intList(raw: string, flag: string): number[] {
  const out = raw.split(',').map((s) => s.trim()).filter(Boolean).map(Number)
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--${flag}: expected comma-separated positive integers, got "${raw}"`)
  return out
}

export function positiveInt(raw: string, flag: string): number {
  const n = Number(raw)
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${flag}: expected a positive integer, got "${raw}"`)
  return n
}

// ---------------------------------------------------------------------------------------------------------
// Synthetic knowledge base at scale (bench:assess; the same loading scheme as bench:retrieval's bulk load)

/** Passages to sample for questions while loading, without holding every passage in memory. */
export interface SyntheticSample {
  text: string
  service: string
}

/**
 * Inserts `size` synthetic chunks (size / perSource sources, round-robin over synth.ts's services, kinds and
 * teams) in batches of ~1,000 chunks, one transaction per batch, vectors from `embedder`. Not runIngest: the
 * pipeline maintains the HNSW graph row by row and would take many minutes at 100k; call buildIndexAfterLoad
 * afterwards (one bulk HNSW build) and refreshCorpusStats. Returns a reservoir sample of passages.
 */
export async function bulkLoadSynthetic(
  db: Database,
  embedder: EmbeddingProvider,
  rng: Rng,
  size: number,
  opts: { perSource?: number; samples?: number; label?: string; uriPrefix?: string } = {},
): Promise<{ sources: number; seconds: number; embedSeconds: number; samples: SyntheticSample[] }> {
  const perSource = opts.perSource ?? 5
  const nSamples = opts.samples ?? 0
  const label = opts.label ?? `synthetic@${size}`
  const prefix = opts.uriPrefix ?? 'bench://synthetic/'
  const nSources = Math.ceil(size / perSource)
  const samples: SyntheticSample[] = []
  let seen = 0
  let embedMs = 0
  let written = 0
  const t0 = performance.now()
  const sourcesPerBatch = Math.max(1, Math.floor(1000 / perSource))
  const sha = (s: string) => createHash('sha256').update(s).digest('hex')
  for (let s0 = 0; s0 < nSources; s0 += sourcesPerBatch) {
    const src = { uri: [] as string[], kind: [] as string[], title: [] as string[], service: [] as string[], team: [] as string[], hash: [] as string[] }
    const ch = { srcIdx: [] as number[], ord: [] as number[], heading: [] as string[], text: [] as string[], indexText: [] as string[], hash: [] as string[] }
    for (let s = s0; s < Math.min(nSources, s0 + sourcesPerBatch); s++) {
      const service = SERVICES[s % SERVICES.length]!
      const ctx = docContext(rng, service)
      const title = `${service} ${ctx.topic.slice(0, 3).join(' ')} ${s}`
      const local = src.uri.length
      src.uri.push(`${prefix}${s}`)
      src.kind.push(KINDS[s % KINDS.length]!)
      src.title.push(title)
      src.service.push(service)
      src.team.push(TEAMS[s % TEAMS.length]!)
      const texts: string[] = []
      for (let ord = 0; ord < Math.min(perSource, size - s * perSource); ord++) {
        const text = passage(rng, ctx)
        const heading = `Section ${ord + 1}`
        texts.push(text)
        ch.srcIdx.push(local)
        ch.ord.push(ord)
        ch.heading.push(heading)
        ch.text.push(text)
        ch.indexText.push(`${title}\n${heading}\n${text}`)
        ch.hash.push(sha(text))
        seen++
        if (samples.length < nSamples) samples.push({ text, service })
        else if (nSamples > 0) {
          const j = Math.floor(rng() * seen)
          if (j < nSamples) samples[j] = { text, service }
        }
      }
      src.hash.push(sha(texts.join('\n')))
    }
    const t = performance.now()
    const vectors = await embedder.embed(ch.indexText)
    embedMs += performance.now() - t
    await db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: number; uri: string }>(
        `insert into sources (uri, kind, origin, title, service, team, content_hash, embedding_model, status, created_run_id, updated_run_id)
         select t.uri, t.kind, $7, t.title, t.service, t.team, t.hash, $8, 'active', 'bench', 'bench'
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[]) as t(uri, kind, title, service, team, hash)
         returning id, uri`,
        [src.uri, src.kind, src.title, src.service, src.team, src.hash, prefix, embedder.id],
      )
      const idByUri = new Map(rows.map((r) => [r.uri, r.id]))
      const at = (i: number) => ch.srcIdx.map((k) => [src.uri, src.title, src.kind, src.service, src.team][i]![k]!)
      await tx.query(
        `insert into chunks (source_id, ord, heading_path, text, index_text, content_hash, embedding, embedding_model,
                             embedding_dim, kind, service, team)
         select t.source_id, t.ord, array[t.title, t.heading], t.text, t.index_text, t.hash, t.embedding::vector, $12, $13,
                t.kind, t.service, t.team
         from unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::text[], $11::text[])
              as t(source_id, ord, title, heading, text, index_text, hash, embedding, kind, service, team)`,
        [at(0).map((u) => idByUri.get(u)!), ch.ord, at(1), ch.heading, ch.text, ch.indexText, ch.hash, vectors.map(toVectorLiteral), at(2), at(3), at(4), embedder.id, embedder.dim],
      )
    })
    written += ch.text.length
    if ((s0 / sourcesPerBatch) % 10 === 9 || written >= size) progress(`${label}: loaded ${written}/${size} chunks (${fmt(written / ((performance.now() - t0) / 1000), 0)} chunks/s)`)
  }
  return { sources: nSources, seconds: (performance.now() - t0) / 1000, embedSeconds: embedMs / 1000, samples }
}

/**
 * One bulk HNSW build for the embedder's model (ensureModelIndex, a no-op if it exists), then ANALYZE.
 * maintenance_work_mem must hold the whole graph or pgvector falls back to a much slower on-disk build.
 */
export async function buildIndexAfterLoad(db: Database, embedder: EmbeddingProvider, maintenanceWorkMem = '1GB'): Promise<number> {
  const t = performance.now()
  await db.transaction(async (tx) => {
    await tx.query(`set local maintenance_work_mem = '${maintenanceWorkMem.replace(/[^0-9A-Za-z]/g, '')}'`)
    await ensureModelIndex(tx, { id: embedder.id, dim: embedder.dim })
  })
  await db.query('analyze chunks')
  await db.query('analyze sources')
  return (performance.now() - t) / 1000
}
