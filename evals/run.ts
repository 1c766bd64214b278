import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { RULES } from '../src/alerts/classify/index.js'
import { createLlmClient } from '../src/assistant/llm.js'
import { ConfigError, loadConfig, type Config } from '../src/config/env.js'
import { embedderFor } from '../src/cli/context.js'
import { DEFAULT_OUT, DEFAULT_THRESHOLDS, loadThresholds, ThresholdsError } from './suite/config.js'
import { runSuite, SuiteInputError, type SuiteLlm } from './suite/index.js'
import { startScriptedFake, type ScriptedFake } from './suite/llm.js'
import { renderSummary } from './suite/report.js'
import { SECTIONS, type SectionName } from './suite/types.js'

// `npm run eval` — the whole evaluation suite in one process and one report:
//   retrieval (external feed + demo corpus), classification (shared + demo alerts), safety (shared + our
//   cases), grounding (every draft and answer produced, checked against its evidence pack).
// Writes evals/out/report.json and evals/out/summary.md, prints the summary, and exits 1 when a metric
// misses its threshold in evals/thresholds.yaml (2 on bad usage or missing inputs).
//
//   npm run eval                                   deterministic suite + gate
//   npm run eval -- --only retrieval,classify      a subset of sections
//   npm run eval -- --mode llm                     also through the LLM path (OPENAI_* from the environment)
//   npm run eval -- --mode llm --fake-llm          LLM path against a scripted local fake (CI: wiring only)
//   npm run eval -- --k 1 --drop-rule oom          a deliberately degraded run (shows the gate failing)

const USAGE = `usage: npm run eval -- [options]
  --mode deterministic|llm   llm: also run drafts and answers through the model and compare (default deterministic)
  --only LIST                comma-separated sections: ${SECTIONS.join(',')} (default all)
  --fake-llm                 llm mode against a scripted local fake OpenAI-compatible server (no key, no network)
  --price-in USD --price-out USD   prices per 1M prompt/completion tokens for the cost estimate
                             (default: WARDEN_LLM_PRICE_INPUT_PER_MTOK / WARDEN_LLM_PRICE_OUTPUT_PER_MTOK from config)
  --out DIR                  where report.json and summary.md go (default evals/out)
  --thresholds FILE          thresholds file (default evals/thresholds.yaml)
  --json                     print report.json instead of the summary
  --k N                      degrade: cap retrieval at N hits per query
  --drop-rule IDS            degrade: remove these classifier signature rules (comma-separated ids)
  --quiet                    no progress lines on stderr`

function die(message: string, code = 2): never {
  process.stderr.write(`eval: ${message}\n`)
  process.exit(code)
}

function parse() {
  try {
    return parseArgs({
      options: {
        mode: { type: 'string', default: 'deterministic' },
        only: { type: 'string' },
        'fake-llm': { type: 'boolean', default: false },
        'price-in': { type: 'string' },
        'price-out': { type: 'string' },
        out: { type: 'string' },
        thresholds: { type: 'string' },
        json: { type: 'boolean', default: false },
        k: { type: 'string' },
        'drop-rule': { type: 'string' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values
  } catch (e) {
    die(`${(e as Error).message}\n${USAGE}`)
  }
}

const num = (flag: string, v: string | undefined, min = 0): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < min) die(`--${flag} must be a number ≥ ${min}, got ${JSON.stringify(v)}`)
  return n
}

async function main(): Promise<number> {
  const args = parse()
  if (args.help) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const mode = args.mode
  if (mode !== 'deterministic' && mode !== 'llm') die(`--mode must be deterministic or llm, got ${JSON.stringify(mode)}`)
  if (args['fake-llm'] && mode !== 'llm') die('--fake-llm only makes sense with --mode llm')
  const only = args.only?.split(',').map((s) => s.trim()).filter(Boolean)
  const unknown = only?.filter((s) => !SECTIONS.includes(s as SectionName))
  if (unknown?.length) die(`--only: unknown section(s) ${unknown.join(', ')}; choose from ${SECTIONS.join(', ')}`)
  const k = num('k', args.k, 1)
  const dropped = args['drop-rule']?.split(',').map((s) => s.trim()).filter(Boolean) ?? []
  const unknownRules = dropped.filter((id) => !RULES.some((r) => r.id === id))
  if (unknownRules.length) die(`--drop-rule: no signature rule with id ${unknownRules.join(', ')}`)

  let config: Config
  try {
    config = loadConfig()
  } catch (e) {
    if (e instanceof ConfigError) die(e.message)
    throw e
  }
  let thresholds
  const thresholdsFile = args.thresholds ? path.resolve(args.thresholds) : DEFAULT_THRESHOLDS
  try {
    thresholds = loadThresholds(thresholdsFile)
  } catch (e) {
    if (e instanceof ThresholdsError || (e as NodeJS.ErrnoException).code === 'ENOENT') die((e as Error).message)
    throw e
  }

  let fake: ScriptedFake | null = null
  let llm: SuiteLlm | undefined
  if (mode === 'llm') {
    const priceIn = num('price-in', args['price-in'])
    const priceOut = num('price-out', args['price-out'])
    // Configuration is the one source of prices (the same figures every report uses); flags override it per run.
    const part = (flag: number | undefined, option: string, variable: string) => (flag !== undefined ? option : variable)
    const prices = {
      input: priceIn ?? config.env.WARDEN_LLM_PRICE_INPUT_PER_MTOK,
      output: priceOut ?? config.env.WARDEN_LLM_PRICE_OUTPUT_PER_MTOK,
      source:
        priceIn !== undefined && priceOut !== undefined
          ? 'command-line flags'
          : `${part(priceIn, '--price-in', 'WARDEN_LLM_PRICE_INPUT_PER_MTOK')} / ${part(priceOut, '--price-out', 'WARDEN_LLM_PRICE_OUTPUT_PER_MTOK')} from ${priceIn === undefined && priceOut === undefined ? 'config' : 'flag and config'}`,
    }
    if (args['fake-llm']) {
      fake = await startScriptedFake()
      llm = { client: createLlmClient(fake.settings), endpoint: `${fake.settings.baseURL} (scripted fake)`, fake: true, prices, before: fake.before }
    } else if (!config.llm) {
      process.stdout.write('eval: --mode llm needs OPENAI_API_KEY (and optionally OPENAI_BASE_URL, OPENAI_MODEL); none is set, so there is nothing to compare. Run without --mode llm for the deterministic suite, or add --fake-llm to check the wiring against a scripted local server.\n')
      return 0
    } else {
      llm = { client: createLlmClient(config.llm), endpoint: config.llm.baseURL ?? 'https://api.openai.com/v1 (default)', fake: false, prices }
    }
  }

  const env = config.env
  try {
    const report = await runSuite({
      mode,
      ...(only && { only: only as SectionName[] }),
      embedder: embedderFor(config),
      settings: { minConfidence: env.WARDEN_MIN_CONFIDENCE, evidenceChars: env.WARDEN_EVIDENCE_CHARS, efSearch: env.WARDEN_HNSW_EF_SEARCH },
      thresholds,
      ...(llm && { llm }),
      ...((k !== undefined || dropped.length) && {
        degrade: {
          ...(k !== undefined && { k }),
          ...(dropped.length && { rules: RULES.filter((r) => !dropped.includes(r.id)), note: `classifier signature rule(s) removed: ${dropped.join(', ')} (degraded configuration)` }),
        },
      }),
      log: args.quiet ? undefined : (line) => process.stderr.write(`${line}\n`),
    })
    const outDir = path.resolve(args.out ?? DEFAULT_OUT)
    fs.mkdirSync(outDir, { recursive: true })
    const summary = renderSummary(report)
    fs.writeFileSync(path.join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`)
    fs.writeFileSync(path.join(outDir, 'summary.md'), summary)
    process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : summary)
    if (!args.quiet) process.stderr.write(`[eval] wrote ${path.join(outDir, 'report.json')} and summary.md\n`)
    return report.gate.pass ? 0 : 1
  } catch (e) {
    if (e instanceof SuiteInputError) die(e.message)
    throw e
  } finally {
    await fake?.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`eval: ${(err as Error).stack ?? String(err)}\n`)
    process.exit(2)
  },
)
