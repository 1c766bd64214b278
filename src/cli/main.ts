import { Command } from 'commander'
import { askCommand, assessCommand, replayCommand } from './assistant.js'
import { evalClassifyCommand, evalRetrievalCommand, evalSafetyCommand } from './eval.js'
import { ingestCommand, runsCommand, showCommand } from './ingest.js'
import { searchCommand } from './search.js'
import { serveCommand } from './serve.js'

const program = new Command()
program.name('warden').description('Incident assistant whose AI is bounded by design').showHelpAfterError()

program
  .command('ingest')
  .description('index runbooks, case studies, telemetry summaries, feeds and pages (`ingest runs`, `ingest show RUN` for history)')
  .argument('[inputs...]', 'paths or URLs; or `runs` / `show RUN`')
  .option('--json', 'print a JSON summary')
  .option('-n, --limit <n>', 'with `runs`: how many to list', '20')
  .option('--progress-json', 'print one JSON progress line per source on stderr')
  .action(async (inputs: string[], opts: { json?: boolean; limit?: string; progressJson?: boolean }) => {
    // `ingest runs` and `ingest show RUN` share the verb; a directory literally named runs is `./runs`.
    if (inputs[0] === 'runs' && inputs.length === 1) return runsCommand(opts)
    if (inputs[0] === 'show') {
      if (inputs.length !== 2) program.error('usage: warden ingest show RUN')
      return showCommand(inputs[1]!, opts)
    }
    return ingestCommand(inputs, opts)
  })

program
  .command('search')
  .description('hybrid search over the knowledge base')
  .argument('<query>')
  .option('--service <service>')
  .option('--team <team>')
  .option('--kind <kind>', 'runbook|case_study|telemetry|doc')
  .option('-k <n>', 'number of hits', '5')
  .option('--mode <mode>', 'hybrid|fts|vector', 'hybrid')
  .option('--json')
  .action(searchCommand)

program
  .command('assess')
  .description('receive an alert webhook payload from a file (or - for stdin), then classify and draft an assessment')
  .argument('<file>')
  .option('--format <format>', 'auto|alertmanager|grafana|pagerduty|generic', 'auto')
  .option('--json')
  .action(assessCommand)

program
  .command('ask')
  .description('ask an on-call question; the answer cites passages or refuses with a reason')
  .argument('<question>')
  .option('--service <service>')
  .option('--json')
  .action(askCommand)

program
  .command('replay')
  .description('rebuild an assessment from its stored evidence pack and print the differences')
  .argument('<assessmentId>')
  .option('--json')
  .action(replayCommand)

program
  .command('serve')
  .description('serve the HTTP API')
  .option('--demo', 'ingest the demo corpus first when the knowledge base is empty')
  .action(serveCommand)

program
  .command('up')
  .description('one-command start on embedded defaults: demo corpus ingested if empty, then serve')
  .action(() => serveCommand({ demo: true }))

const evalCmd = program.command('eval').description('evaluation runners')
evalCmd
  .command('retrieval')
  .description('recall@1/@5 and MRR at document and passage level for hybrid, full-text and vector retrieval')
  .requiredOption('--corpus <paths...>', 'corpus paths to ingest into a fresh embedded database')
  .requiredOption('--cases <file>', 'JSONL cases {id, question, relevant, evidence}')
  .option('--json')
  .action(evalRetrievalCommand)

evalCmd
  .command('classify')
  .description('service/team accuracy, failure-class macro-F1 and a confusion matrix over labelled alerts (deterministic mode)')
  .requiredOption('--cases <file>')
  .requiredOption('--catalog <file>')
  .requiredOption('--taxonomy <file>')
  .requiredOption('--policy <file>')
  .option('--corpus <paths...>', 'accepted for symmetry; classification uses catalog rules and signatures')
  .option('--json')
  .action(evalClassifyCommand)

evalCmd
  .command('safety')
  .description('adversarial and bad-input cases end to end, each reported pass/fail/not covered')
  .requiredOption('--cases <file>')
  .option('--corpus <paths...>', 'knowledge to ingest first (default: the demo corpus)')
  .option('--catalog <file>')
  .option('--taxonomy <file>')
  .option('--policy <file>')
  .option('--json')
  .action(evalSafetyCommand)

await program.parseAsync(process.argv)

