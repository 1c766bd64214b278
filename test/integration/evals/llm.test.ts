import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { parseThresholds } from '../../../evals/suite/config.js'
import type { SuiteReport } from '../../../evals/suite/index.js'
import { runEval } from './run-eval.js'

// `npm run eval -- --mode llm`: without a key it says so and exits 0; with --fake-llm the drafts and answers
// go through the real LLM client over HTTP to a scripted fake server (good, adversarial, HTTP 500,
// malformed and schema-violating replies). That proves the wiring — fallbacks with reasons, guard
// interventions, token and cost accounting, deltas — not model quality.

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-eval-llm-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('eval --mode llm', () => {
  it('without OPENAI_API_KEY says so and exits 0 without running anything', async () => {
    const r = await runEval(['--mode', 'llm', '--out', path.join(tmp, 'nokey')], { OPENAI_API_KEY: '' })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/needs OPENAI_API_KEY/)
    expect(r.stdout).toMatch(/--fake-llm/)
    expect(fs.existsSync(path.join(tmp, 'nokey'))).toBe(false)
  })

  it('prices are configuration: a thresholds file still carrying the old llm block is refused with the variables to set', () => {
    expect(() => parseThresholds('version: 1\nllm:\n  price_per_1m_tokens: { input: 1, output: 2 }\nmetrics: {}\n')).toThrow(/WARDEN_LLM_PRICE_INPUT_PER_MTOK/)
  })

  it('--fake-llm runs grounding through the LLM path and reports beside the deterministic figures', async () => {
    const out = path.join(tmp, 'fake')
    // Prices: the output price from configuration, the input price overridden by its flag.
    const r = await runEval(['--mode', 'llm', '--fake-llm', '--only', 'grounding', '--price-in', '1', '--out', out, '--quiet'], { WARDEN_LLM_PRICE_INPUT_PER_MTOK: '7', WARDEN_LLM_PRICE_OUTPUT_PER_MTOK: '2' })
    expect(r.code, r.stdout + r.stderr).toBe(0)
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as SuiteReport
    const l = report.llm!
    expect(report.mode).toBe('llm')
    expect(l.fake).toBe(true)
    expect(l.calls).toBeGreaterThan(100)
    expect(l.callsOk).toBeGreaterThan(0)
    expect(l.callsOk).toBeLessThan(l.calls)
    // Fallbacks, each with its reason.
    expect(Object.keys(l.llm.fallbackReasons).sort()).toEqual(['http_error', 'malformed', 'schema_violation'])
    expect(l.deterministic.fallbacks).toBe(0)
    expect(l.llm.llmUsed + l.llm.fallbacks).toBeGreaterThan(0)
    // The adversarial replies were cut down by the guard, by type.
    for (const t of ['certainty_language_removed', 'citation_removed', 'unsupported_statement_removed', 'action_removed']) {
      expect(l.llm.interventions[t] ?? 0, t).toBeGreaterThan(l.deterministic.interventions[t] ?? 0)
    }
    // …so what reached a human is still grounded: the invariants hold in LLM mode too.
    const llmValue = (id: string) => l.metrics.find((m) => m.id === id)?.value
    expect(llmValue('llm.grounding.citation_resolution')).toBe(1)
    expect(llmValue('llm.grounding.unsupported_numbers')).toBe(0)
    expect(llmValue('llm.grounding.certainty_phrases')).toBe(0)
    expect(report.gate.rows.filter((g) => g.id.startsWith('llm.')).every((g) => g.verdict === 'pass')).toBe(true)
    // Tokens, latency and cost at the flag prices.
    expect(l.tokens.prompt).toBeGreaterThan(0)
    expect(l.tokens.casesWithTokens).toBeGreaterThan(0)
    expect(l.callLatencyMs.p50).not.toBeNull()
    expect(l.cost.prices).toMatchObject({ input: 1, output: 2 })
    expect(l.cost.prices.source).toMatch(/--price-in \/ WARDEN_LLM_PRICE_OUTPUT_PER_MTOK/)
    expect(l.cost.totalUsd).toBeCloseTo((l.tokens.prompt * 1 + l.tokens.completion * 2) / 1e6, 6)
    // Tokens per case: every case that called the model, summing to the totals.
    expect(l.perCase).toHaveLength(l.tokens.casesWithTokens)
    expect(l.perCase.reduce((n, c) => n + c.prompt, 0)).toBe(l.tokens.prompt)
    expect(l.perCase.reduce((n, c) => n + c.completion, 0)).toBe(l.tokens.completion)
    expect(l.tokensPerCase.promptMax).toBe(Math.max(...l.perCase.map((c) => c.prompt)))
    expect(l.perCase.every((c) => c.costUsd > 0 && c.caseId !== '')).toBe(true)
    expect(l.deltas.map((d) => d.id)).toContain('grounding.citation_resolution')
    const summary = fs.readFileSync(path.join(out, 'summary.md'), 'utf8')
    expect(summary).toMatch(/## LLM path vs deterministic/)
    expect(summary).toMatch(/\| http_error \| \d+ \|/)
    expect(summary).toMatch(/\| certainty_language_removed \| \d+ \| \d+ \|/)
    expect(summary).toMatch(/estimated cost: \$/)
    expect(summary).toMatch(/prompt p50 \d+, max \d+; completion p50 \d+, max \d+/)
    expect(summary).toMatch(/latency per draft\/answer: deterministic p50 \d+ ms \/ p95 \d+ ms; LLM p50 \d+ ms \/ p95 \d+ ms/)
  }, 600_000)
})
