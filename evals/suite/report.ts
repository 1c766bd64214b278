import { describeBound } from './gate.js'
import type { SuiteReport } from './index.js'
import type { FailedCase, Metric } from './types.js'

// The Markdown summary (evals/out/summary.md, also printed): verdict first, then every metric with its
// threshold, then the cases that went wrong with what was expected and what came out. report.json has
// everything else (per-case results, confusion matrices, evidence checks).

const MAX_CASES_PER_GROUP = 12

export function formatValue(v: number | boolean | null, kind?: Metric['kind']): string {
  if (v === null) return '—'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (kind === 'count') return String(v)
  if (kind === 'ms') return `${Math.round(v)} ms`
  if (kind === 'margin') return `${v >= 0 ? '+' : ''}${v.toFixed(3)}`
  return v.toFixed(3)
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ')
const secs = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s` : `${(ms / 1000).toFixed(1)}s`)

function metricsTable(r: SuiteReport): string[] {
  const rows = new Map(r.gate.rows.map((g) => [g.id, g]))
  const lines = ['| metric | value | threshold | result | what it measures |', '| --- | ---: | ---: | --- | --- |']
  for (const m of [...r.metrics, ...(r.llm?.metrics ?? [])]) {
    const g = rows.get(m.id)
    const result = g ? (g.verdict === 'fail' ? '**FAIL**' : g.verdict) : 'info'
    lines.push(`| \`${m.id}\` | ${formatValue(m.value, m.kind)} | ${g ? describeBound(g.bound) : '—'} | ${result} | ${cell(m.description)} |`)
  }
  // Thresholds whose metric was not produced (fail) or whose section was not run (skipped).
  for (const g of r.gate.rows.filter((x) => x.value === null)) lines.push(`| \`${g.id}\` | — | ${describeBound(g.bound)} | ${g.verdict === 'fail' ? '**FAIL**' : 'skipped'} | ${cell(g.why)} |`)
  return lines
}

function failedCases(list: FailedCase[], title: string): string[] {
  if (list.length === 0) return [`## ${title}`, '', 'None.']
  const out = [`## ${title} (${list.length})`, '']
  const groups = new Map<string, FailedCase[]>()
  for (const f of list) groups.set(`${f.section} · ${f.set}`, [...(groups.get(`${f.section} · ${f.set}`) ?? []), f])
  for (const [g, items] of groups) {
    out.push(`### ${g} (${items.length})`, '')
    for (const f of items.slice(0, MAX_CASES_PER_GROUP)) out.push(`- **${f.id}** — expected: ${f.expected}`, `  - got: ${f.got}`)
    if (items.length > MAX_CASES_PER_GROUP) out.push(`- …and ${items.length - MAX_CASES_PER_GROUP} more in report.json (\`failures\`)`)
    out.push('')
  }
  return out
}

function llmSection(r: SuiteReport): string[] {
  const l = r.llm
  if (!l) return []
  const ms = (x: number | null) => (x === null ? '—' : `${Math.round(x)} ms`)
  const out = [
    '## LLM path vs deterministic',
    '',
    `Model \`${l.model}\` at ${l.endpoint}${l.fake ? ' — **scripted fake server**: proves the wiring (fallbacks, guard, accounting), not model quality' : ''}.`,
    '',
    `- model calls: ${l.calls} (${l.callsOk} returned a valid structured reply); call latency p50 ${ms(l.callLatencyMs.p50)}, p95 ${ms(l.callLatencyMs.p95)}`,
    `- end-to-end latency per draft/answer: deterministic p50 ${ms(l.deterministic.latencyMs.p50)} / p95 ${ms(l.deterministic.latencyMs.p95)}; LLM p50 ${ms(l.llm.latencyMs.p50)} / p95 ${ms(l.llm.latencyMs.p95)}`,
    `- tokens: ${l.tokens.prompt} prompt + ${l.tokens.completion} completion; ${l.tokens.casesWithTokens} of ${l.llm.outputs} cases reported usage: ${l.tokens.promptPerCase} prompt + ${l.tokens.completionPerCase} completion per such case (prompt p50 ${l.tokensPerCase.promptP50 ?? '—'}, max ${l.tokensPerCase.promptMax ?? '—'}; completion p50 ${l.tokensPerCase.completionP50 ?? '—'}, max ${l.tokensPerCase.completionMax ?? '—'}; every case in report.json \`llm.perCase\`)`,
    `- estimated cost: $${l.cost.totalUsd.toFixed(4)} for the run, $${l.cost.perCaseUsd.toFixed(6)} per case that called the model, at $${l.cost.prices.input} / $${l.cost.prices.output} per 1M prompt / completion tokens (${l.cost.prices.source})`,
    `- drafts/answers from the model: ${l.llm.llmUsed} of ${l.llm.outputs}; fallbacks to the deterministic draft: ${l.llm.fallbacks}`,
    '',
  ]
  if (l.llm.fallbacks) {
    out.push('| fallback reason | cases | example |', '| --- | ---: | --- |')
    for (const [k, v] of Object.entries(l.llm.fallbackReasons).sort((a, b) => b[1] - a[1])) out.push(`| ${k} | ${v} | ${cell(l.llm.fallbackExamples[k] ?? '')} |`)
    out.push('')
  }
  const types = [...new Set([...Object.keys(l.deterministic.interventions), ...Object.keys(l.llm.interventions)])].sort()
  out.push('| guard intervention | deterministic | LLM |', '| --- | ---: | ---: |')
  for (const t of types) out.push(`| ${t} | ${l.deterministic.interventions[t] ?? 0} | ${l.llm.interventions[t] ?? 0} |`)
  out.push('', '| metric | deterministic | LLM | delta |', '| --- | ---: | ---: | ---: |')
  for (const d of l.deltas) out.push(`| \`${d.id}\` | ${formatValue(d.deterministic, d.kind)} | ${formatValue(d.llm, d.kind)} | ${d.delta === null ? '—' : formatValue(d.delta, d.kind === 'count' ? 'count' : 'margin')} |`)
  out.push('', 'Not compared (no LLM path):', ...l.notCompared.map((n) => `- ${n}`), '')
  return out
}

function skipped(r: SuiteReport): string {
  const rows = r.gate.rows.filter((g) => g.verdict === 'skipped')
  if (rows.length === 0) return ''
  const why = [...new Set(rows.map((g) => g.why))]
  return ` (${rows.length} skipped: ${why.join('; ')})`
}

export function renderSummary(r: SuiteReport): string {
  const commit = r.commit ? `commit ${r.commit.sha.slice(0, 10)}${r.commit.dirty ? ' + uncommitted changes' : ''}` : 'commit unknown'
  const verdict = r.gate.pass ? 'PASS' : 'FAIL'
  const lines = [
    `# Warden evaluation — ${verdict}`,
    '',
    `Mode **${r.mode}** · ${commit} · thresholds v${r.thresholdsVersion} · embeddings ${r.embedder} · sections ${r.sections.join(', ')} · ${secs(r.durationMs)} · ${r.generatedAt}`,
    '',
    r.gate.pass
      ? `**Gate passed**: all ${r.gate.rows.filter((g) => g.verdict === 'pass').length} thresholded metrics meet evals/thresholds.yaml${skipped(r)}.`
      : `**Gate FAILED** — ${r.gate.failed.length} metric(s) below threshold: ${r.gate.failed.map((g) => `\`${g.id}\` (${g.why})`).join('; ')}.`,
    '',
    ...r.notes.map((n) => `> note: ${n}`),
    ...(r.notes.length ? [''] : []),
    '## Metrics',
    '',
    'Thresholded metrics fail the run when they miss their bound; `info` rows are context. Shares are 0–1.',
    '',
    ...metricsTable(r),
    '',
    ...failedCases(r.failures, 'Failed cases'),
    '',
    ...(r.llm ? [...llmSection(r), ...(r.llm.failures.length ? failedCases(r.llm.failures, 'LLM-path grounding problems') : []), ''] : []),
    '## Timings',
    '',
    '| section | total | parts |',
    '| --- | ---: | --- |',
    ...Object.entries(r.timingsMs).map(([s, t]) => `| ${s} | ${secs(t.total)} | ${Object.entries(t).filter(([k]) => k !== 'total').map(([k, v]) => `${k} ${secs(v)}`).join(', ')} |`),
    '',
    '## Reading and changing this',
    '',
    '- Retrieval "passage" level: a hit counts only if it comes from a relevant source *and* contains one of the case\'s evidence phrases. R@5 = found in the top 5; MRR = mean of 1/rank (0 when absent from the top 10).',
    '- Classification: accuracy is exact match on service/team; the failure class may also match `acceptable_classes`. Failed cases list only the fields that were wrong.',
    '- Safety: each case runs end to end on a fresh database; `not_covered` means the case needs a capability Warden lacks and is reported, not counted as a failure.',
    '- Grounding: checked on every stored draft (one per labelled alert) and answer (one per retrieval question) against the evidence pack stored with it.',
    '- Thresholds live in `evals/thresholds.yaml` (versioned; the header says how to change them). Full per-case data: `report.json` beside this file.',
  ]
  return `${lines.join('\n')}\n`
}
