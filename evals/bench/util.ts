import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import type { EmbeddingProvider } from '../../src/knowledge/embeddings/types.js'

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
