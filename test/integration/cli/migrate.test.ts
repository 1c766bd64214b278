import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listMigrations } from '../../../src/db/migrate.js'
import { openDatabase } from '../../../src/db/index.js'
import { runCli } from '../../helpers/cli.js'
import { backend, createTestTarget } from '../../helpers/db.js'

// `warden migrate` is the deployment's migration step (infra/k8s/migrate-job.yaml, the compose one-shot): on an
// empty database it applies every migration file; run again it changes nothing and reports the same version.
describe(`warden migrate (${backend})`, () => {
  let target: Awaited<ReturnType<typeof createTestTarget>>
  beforeAll(async () => {
    target = await createTestTarget({ persistent: true })
  })
  afterAll(async () => target?.drop())

  it('applies every migration once, reports the schema version, and is a no-op the second time', async () => {
    const files = listMigrations()
    const first = await runCli(['migrate', '--json'], target.env)
    expect(first.code, first.stderr).toBe(0)
    const out = JSON.parse(first.stdout) as { version: number; applied: Array<{ version: number; name: string; appliedAt: string }>; pending: string[] }
    expect(out.applied.map((m) => m.name)).toEqual(files.map((m) => m.name))
    expect(out.version).toBe(files.at(-1)!.version)
    expect(out.pending).toEqual([])

    const second = await runCli(['migrate', '--json'], target.env)
    expect(second.code, second.stderr).toBe(0)
    expect(JSON.parse(second.stdout)).toEqual(out)

    const db = await openDatabase(target.target)
    try {
      const { rows } = await db.query<{ n: number }>('select count(*)::int as n from schema_migrations')
      expect(rows[0]!.n).toBe(files.length)
    } finally {
      await db.close()
    }
  }, 120_000)
})
