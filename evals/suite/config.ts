import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import YAML from 'yaml'
import { z } from 'zod'

// Where the suite's inputs live. Shared material is read in place from `../shared` beside the checkout
// (never copied into the repo); our own cases are in evals/cases and use the demo deployment.

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
export const SHARED_ROOT = path.resolve(REPO_ROOT, '..', 'shared')
export const DEFAULT_THRESHOLDS = path.join(REPO_ROOT, 'evals', 'thresholds.yaml')
export const DEFAULT_OUT = path.join(REPO_ROOT, 'evals', 'out')

export interface ReferencePaths {
  catalogPath: string
  taxonomyPath: string
  policyPath: string
}

/** One deployment the suite evaluates: its knowledge, its reference files and its labelled cases. */
export interface CaseSet {
  /** `external` (the shared deployment and feed) or `demo` (the Larkspur demo shipped with Warden). */
  name: 'external' | 'demo'
  /** How this set is called in the classification and safety sections (`shared` for the shared files). */
  label: string
  corpus: string[]
  reference: ReferencePaths
  retrievalCases: string
  classifyCases: string
  safetyCases: string
}

const ref = (dir: string): ReferencePaths => ({
  catalogPath: path.join(dir, 'catalog.yaml'),
  taxonomyPath: path.join(dir, 'taxonomy.yaml'),
  policyPath: path.join(dir, 'policy.yaml'),
})

export function caseSets(root = REPO_ROOT, shared = SHARED_ROOT): CaseSet[] {
  return [
    {
      name: 'external',
      label: 'shared',
      corpus: [path.join(shared, 'corpus', 'external', 'rajivonai-cloud-platform.rss.xml')],
      reference: ref(path.join(shared, 'evals', 'reference')),
      retrievalCases: path.join(shared, 'evals', 'retrieval', 'retrieval-dev.jsonl'),
      classifyCases: path.join(shared, 'evals', 'alerts', 'classification-dev.jsonl'),
      safetyCases: path.join(shared, 'evals', 'safety', 'safety-dev.jsonl'),
    },
    {
      name: 'demo',
      label: 'demo',
      corpus: [path.join(root, 'ingest', 'corpus')],
      reference: ref(path.join(root, 'ingest', 'reference')),
      retrievalCases: path.join(root, 'evals', 'cases', 'demo-retrieval.jsonl'),
      classifyCases: path.join(root, 'evals', 'cases', 'demo-alerts.jsonl'),
      safetyCases: path.join(root, 'evals', 'cases', 'demo-safety.jsonl'),
    },
  ]
}

/** Every input file a set needs, so a missing `../shared` is reported at once, not halfway through. */
export function missingInputs(sets: CaseSet[]): string[] {
  const files = sets.flatMap((s) => [...s.corpus, s.reference.catalogPath, s.reference.taxonomyPath, s.reference.policyPath, s.retrievalCases, s.classifyCases, s.safetyCases])
  return [...new Set(files)].filter((f) => !fs.existsSync(f))
}

// ---------------------------------------------------------------------------------------------------
// Thresholds: one versioned file, evals/thresholds.yaml.

const Bound = z
  .object({ min: z.number().optional(), max: z.number().optional(), equals: z.boolean().optional() })
  .strict()
  .refine((b) => [b.min, b.max, b.equals].filter((x) => x !== undefined).length === 1, 'exactly one of min, max, equals')
export type Bound = z.infer<typeof Bound>

export const ThresholdsFile = z
  .object({
    version: z.number().int().min(1),
    measured: z.string().optional(),
    // Prices for the cost estimate used to live here; they are configuration now (one source for every
    // report): WARDEN_LLM_PRICE_INPUT_PER_MTOK / WARDEN_LLM_PRICE_OUTPUT_PER_MTOK, or --price-in/--price-out.
    llm: z.never({ error: 'LLM prices are configuration now: set WARDEN_LLM_PRICE_INPUT_PER_MTOK / WARDEN_LLM_PRICE_OUTPUT_PER_MTOK (or pass --price-in/--price-out) and remove the llm block' }).optional(),
    metrics: z.record(z.string(), Bound).superRefine((m, ctx) => {
      for (const id of Object.keys(m)) if (!/^[a-z0-9_.-]+$/.test(id)) ctx.addIssue({ code: 'custom', path: [id], message: 'metric ids are lower-case dotted names (see summary.md)' })
    }),
  })
  .strict()
export type Thresholds = z.infer<typeof ThresholdsFile>

export class ThresholdsError extends Error {
  constructor(file: string, problems: string[]) {
    super(`invalid thresholds file ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ThresholdsError'
  }
}

export function parseThresholds(text: string, file = 'thresholds'): Thresholds {
  let raw: unknown
  try {
    raw = YAML.parse(text)
  } catch (e) {
    throw new ThresholdsError(file, [(e as Error).message])
  }
  const r = ThresholdsFile.safeParse(raw)
  if (!r.success) throw new ThresholdsError(file, r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`))
  return r.data
}

export function loadThresholds(file = DEFAULT_THRESHOLDS): Thresholds {
  return parseThresholds(fs.readFileSync(file, 'utf8'), file)
}
