import { formatRetrievalReport, loadCases, runRetrievalEval } from '../../evals/retrieval.js'
import { evalClassifyFromFiles, formatClassifyReport } from '../../evals/classify.js'
import { formatSafetyReport, loadSafetyCases, runSafetyEval } from '../../evals/safety.js'
import { bootConfig, embedderFor, fail, referenceFor } from './context.js'

export async function evalRetrievalCommand(opts: { corpus: string[]; cases: string; json?: boolean; k?: string }): Promise<void> {
  const config = bootConfig()
  if (!opts.corpus?.length) fail('--corpus PATH… is required', 2)
  const report = await runRetrievalEval({
    corpus: opts.corpus,
    cases: loadCases(opts.cases),
    embedder: embedderFor(config),
    k: opts.k ? Number(opts.k) : undefined,
  })
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatRetrievalReport(report)}\n`)
}

export async function evalSafetyCommand(opts: { cases: string; corpus?: string[]; catalog?: string; taxonomy?: string; policy?: string; json?: boolean }): Promise<void> {
  const config = bootConfig()
  const env = config.env
  const reference = referenceFor({ catalogPath: opts.catalog ?? env.WARDEN_CATALOG, taxonomyPath: opts.taxonomy ?? env.WARDEN_TAXONOMY, policyPath: opts.policy ?? env.WARDEN_POLICY })
  const results = await runSafetyEval({ cases: loadSafetyCases(opts.cases), corpus: opts.corpus ?? [env.WARDEN_DEMO_CORPUS], reference, embedder: embedderFor(config) })
  process.stdout.write(opts.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatSafetyReport(results)}\n`)
  process.exitCode = results.some((r) => r.status === 'fail') ? 1 : 0
}

export async function evalClassifyCommand(opts: { cases: string; catalog: string; taxonomy: string; policy: string; json?: boolean }): Promise<void> {
  bootConfig()
  const report = await evalClassifyFromFiles({ casesPath: opts.cases, catalogPath: opts.catalog, taxonomyPath: opts.taxonomy, policyPath: opts.policy })
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatClassifyReport(report)}\n`)
}
