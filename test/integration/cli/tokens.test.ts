import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { propose } from '../../../src/approvals/propose.js'
import type { Proposal } from '../../../src/approvals/store.js'
import { openDatabase } from '../../../src/db/index.js'
import type { Database } from '../../../src/db/types.js'
import { authenticateToken } from '../../../src/http/auth/tokens.js'
import { runCli } from '../../helpers/cli.js'
import { backend, createTestTarget } from '../../helpers/db.js'
import { demoReference } from '../../helpers/http.js'

// The real `warden` binary (child processes) for tokens, audit and proposals: the wiring in src/cli/main.ts,
// the identity taken from WARDEN_CLI_IDENTITY / WARDEN_CLI_ROLES, exit codes. The embedded database admits one
// process at a time, so the test opens it only between CLI runs.

/** A dozen child processes per test (each boots tsx and opens the database): a generous bound, not a target. */
const CHILD_PROCESSES_TIMEOUT = 240_000

describe(`warden tokens | audit | proposals CLI (${backend})`, () => {
  let target: Awaited<ReturnType<typeof createTestTarget>>
  const reference = demoReference()
  beforeAll(async () => {
    target = await createTestTarget({ persistent: true })
  })
  afterAll(async () => target?.drop())

  async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
    const db = await openDatabase(target.target)
    try {
      return await fn(db)
    } finally {
      await db.close()
    }
  }
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { ...target.env, ...env })

  it('creates a token, prints the secret once, lists without secrets, revokes it', async () => {
    const created = await cli(['tokens', 'create', '--name', 'ops laptop', '--identity', 'ada', '--roles', 'admin,sre', '--json'], { WARDEN_CLI_IDENTITY: 'root-operator' })
    expect(created.code, created.stderr).toBe(0)
    const { token, tokenInfo } = JSON.parse(created.stdout) as { token: string; tokenInfo: { id: string; identity: string; roles: string[]; createdBy: string } }
    expect(tokenInfo).toMatchObject({ identity: 'ada', roles: ['admin', 'sre'], createdBy: 'root-operator' })
    expect(await withDb((db) => authenticateToken(db, token))).toEqual({ identity: 'ada', roles: ['admin', 'sre'], via: `token:${tokenInfo.id}` })

    const plain = await cli(['tokens', 'create', '--name', 'hook', '--identity', 'alertmanager', '--roles', 'webhook'])
    expect(plain.code, plain.stderr).toBe(0)
    const secret = /\n {2}(wdn_\S+)\n/.exec(plain.stdout)?.[1]
    expect(secret).toBeDefined()
    expect(plain.stdout).toMatch(/shown this once/)

    for (const args of [['--identity', 'assistant', '--roles', 'reviewer,sre'], ['--identity', 'mallory', '--roles', 'root'], ['--identity', 'mallory', '--roles', '']]) {
      const refused = await cli(['tokens', 'create', '--name', 'x', ...args])
      expect(refused.code, args.join(' ')).toBe(2)
      expect(refused.stderr).toMatch(/^warden: --(identity|roles)/)
    }
    expect(await withDb(async (db) => (await db.query<{ n: number }>("select count(*)::int as n from api_tokens where identity in ('assistant', 'mallory')")).rows[0]!.n)).toBe(0)

    const list = await cli(['tokens', 'list'])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(`${tokenInfo.id}  active   ops laptop  identity ada  roles admin,sre`)
    expect(list.stdout).not.toContain(token)
    expect(list.stdout).not.toContain(secret!)
    const listJson = await cli(['tokens', 'list', '--json'])
    const rows = JSON.parse(listJson.stdout) as Array<Record<string, unknown>>
    expect(rows).toHaveLength(2)
    expect(listJson.stdout).not.toMatch(/hash|wdn_/)

    const revoked = await cli(['tokens', 'revoke', tokenInfo.id])
    expect(revoked.code, revoked.stderr).toBe(0)
    expect(await withDb((db) => authenticateToken(db, token))).toBeNull()
    const again = await cli(['tokens', 'revoke', tokenInfo.id])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already revoked/)
    expect((await cli(['tokens', 'revoke', 'tk_missing'])).code).toBe(1)
  }, CHILD_PROCESSES_TIMEOUT)

  it('verifies and exports the audit chain', async () => {
    const ok = await cli(['audit', 'verify'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/^audit chain ok: \d+ rows, tip [0-9a-f]{64}/)
    const exported = await cli(['audit', 'export', '--since', '2000-01-01T00:00:00Z'])
    expect(exported.code).toBe(0)
    const actions = exported.stdout.trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string })
    expect(actions.filter((a) => a.action.startsWith('token.')).map((a) => `${a.actor} ${a.action}`)).toEqual(['root-operator token.created', 'system:cli token.created', 'system:cli token.revoked'])
    expect((await cli(['audit', 'export', '--since', 'last tuesday'])).code).toBe(2)
  })

  it('decides proposals as WARDEN_CLI_IDENTITY with WARDEN_CLI_ROLES, never as someone named on the command line', async () => {
    const open = (flag: string) =>
      withDb(async (db) => {
        const r = await propose({ db, reference }, { actionId: 'disable_feature_flag', params: { flag }, rationale: 'the new checkout flow fails' }, { id: 'olivia', roles: ['oncall'], kind: 'human' })
        if (!r.ok) throw new Error(r.message)
        return r.proposal as Proposal
      })
    const p = await open('new-checkout')
    const list = await cli(['proposals', 'list', '--status', 'proposed'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toContain(`${p.id}  proposed   disable_feature_flag`)

    const nobody = await cli(['proposals', 'approve', p.id])
    expect(nobody.code).toBe(2)
    expect(nobody.stderr).toMatch(/WARDEN_CLI_IDENTITY/)
    const self = await cli(['proposals', 'approve', p.id], { WARDEN_CLI_IDENTITY: 'olivia', WARDEN_CLI_ROLES: 'oncall,sre' })
    expect(self.code).toBe(1)
    expect(self.stderr).toMatch(/approve refused \(forbidden: self_approval\)/)
    const dba = await cli(['proposals', 'approve', p.id], { WARDEN_CLI_IDENTITY: 'dana', WARDEN_CLI_ROLES: 'dba' })
    expect(dba.code).toBe(1)
    expect(dba.stderr).toMatch(/role_not_allowed/)
    const approved = await cli(['proposals', 'approve', p.id, '--reason', 'flag owner agrees'], { WARDEN_CLI_IDENTITY: 'sam', WARDEN_CLI_ROLES: 'sre' })
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toBe(`${p.id}: approved (approvals 1/1; hand-off queued)\n`)
    const show = await cli(['proposals', 'show', p.id, '--json'])
    expect(JSON.parse(show.stdout)).toMatchObject({ proposal: { status: 'approved', decidedBy: 'sam' }, approvals: [{ reviewerId: 'sam', role: 'sre', reason: 'flag owner agrees' }], outbox: { status: 'pending' } })

    const q = await open('new-search')
    const withdrawn = await cli(['proposals', 'withdraw', q.id, '--json'], { WARDEN_CLI_IDENTITY: 'olivia', WARDEN_CLI_ROLES: 'oncall' })
    expect(withdrawn.code, withdrawn.stderr).toBe(0)
    expect(JSON.parse(withdrawn.stdout)).toMatchObject({ ok: true, proposal: { status: 'withdrawn', decidedBy: 'olivia' } })
    const late = await cli(['proposals', 'reject', q.id], { WARDEN_CLI_IDENTITY: 'sam', WARDEN_CLI_ROLES: 'sre' })
    expect(late.code).toBe(1)
    expect(late.stderr).toMatch(/conflict: not_proposed/)
    expect((await cli(['proposals', 'sweep'])).stdout).toMatch(/^expired 0 proposal/)
    expect((await cli(['audit', 'verify'])).code).toBe(0)
  }, CHILD_PROCESSES_TIMEOUT)
})
