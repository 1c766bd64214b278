import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadReference } from '../../../src/policy/reference.js'
import { DEMO_DIR, SHARED_DIR, paths, problemsOf } from './fixtures.js'

describe('loadReference', () => {
  it('loads the shared reference files and our demo files', () => {
    for (const dir of [SHARED_DIR, DEMO_DIR]) {
      const { catalog, taxonomy, policy } = loadReference(paths(dir))
      expect(catalog.services.length).toBeGreaterThan(5)
      expect(taxonomy.hasClass('unknown')).toBe(true)
      expect(policy.actions.size).toBeGreaterThan(5)
      expect(policy.sha256).toMatch(/^[0-9a-f]{64}$/)
    }
  })

  it('collects the problems of all three files into one error', () => {
    // Edited copies of the demo files in a temp dir (the originals are only read).
    const dir = mkdtempSync(join(tmpdir(), 'warden-ref-'))
    const edit = (name: string, from: string, to: string) => {
      const text = readFileSync(`${DEMO_DIR}/${name}`, 'utf8')
      expect(text).toContain(from)
      writeFileSync(join(dir, name), text.replace(from, to))
    }
    edit('catalog.yaml', 'team: checkout-payments', 'team: checkout-paymnts')
    edit('taxonomy.yaml', 'severities: [page, ticket, log]', 'severities: [page, ticket]')
    edit('policy.yaml', 'preconditions: [service_known, telemetry_safe]', 'preconditions: [service_known, telemetry_sane]')
    let problems: readonly string[]
    try {
      problems = problemsOf(() => loadReference(paths(dir)))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
    expect(problems).toEqual([
      expect.stringMatching(/catalog\.yaml: services\[2\]\.team: "checkout-paymnts" is not a team \(known: /),
      expect.stringMatching(/taxonomy\.yaml: severities: must be exactly \[page, ticket, log\]$/),
      expect.stringMatching(/policy\.yaml: actions\.restart_workload\.preconditions\[1\]: "telemetry_sane" is not a precondition/),
    ])
  })
})
