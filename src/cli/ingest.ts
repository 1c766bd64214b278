import cliProgress from 'cli-progress'
import { IngestBusyError, runIngest } from '../../ingest/pipeline.js'
import { getRun, listRuns, markAbandoned, type RunRow } from '../../ingest/runs.js'
import { fail, openContext } from './context.js'

export async function ingestCommand(inputs: string[], opts: { json?: boolean; progressJson?: boolean }): Promise<void> {
  if (inputs.length === 0) fail('nothing to ingest: give one or more paths or URLs', 2)
  const ctx = await openContext()
  const bar = !opts.json && process.stderr.isTTY ? new cliProgress.SingleBar({ stream: process.stderr, format: ' {bar} {value}/{total} {uri}' }, cliProgress.Presets.shades_classic) : null
  const abort = new AbortController()
  const onSignal = () => abort.abort()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    let started = false
    const summary = await runIngest(
      { db: ctx.db, embedder: ctx.embedder },
      {
        inputs,
        maxBytes: ctx.config.env.WARDEN_INGEST_MAX_BYTES,
        signal: abort.signal,
        onProgress: (p) => {
          // Machine-readable progress for supervisors (and the abandoned-run test) on stderr.
          if (opts.progressJson) process.stderr.write(`${JSON.stringify({ progress: p })}\n`)
          if (!bar) return
          if (!started) bar.start(p.total, 0, { uri: '' })
          started = true
          bar.update(p.done, { uri: p.uri.slice(-60) })
        },
      },
    )
    bar?.stop()
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
    } else {
      const c = summary.counts
      const lines = [
        `run ${summary.runId}: ${summary.status}`,
        `  read ${c.read} · sources ${c.sources} · new ${c.new} · updated ${c.updated} · unchanged ${c.unchanged} · quarantined ${c.quarantined} · tombstoned ${c.tombstoned} · failed ${c.failed}`,
        `  chunks written ${c.chunks_written} · embedding calls ${c.embedding_calls} (${ctx.embedder.id}) · ${Math.round(summary.timings.total_ms ?? 0)} ms`,
        ...summary.items.filter((i) => i.outcome === 'quarantined' || i.outcome === 'failed').map((i) => `  ${i.outcome}: ${i.uri} — ${i.reason}: ${i.detail ?? ''}`),
        ...(summary.abandonedRuns.length ? [`  marked abandoned: ${summary.abandonedRuns.join(', ')}`] : []),
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
    process.exitCode = summary.status === 'complete' ? 0 : 1
  } catch (err) {
    bar?.stop()
    if (err instanceof IngestBusyError) fail(err.message, 3)
    throw err
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await ctx.close()
  }
}

export async function runsCommand(opts: { json?: boolean; limit?: string }): Promise<void> {
  const ctx = await openContext()
  try {
    // If nobody holds the ingest lock, runs still marked `running` were killed: show them as abandoned.
    const lock = await ctx.db.tryLock('warden:ingest')
    if (lock) {
      await markAbandoned(ctx.db)
      await lock.release()
    }
    const runs = await listRuns(ctx.db, Number(opts.limit ?? 20))
    if (opts.json) return void process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`)
    if (runs.length === 0) return void process.stdout.write('no ingestion runs yet\n')
    for (const r of runs) process.stdout.write(`${formatRun(r)}\n`)
  } finally {
    await ctx.close()
  }
}

export async function showCommand(id: string, opts: { json?: boolean }): Promise<void> {
  const ctx = await openContext()
  try {
    const found = await getRun(ctx.db, id)
    if (!found) fail(`no ingestion run ${id}`, 2)
    if (opts.json) return void process.stdout.write(`${JSON.stringify(found, null, 2)}\n`)
    const { run, items } = found
    process.stdout.write(`${formatRun(run)}\n  inputs: ${run.inputs.join(' ')}\n  timings: ${JSON.stringify(run.timings)}\n`)
    if (run.error) process.stdout.write(`  error: ${run.error}\n`)
    for (const i of items) {
      process.stdout.write(`  ${i.outcome.padEnd(11)} ${i.uri}${i.reason ? ` (${i.reason}${i.detail ? `: ${i.detail}` : ''})` : ''}${i.content_hash ? ` sha256:${i.content_hash.slice(0, 12)}` : ''}\n`)
    }
  } finally {
    await ctx.close()
  }
}

function formatRun(r: RunRow): string {
  const c = r.counts
  const dur = r.finished_at ? `${((new Date(r.finished_at).getTime() - new Date(r.started_at).getTime()) / 1000).toFixed(1)}s` : '—'
  const summary = c && 'read' in c ? `read ${c.read} new ${c.new} updated ${c.updated} unchanged ${c.unchanged} quarantined ${c.quarantined} tombstoned ${c.tombstoned} failed ${c.failed}` : ''
  return `${r.id}  ${r.status.padEnd(9)} ${new Date(r.started_at).toISOString()}  ${dur.padStart(7)}  ${r.embedding_model}  ${summary}`
}
