import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { RULES } from '../../../src/alerts/classify/index.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { loadThresholds } from '../../../evals/suite/config.js'
import { runSuite } from '../../../evals/suite/index.js'
import { renderSummary } from '../../../evals/suite/report.js'
import { runEval } from './run-eval.js'

// The gate must be able to fail: on a deliberately degraded configuration — retrieval capped at one hit
// per query, and one classifier signature rule removed — it fails and names the metrics that regressed.
// (test/integration/evals/suite.test.ts shows the real configuration passes the same thresholds.)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-eval-gate-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('quality gate on a degraded configuration', () => {
  it('k = 1 and the `dns` signature removed: the gate fails naming retrieval and classification metrics', async () => {
    const report = await runSuite({
      mode: 'deterministic',
      only: ['retrieval', 'classify'],
      embedder: createLocalEmbeddings(),
      thresholds: loadThresholds(),
      degrade: { k: 1, rules: RULES.filter((r) => r.id !== 'dns'), note: 'dns rule removed' },
    })
    const failed = report.gate.failed.map((r) => r.id)
    const summary = renderSummary(report)
    expect(report.gate.pass, summary).toBe(false)
    for (const id of [
      'retrieval.external.hybrid.passage_r5',
      'retrieval.external.hybrid.passage_mrr',
      'retrieval.demo.hybrid.passage_r5',
      'retrieval.demo.hybrid.passage_mrr',
      'classify.shared.macro_f1',
      'classify.demo.macro_f1',
    ]) {
      expect(failed, summary).toContain(id)
      expect(summary).toMatch(new RegExp(`Gate FAILED.*\`${id.replace(/\./g, '\\.')}\``))
    }
    // Degraded retrieval finds at most the first hit: R@5 collapses to R@1.
    const m = (id: string) => report.metrics.find((x) => x.id === id)!.value
    expect(m('retrieval.external.hybrid.passage_r5')).toBe(m('retrieval.external.hybrid.passage_r1'))
    // Safety and grounding were not run: their thresholds are skipped, not failed.
    expect(report.gate.rows.filter((r) => r.id.startsWith('safety.')).every((r) => r.verdict === 'skipped')).toBe(true)
    // The failed-case list says what was expected and what came out.
    expect(report.failures.some((f) => f.section === 'classify' && /class .* ✗ \(/.test(f.got))).toBe(true)
    expect(summary).toMatch(/> note: retrieval limited to k=1/)
    expect(summary).toMatch(/> note: dns rule removed/)
  }, 240_000)

  it('the CLI exits 1 on a regression, 0 without it, 2 on bad usage', async () => {
    const bad = await runEval(['--only', 'classify', '--drop-rule', 'dns,packet-loss', '--out', path.join(tmp, 'bad'), '--quiet'])
    expect(bad.code, bad.stderr).toBe(1)
    expect(bad.stdout).toMatch(/^# Warden evaluation — FAIL/)
    expect(bad.stdout).toMatch(/Gate FAILED.*`classify\.shared\.macro_f1`/)
    expect(fs.readFileSync(path.join(tmp, 'bad', 'summary.md'), 'utf8')).toBe(bad.stdout)
    const json = JSON.parse(fs.readFileSync(path.join(tmp, 'bad', 'report.json'), 'utf8')) as { gate: { pass: boolean; failed: Array<{ id: string }> } }
    expect(json.gate.pass).toBe(false)

    const good = await runEval(['--only', 'classify', '--out', path.join(tmp, 'good'), '--quiet', '--json'])
    expect(good.code, good.stderr).toBe(0)
    expect((JSON.parse(good.stdout) as { gate: { pass: boolean } }).gate.pass).toBe(true)

    for (const args of [['--mode', 'fast'], ['--only', 'retrieval,speed'], ['--drop-rule', 'no-such-rule'], ['--k', '0'], ['--fake-llm']]) {
      const r = await runEval([...args, '--out', path.join(tmp, 'usage')])
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toMatch(/^eval: /)
    }
    expect(fs.existsSync(path.join(tmp, 'usage'))).toBe(false)
  }, 240_000)
})
