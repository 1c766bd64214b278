import { spawn } from 'node:child_process'
import { REPO_ROOT } from '../../helpers/cli.js'

// Runs `npm run eval`'s entry point (evals/run.ts) in a child process, as CI and developers do.
export function runEval(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = { ...process.env }
  for (const k of ['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'DATABASE_URL', 'WARDEN_DATA_DIR', 'WARDEN_EMBEDDINGS']) delete base[k]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'evals/run.ts', ...args], { cwd: REPO_ROOT, env: { ...base, LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}
