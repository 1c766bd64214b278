import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate, pendingMigrations, splitStatements } from '../../../src/db/migrate.js'
import { withTransaction, isUniqueViolation } from '../../../src/db/types.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

describe(`database module (${backend})`, () => {
  let t: TestDatabase
  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())

  it('applies every migration once and is a no-op the second time', async () => {
    expect(await pendingMigrations(t.db)).toEqual([])
    expect(await migrate(t.db)).toEqual([])
    const { rows } = await t.db.query<{ extversion: string }>("select extversion from pg_extension where extname = 'vector'")
    const [major, minor] = rows[0]!.extversion.split('.').map(Number)
    expect(major! * 100 + minor!).toBeGreaterThanOrEqual(7)
  })

  it('rolls back a transaction that throws, and withTransaction reuses an outer one', async () => {
    await t.db.query('create table if not exists tx_probe (v int primary key)')
    await expect(
      t.db.transaction(async (tx) => {
        await tx.query('insert into tx_probe values (1)')
        await withTransaction(tx, async (inner) => inner.query('insert into tx_probe values (2)'))
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect((await t.db.query('select * from tx_probe')).rows).toEqual([])
    await withTransaction(t.db, async (tx) => {
      await tx.query('insert into tx_probe values (1)')
      await withTransaction(tx, (inner) => inner.query('insert into tx_probe values (2)'))
    })
    expect((await t.db.query<{ v: number }>('select v from tx_probe order by v')).rows.map((r) => r.v)).toEqual([1, 2])
  })

  it('reports unique violations so callers can map them to conflicts', async () => {
    const err = await t.db.query('insert into tx_probe values (1)').catch((e: unknown) => e)
    expect(isUniqueViolation(err)).toBe(true)
  })

  it('grants a named lock to one holder at a time', async () => {
    const a = await t.db.tryLock('probe')
    expect(a).not.toBeNull()
    expect(await t.db.tryLock('probe')).toBeNull()
    await a!.release()
    const b = await t.db.tryLock('probe')
    expect(b).not.toBeNull()
    await b!.release()
  })
})

describe('splitStatements', () => {
  it('keeps quoted semicolons, dollar bodies and drops comments', () => {
    const sql = "-- c; \nselect 'a;b';\ncreate function f() returns int as $$ select 1; $$ language sql;\n"
    expect(splitStatements(sql)).toEqual(["select 'a;b'", 'create function f() returns int as $$ select 1; $$ language sql'])
  })
})
