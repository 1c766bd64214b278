import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

// Invariant 1: no code path in Warden executes a remediation action. Warden hands approved actions to an
// external executor; it never starts a process or a command itself. This scans every source file under src/
// with the TypeScript parser, so comments and regular-expression literals (the injection detector matches
// "kubectl delete" in untrusted text) are not mistaken for usage, while any real import, call or command
// string is. The only exception is the CLI launcher, which imports tsx to run the sources.

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url))
const ALLOWED = new Set(['cli/bin.js'])

const PROCESS_MODULES = /^(?:node:)?child_process$|^(?:execa|shelljs|zx|cross-spawn|node-pty|ssh2|dockerode|@kubernetes\/client-node)$/
const EXEC_FUNCTIONS = new Set(['exec', 'execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork'])
/** Member calls that only exist to start processes (`.exec(` is left out: RegExp#exec and Database#exec). */
const EXEC_METHODS = new Set(['execSync', 'execFile', 'execFileSync', 'spawn', 'spawnSync', 'fork'])
/** Strings only: a command line in a string is a command someone means to run. (Prose about tools is fine.) */
const COMMAND_TEXT = /\bkubectl\b/i

export function findExecution(fileName: string, text: string): string[] {
  const found: string[] = []
  if (/child_process/.test(text)) found.push('mentions child_process')
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, fileName.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS)
  const at = (n: ts.Node) => `${fileName}:${sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1}`
  const visit = (n: ts.Node): void => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier) && PROCESS_MODULES.test(n.moduleSpecifier.text)) found.push(`${at(n)} imports ${n.moduleSpecifier.text}`)
    if (ts.isCallExpression(n)) {
      const callee = n.expression
      const firstArg = n.arguments[0]
      const isLoader = callee.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(callee) && callee.text === 'require')
      if (isLoader && firstArg && ts.isStringLiteralLike(firstArg) && PROCESS_MODULES.test(firstArg.text)) found.push(`${at(n)} loads ${firstArg.text}`)
      if (ts.isIdentifier(callee) && EXEC_FUNCTIONS.has(callee.text)) found.push(`${at(n)} calls ${callee.text}()`)
      if (ts.isPropertyAccessExpression(callee) && EXEC_METHODS.has(callee.name.text)) found.push(`${at(n)} calls .${callee.name.text}()`)
      if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && callee.expression.text === 'process' && ['binding', 'dlopen'].includes(callee.name.text)) found.push(`${at(n)} calls process.${callee.name.text}()`)
    }
    if ((ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)) && COMMAND_TEXT.test(n.text)) found.push(`${at(n)} has a command string ${JSON.stringify(n.text.slice(0, 60))}`)
    ts.forEachChild(n, visit)
  }
  visit(sf)
  return found
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(p)
    return /\.(?:[cm]?[jt]s)$/.test(e.name) ? [p] : []
  })
}

describe('invariant 1: Warden executes nothing', () => {
  it('no source file under src/ starts a process or carries a command, except the CLI launcher', () => {
    const files = sourceFiles(SRC)
    expect(files.length).toBeGreaterThan(50)
    const violations = files
      .map((f) => path.relative(SRC, f).split(path.sep).join('/'))
      .filter((rel) => !ALLOWED.has(rel))
      .flatMap((rel) => findExecution(rel, fs.readFileSync(path.join(SRC, rel), 'utf8')))
    expect(violations).toEqual([])
  })

  it('the scan catches each form of execution and ignores comments and detection patterns', () => {
    const bad = [
      "import { spawn } from 'node:child_process'",
      "import cp from 'child_process'",
      "const { execSync } = await import('node:child_process')",
      "const cp = require('child_process')",
      "import { execa } from 'execa'",
      "exec('ls')",
      "spawn('sh', ['-c', 'x'])",
      "cp.execFile('x')",
      "childProcess.spawnSync('x')",
      'const cmd = `kubectl rollout undo deploy/${name}`',
      "run('KUBECTL scale deploy/x --replicas=0')",
      "process.binding('spawn_sync')",
    ]
    for (const src of bad) expect(findExecution('x.ts', src), src).not.toEqual([])
    const fine = [
      '// kubectl rollout undo is what a human would run',
      "const re = /\\bkubectl\\s+delete\\b/i",
      'const m = DURATION.exec(value)',
      'await db.exec(sql)',
      "const kind = 'terraform-platform'",
      "const s = 'rolled back by the executor'",
      "const note = 'non-zero exit code (not a Terraform plan exit code)'",
    ]
    for (const src of fine) expect(findExecution('x.ts', src), src).toEqual([])
  })
})
