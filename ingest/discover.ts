import fs from 'node:fs/promises'
import path from 'node:path'

// Turns the `warden ingest PATH|URL…` arguments into candidate documents. A directory or a feed is an
// *origin*: when it was read completely, sources it used to hold and no longer does are tombstoned.

export interface Candidate {
  /** Source URI for a single document; for a feed, the URI of the feed file itself (items carry their own). */
  uri: string
  origin: string
  /** Hint for the parser when the URI has no telling extension (fetched pages). */
  contentType?: string
  load(): Promise<Buffer>
}

/** A load that must end in quarantine with a specific reason rather than `unreadable`. */
export class LoadRefused extends Error {
  constructor(
    readonly reason: 'oversized',
    readonly detail: string,
  ) {
    super(detail)
  }
}

export interface Discovery {
  candidates: Candidate[]
  /** Origins listed completely, so missing sources may be tombstoned. */
  origins: string[]
  /** Inputs that could not be listed at all (missing path): reported as failures, never tombstone anything. */
  errors: Array<{ input: string; detail: string }>
}

export interface DiscoverOptions {
  fetch?: typeof fetch
  fetchTimeoutMs?: number
  maxBytes: number
}

export async function discover(inputs: string[], opts: DiscoverOptions): Promise<Discovery> {
  const out: Discovery = { candidates: [], origins: [], errors: [] }
  for (const input of inputs) {
    if (/^https?:\/\//i.test(input)) {
      out.candidates.push(urlCandidate(input, opts))
      out.origins.push(input)
      continue
    }
    const abs = path.resolve(input)
    const stat = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => err)
    if (stat instanceof Error) {
      out.errors.push({ input, detail: stat.code === 'ENOENT' ? `no such file or directory: ${input}` : stat.message })
      continue
    }
    if (stat.isDirectory()) {
      const origin = `file://${abs}`
      out.origins.push(origin)
      for (const file of await walk(abs)) {
        const rel = path.relative(abs, file).split(path.sep).join('/')
        out.candidates.push({ uri: `file://${rel}`, origin, load: () => fs.readFile(file) })
      }
    } else {
      // A single file: identified by its name; a feed file is also the origin of its items.
      const origin = `file://${abs}`
      out.origins.push(origin)
      out.candidates.push({ uri: `file://${path.basename(abs)}`, origin, load: () => fs.readFile(abs) })
    }
  }
  return out
}

/** Regular files under dir, sorted for deterministic runs; dot-files and dot-dirs are skipped. */
async function walk(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true })
  const files: string[] = []
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.name.startsWith('.')) continue
    const full = path.join(dir, e.name)
    if (e.isDirectory()) files.push(...(await walk(full)))
    else if (e.isFile()) files.push(full)
  }
  return files
}

function urlCandidate(url: string, opts: DiscoverOptions): Candidate {
  const candidate: Candidate = {
    uri: url,
    origin: url,
    async load() {
      const res = await (opts.fetch ?? fetch)(url, {
        signal: AbortSignal.timeout(opts.fetchTimeoutMs ?? 15_000),
        headers: { accept: 'application/rss+xml, application/atom+xml, text/html, text/markdown, */*;q=0.5' },
      })
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`)
      candidate.contentType = res.headers.get('content-type') ?? undefined
      const declared = Number(res.headers.get('content-length') ?? 0)
      // Refuse early instead of buffering a huge body.
      if (declared > opts.maxBytes) throw new LoadRefused('oversized', `${declared} bytes declared, limit is ${opts.maxBytes}`)
      return Buffer.from(await res.arrayBuffer())
    },
  }
  return candidate
}
