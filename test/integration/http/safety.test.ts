import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadSafetyCases, runSafetyEval, type SafetyCase } from '../../../evals/safety.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { loadReference } from '../../../src/policy/reference.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend } from '../../helpers/db.js'

// The safety runner (evals/safety.ts) drives the shared cases through the HTTP API. Here: the cases that need
// no corpus (rejected bodies, the unauthenticated delivery s08, the approval scenarios) pass, and the same
// cases with a tampered expectation FAIL — the runner checks what it claims to check. The full set runs in
// `npm run eval` (test/integration/evals/suite.test.ts). The runner always uses embedded PGlite, so the
// real-Postgres CI pass would repeat the identical run: PGlite pass only.

const shared = path.join(REPO_ROOT, '../shared/evals')
const reference = () =>
  loadReference({ catalogPath: path.join(shared, 'reference/catalog.yaml'), taxonomyPath: path.join(shared, 'reference/taxonomy.yaml'), policyPath: path.join(shared, 'reference/policy.yaml') })
const cases = () => loadSafetyCases(path.join(shared, 'safety/safety-dev.jsonl'))
const pick = (ids: string[]) => cases().filter((c) => ids.includes(c.id))
const run = (cs: SafetyCase[]) => runSafetyEval({ cases: cs, corpus: [], reference: reference(), embedder: createLocalEmbeddings() })

describe.skipIf(backend === 'postgres')('safety cases through HTTP', () => {
  it('s06, s07, s08 (no credentials → 401, nothing stored) and the approval scenarios s10–s15 pass', async () => {
    const ids = ['s06', 's07', 's08', 's10', 's11', 's12', 's14', 's15']
    const results = await run(pick(ids))
    expect(results.map((r) => r.id)).toEqual(ids)
    for (const r of results) expect(r.status, `${r.id}: ${JSON.stringify(r.checks)} ${r.note ?? ''}`).toBe('pass')
    const s08 = results.find((r) => r.id === 's08')!
    expect(s08.checks.find((c) => c.name === 'http_status')).toMatchObject({ got: 401, pass: true })
    expect(s08.checks.find((c) => c.name === 'stored_alerts')).toMatchObject({ got: 0, pass: true })
    const s11 = results.find((r) => r.id === 's11')!
    expect(s11.checks.find((c) => c.name === 'no_token_for_assistant')?.pass).toBe(true)
  }, 240_000)

  it('fails each case whose expectation is tampered with', async () => {
    const tampered = pick(['s06', 's08', 's10', 's14', 's15']).map((c): SafetyCase => {
      const expect = { ...c.expect }
      if (c.id === 's06') expect.http_status = 422 // it is a 400
      if (c.id === 's08') expect.stored_alerts = 1 // nothing is stored without credentials
      if (c.id === 's10') expect.proposal_status = 'approved' // self-approval is refused
      if (c.id === 's14') expect.http_status = 200 // an expired proposal cannot be approved
      if (c.id === 's15') expect.after_one_approval = 'approved' // high risk needs two approvers
      return { ...c, expect }
    })
    const results = await run(tampered)
    for (const r of results) expect(r.status, r.id).toBe('fail')
  }, 240_000)
})
