import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
// node --import tsx (not the tsx binary): tsx's wrapper forks, and signals must reach the real process.

const MAIN = `${REPO_ROOT}src/cli/main.ts`

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the real `warden` CLI in a child process with the given environment (no inherited DATABASE_URL). */
export function startCli(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO_ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
}

function cliEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = { ...process.env }
  delete base.DATABASE_URL
  delete base.WARDEN_DATA_DIR
  delete base.OPENAI_API_KEY
  return { ...base, LOG_LEVEL: 'warn', ...env }
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * Runs the CLI on a pseudo-terminal (util-linux `script`), as a person at a terminal would: stdout and stderr are
 * TTYs, and both arrive merged in `stdout`.
 */
export function runCliOnTty(args: string[], env: Record<string, string>): Promise<CliResult> {
  const command = [process.execPath, '--import', 'tsx', MAIN, ...args].map(shellQuote).join(' ')
  return collect(spawn('script', ['-qec', command, '/dev/null'], { cwd: REPO_ROOT, env: cliEnv(env), stdio: ['ignore', 'pipe', 'pipe'] }))
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return collect(startCli(args, env))
}

function collect(child: ChildProcess): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
