import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, runCli, runCliOnTty, startCli } from '../../helpers/cli.js'
import { backend, createTestTarget } from '../../helpers/db.js'

const FEED = path.resolve(REPO_ROOT, '../shared/corpus/external/rajivonai-cloud-platform.rss.xml')
const DEMO = path.join(REPO_ROOT, 'ingest/corpus')

describe(`warden ingest CLI (${backend})`, () => {
  let target: Awaited<ReturnType<typeof createTestTarget>>
  beforeAll(async () => {
    target = await createTestTarget({ persistent: true })
  })
  afterAll(async () => target?.drop())

  it('a SIGKILLed run is shown as abandoned and the next run converges', async () => {
    const child = startCli(['ingest', DEMO, FEED, '--progress-json'], target.env)
    // Kill it once it has indexed a few sources: mid-run, with sources committed and the run still `running`.
    await new Promise<void>((resolve, reject) => {
      let seen = 0
      child.stderr!.on('data', (d: Buffer) => {
        seen += (d.toString().match(/"progress"/g) ?? []).length
        if (seen >= 5) resolve()
      })
      child.on('close', () => reject(new Error('ingest finished before it could be killed')))
    })
    child.kill('SIGKILL')
    await new Promise((r) => child.once('close', r))

    const runs = await runCli(['ingest', 'runs', '--json'], target.env)
    expect(runs.code).toBe(0)
    const listed = JSON.parse(runs.stdout) as Array<{ id: string; status: string }>
    expect(listed).toHaveLength(1)
    expect(listed[0]!.status).toBe('abandoned')

    const next = await runCli(['ingest', DEMO, FEED, '--json'], target.env)
    expect(next.code, next.stderr).toBe(0)
    const summary = JSON.parse(next.stdout)
    expect(summary.status).toBe('complete')
    // Sources committed before the kill are unchanged now; nothing is half-visible or duplicated.
    expect(summary.counts.unchanged).toBeGreaterThanOrEqual(4)
    expect(summary.counts.new + summary.counts.unchanged).toBe(summary.counts.sources)

    const again = await runCli(['ingest', DEMO, FEED, '--json'], target.env)
    const s2 = JSON.parse(again.stdout)
    expect(s2.counts.embedding_calls).toBe(0)
    expect(s2.counts.unchanged).toBe(s2.counts.sources)

    const show = await runCli(['ingest', 'show', summary.runId], target.env)
    expect(show.code).toBe(0)
    expect(show.stdout).toContain(summary.runId)
    // The run's evidence bundle: its model, timings, and each source's outcome with its content hash.
    expect(show.stdout).toMatch(/unchanged\s+file:\/\/\S+ sha256:[0-9a-f]{12}\n/)
    expect(show.stdout).toContain('local-hash-v1')
    expect(show.stdout).toMatch(/timings: \{.*"total_ms":\d/)
    // Five CLI processes (each a tsx start-up, two full ingests of the feed): over 60 s on a loaded 2-core CI machine.
  }, 180_000)

  it('searches with filters and prints JSON hits with chunk ids, heading paths and hashes', async () => {
    const res = await runCli(['search', 'disk filling up on the orders database', '--kind', 'runbook', '-k', '3', '--json'], target.env)
    expect(res.code, res.stderr).toBe(0)
    const hits = JSON.parse(res.stdout) as Array<{ kind: string; chunkId: number; headingPath: string[]; contentHash: string; sourceUri: string }>
    expect(hits).toHaveLength(3)
    for (const h of hits) {
      expect(h.kind).toBe('runbook')
      expect(h.chunkId).toBeGreaterThan(0)
      expect(h.contentHash).toMatch(/^[0-9a-f]{64}$/)
      expect(h.headingPath.length).toBeGreaterThan(0)
    }
  })

  it('fails with a clear message on bad input', async () => {
    const missing = await runCli(['ingest', '/nonexistent/path', '--json'], target.env)
    expect(missing.code).toBe(1)
    expect(JSON.parse(missing.stdout).items[0].detail).toMatch(/no such file/)
    const badK = await runCli(['search', 'x', '-k', '0'], target.env)
    expect(badK.code).toBe(2)
    expect(badK.stderr).toMatch(/k/)
    const badConfig = await runCli(['ingest', 'runs'], { ...target.env, WARDEN_EMBEDDINGS: 'openai', PORT: 'abc' })
    expect(badConfig.code).toBe(2)
    expect(badConfig.stderr).toMatch(/OPENAI_API_KEY/)
    expect(badConfig.stderr).toMatch(/PORT/)
  })

  it.runIf(backend === 'postgres')('a concurrent second ingest process fails fast with a clear message', async () => {
    // A fresh database, so the first run has real work to do while the second one starts.
    const fresh = await createTestTarget({ persistent: true })
    const first = startCli(['ingest', DEMO, FEED, '--progress-json'], fresh.env)
    await new Promise<void>((resolve) => first.stderr!.once('data', () => resolve()))
    // Paused mid-run (holding the writer lock) while the second starts: otherwise a fast first run can end
    // before the second process has booted, and the test would race.
    first.kill('SIGSTOP')
    const second = await runCli(['ingest', DEMO], fresh.env).finally(() => first.kill('SIGCONT'))
    expect(second.code, second.stdout + second.stderr).toBe(3)
    expect(second.stderr).toMatch(/another ingestion run is in progress/)
    await new Promise((r) => first.once('close', r))
    await fresh.drop()
  })

  it.runIf(backend === 'pglite')('a second process on the same embedded data dir fails fast with a clear message', async () => {
    // A fresh database, so the first run has real work to do while the second one starts.
    const fresh = await createTestTarget({ persistent: true })
    const first = startCli(['ingest', DEMO, FEED, '--progress-json'], fresh.env)
    await new Promise<void>((resolve) => first.stderr!.once('data', () => resolve()))
    first.kill('SIGSTOP') // mid-run while the second starts (see above)
    const second = await runCli(['ingest', DEMO], fresh.env).finally(() => first.kill('SIGCONT'))
    expect(second.code, second.stdout + second.stderr).toBe(3)
    expect(second.stderr).toMatch(/in use by process/)
    await new Promise((r) => first.once('close', r))
    expect(fs.existsSync(path.join(fresh.env.WARDEN_DATA_DIR!, 'warden.pid'))).toBe(false)
    await fresh.drop()
  })

  it('draws a progress bar on a terminal and none with --json; WARDEN_INGEST_MAX_BYTES bounds an input', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-cli-tty-'))
    fs.mkdirSync(path.join(dir, 'runbooks'))
    fs.writeFileSync(
      path.join(dir, 'runbooks/search-api-latency.md'),
      '---\ntitle: Search API latency\nservice: search-api\nteam: discovery\n---\n# Search API latency\n\n## Triage\nCompare p95 with the index refresh interval.\n',
    )
    fs.writeFileSync(path.join(dir, 'big.md'), `# Big\n\n${'x'.repeat(3000)}\n`)
    const env = { ...target.env, WARDEN_INGEST_MAX_BYTES: '2048' }
    try {
      const tty = await runCliOnTty(['ingest', dir], env)
      expect(tty.code, tty.stdout).toBe(0)
      // cli-progress shades_classic: filled and empty cells, then value/total.
      expect(tty.stdout).toMatch(/[\u2588\u2591]+ \d\/2/)
      expect(tty.stdout).toMatch(/quarantined: file:\/\/big\.md — oversized: 3\d{3} bytes/)

      const json = await runCliOnTty(['ingest', dir, '--json'], env)
      expect(json.code, json.stdout).toBe(0)
      expect(json.stdout).not.toMatch(/[\u2588\u2591]/)
      const summary = JSON.parse(json.stdout.slice(json.stdout.indexOf('{')))
      expect(summary).toMatchObject({ status: 'complete', embeddingModel: 'local-hash-v1', counts: { unchanged: 1, quarantined: 1 } })
      expect(summary.items.find((i: { uri: string }) => i.uri === 'file://big.md')).toMatchObject({ outcome: 'quarantined', reason: 'oversized' })

      // Without the setting the default limit (2 MiB) admits the file.
      const admitted = await runCli(['ingest', dir, '--json'], target.env)
      expect(JSON.parse(admitted.stdout).items.find((i: { uri: string }) => i.uri === 'file://big.md')).toMatchObject({ outcome: 'new' })
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
