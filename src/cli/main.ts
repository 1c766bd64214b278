import { Command } from 'commander'
import { askCommand, assessCommand, replayCommand } from './assistant.js'
import { auditExportCommand, auditVerifyCommand } from './audit.js'
import { bootConfig } from './context.js'
import { evalClassifyCommand, evalRetrievalCommand, evalSafetyCommand } from './eval.js'
import { ingestCommand, runsCommand, showCommand } from './ingest.js'
import { migrateCommand } from './migrate.js'
import {
  proposalsApproveCommand, proposalsListCommand, proposalsRejectCommand, proposalsShowCommand, proposalsSweepCommand, proposalsWithdrawCommand, type CliIdentity,
} from './proposals.js'
import { searchCommand } from './search.js'
import { serveCommand, workerCommand } from './serve.js'
import { tokensCreateCommand, tokensListCommand, tokensRevokeCommand } from './tokens.js'

const program = new Command()
program.name('warden').description('Incident assistant whose AI is bounded by design').showHelpAfterError()

program
  .command('migrate')
  .description('apply pending database migrations and print the schema version (a deployment\'s migration step)')
  .option('--json')
  .action(migrateCommand)

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

program
  .command('worker')
  .description('run assessment jobs, the expiry sweep and hand-off delivery without the HTTP API (Postgres: any number of processes)')
  .action(workerCommand)

// Decisions act as the identity configured for this CLI (WARDEN_CLI_IDENTITY / WARDEN_CLI_ROLES), never one
// named on the command line: a flag would let anyone at the terminal approve as anybody.
const cliIdentity = (): CliIdentity | null => {
  const cli = bootConfig().cli
  return cli ? { id: cli.identity, roles: cli.roles } : null
}

const proposalsCmd = program.command('proposals').description('the approval queue: list, show and decide proposals (as WARDEN_CLI_IDENTITY)')
proposalsCmd
  .command('list')
  .description('proposals, newest first')
  .option('--status <status>', 'proposed|approved|rejected|expired|withdrawn|handed_off')
  .option('-n, --limit <n>', 'how many', '20')
  .option('--json')
  .action(proposalsListCommand)
proposalsCmd.command('show').description('a proposal with its preconditions, approvals, hand-off and audit trail').argument('<id>').option('--json').action(proposalsShowCommand)
for (const [verb, run] of [['approve', proposalsApproveCommand], ['reject', proposalsRejectCommand], ['withdraw', proposalsWithdrawCommand]] as const) {
  proposalsCmd
    .command(verb)
    .description(`${verb} a proposal as WARDEN_CLI_IDENTITY with WARDEN_CLI_ROLES (exit 1 with the reason when refused)`)
    .argument('<id>')
    .option('--reason <text>')
    .option('--json')
    .action((id: string, opts: { reason?: string; json?: boolean }) => run(id, opts, cliIdentity()))
}
proposalsCmd.command('sweep').description('expire overdue proposals now').option('--json').action(proposalsSweepCommand)

const auditCmd = program.command('audit').description('the hash-chained audit log')
auditCmd.command('verify').description('walk the chain; exit 1 and report the first broken link').option('--json').action(auditVerifyCommand)
auditCmd.command('export').description('write the log as JSONL (one row per line, bodies verbatim) to stdout').option('--since <time>', 'ISO 8601 time').action(auditExportCommand)

const tokensCmd = program.command('tokens').description('API tokens (stored hashed; the secret is printed once)')
tokensCmd
  .command('create')
  .description('create a token and print its secret once')
  .requiredOption('--name <name>')
  .requiredOption('--identity <identity>', 'who the token acts as (never `assistant`)')
  .requiredOption('--roles <roles>', 'comma-separated: API roles (webhook, oncall, reviewer, executor, admin) and approver roles (sre, dba, oncall-lead, …)')
  .option('--json')
  .action(tokensCreateCommand)
tokensCmd.command('list').description('tokens (never secrets or hashes)').option('--json').action(tokensListCommand)
tokensCmd.command('revoke').description('revoke a token at once').argument('<id>').action(tokensRevokeCommand)

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

