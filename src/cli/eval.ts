import { formatRetrievalReport, loadCases, runRetrievalEval } from '../../evals/retrieval.js'
import { bootConfig, embedderFor, fail } from './context.js'

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
