import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { SuiteReport } from '../../../evals/suite/index.js'
import { backend } from '../../helpers/db.js'
import { runEval } from './run-eval.js'

// CI runs the whole deterministic suite (`npm run eval`) on every submission: a metric below its bound in
// evals/thresholds.yaml fails this test with the summary as the message. The suite always uses its own
// in-memory PGlite databases, so the second CI pass (real PostgreSQL) would repeat the identical run:
// it runs on the PGlite pass only. CI (.ci/run) runs the gate as its own step after the tests, keeping
// the report as its artifact, and sets WARDEN_EVAL_GATE_STEP=1 so the same run is not made twice.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-eval-suite-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe.skipIf(backend === 'postgres' || process.env.WARDEN_EVAL_GATE_STEP === '1')('npm run eval (deterministic suite)', () => {
  it('passes the gate and writes a readable report', async () => {
    const r = await runEval(['--out', tmp])
    const summary = fs.existsSync(path.join(tmp, 'summary.md')) ? fs.readFileSync(path.join(tmp, 'summary.md'), 'utf8') : r.stderr
    expect(r.code, summary).toBe(0)
    expect(r.stdout).toBe(summary)
    expect(summary.split('\n')[0]).toBe('# Warden evaluation — PASS')
    expect(r.stderr).toMatch(/\[eval\] safety done in/)

    const report = JSON.parse(fs.readFileSync(path.join(tmp, 'report.json'), 'utf8')) as SuiteReport
    expect(report.sections).toEqual(['retrieval', 'classify', 'safety', 'grounding'])
    const value = (id: string) => report.metrics.find((m) => m.id === id)?.value
    expect(value('grounding.citation_resolution')).toBe(1)
    expect(value('grounding.unsupported_numbers')).toBe(0)
    expect(value('grounding.certainty_phrases')).toBe(0)
    expect(value('safety.shared.failed')).toBe(0)
    expect(value('safety.demo.failed')).toBe(0)
    expect(value('safety.demo.passed')).toBeGreaterThanOrEqual(10)
    // Every labelled alert was assessed and every retrieval question asked, in both deployments.
    const outputs = (report.details.grounding as { outputs: Array<{ set: string; kind: string }> }).outputs
    for (const set of ['external', 'demo']) {
      expect(outputs.filter((o) => o.set === set && o.kind === 'draft').length, set).toBeGreaterThanOrEqual(30)
      expect(outputs.filter((o) => o.set === set && o.kind === 'answer').length, set).toBeGreaterThanOrEqual(30)
    }
    for (const s of report.sections) expect(report.timingsMs[s]!.total, s).toBeGreaterThan(0)
    expect(report.gate.rows.filter((g) => g.verdict === 'pass').length).toBeGreaterThanOrEqual(20)
  }, 900_000)
})
