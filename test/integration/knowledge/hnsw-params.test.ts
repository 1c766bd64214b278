import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/db/migrate.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { ensureModelIndex, hnswIndexName, hnswIndexNames, INDEXED_KINDS } from '../../../src/knowledge/models.js'
import { SourceKindSchema } from '../../../src/knowledge/search.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// HNSW indexes: one per (model, kind), built with HNSW_BUILD. 008_hnsw_params.sql rebuilt indexes made with
// pgvector's defaults; 009_hnsw_per_kind.sql replaces a model's single index by per-kind ones.

describe(`HNSW indexes per model and kind (${backend})`, () => {
  let t: TestDatabase
  const model = { id: createLocalEmbeddings().id, dim: createLocalEmbeddings().dim }
  const indexes = async () =>
    (
      await t.db.query<{ name: string; opts: string[] | null; def: string }>(
        `select c.relname as name, c.reloptions as opts, pg_get_indexdef(c.oid) as def from pg_class c
         where c.relkind = 'i' and c.relname like $1 order by c.relname`,
        [`${hnswIndexName(model)}%`],
      )
    ).rows

  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())

  it('INDEXED_KINDS is every kind the chunks table accepts (a missing kind would be invisible to vector search)', async () => {
    const { rows } = await t.db.query<{ def: string }>(
      `select pg_get_constraintdef(oid) as def from pg_constraint where conrelid = 'sources'::regclass and contype = 'c' and pg_get_constraintdef(oid) like '%kind%'`,
    )
    const allowed = [...rows[0]!.def.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort()
    expect([...INDEXED_KINDS].sort()).toEqual(allowed)
    expect([...INDEXED_KINDS].sort()).toEqual([...SourceKindSchema.options].sort())
  })

  it('ensureModelIndex builds one index per kind, m 32 / ef_construction 200, each restricted to its kind', async () => {
    await ensureModelIndex(t.db, model)
    const got = await indexes()
    expect(got.map((i) => i.name).sort()).toEqual(hnswIndexNames(model).sort())
    for (const i of got) {
      expect(i.opts).toEqual(['m=32', 'ef_construction=200'])
      const kind = i.name.slice(hnswIndexName(model).length + 1)
      expect(i.def).toContain(`embedding_model = '${model.id}'::text`)
      expect(i.def).toContain(`kind = '${kind}'::text`)
    }
  })

  it('ensureModelIndex recreates only a missing kind index', async () => {
    const [first, ...rest] = hnswIndexNames(model)
    await t.db.query(`drop index ${first}`)
    const before = await t.db.query<{ name: string; oid: number }>('select relname as name, oid::int as oid from pg_class where relname = any($1)', [rest])
    await ensureModelIndex(t.db, model)
    const after = await t.db.query<{ name: string; oid: number }>('select relname as name, oid::int as oid from pg_class where relname = any($1)', [rest])
    expect(after.rows).toEqual(before.rows)
    expect((await indexes()).map((i) => i.name).sort()).toEqual(hnswIndexNames(model).sort())
  })

  it('migration 009 replaces a single per-model index (as 008 left it) by the per-kind indexes', async () => {
    for (const name of hnswIndexNames(model)) await t.db.query(`drop index ${name}`)
    await t.db.query(
      `create index ${hnswIndexName(model)} on chunks using hnsw ((embedding::vector(${model.dim})) vector_cosine_ops) with (m = 32, ef_construction = 200) where embedding_model = '${model.id}'`,
    )
    await t.db.query('delete from schema_migrations where version = 9')
    expect(await migrate(t.db)).toContain('009_hnsw_per_kind.sql')
    const got = await indexes()
    expect(got.map((i) => i.name).sort()).toEqual(hnswIndexNames(model).sort())
    expect(got.every((i) => i.opts?.join() === 'm=32,ef_construction=200')).toBe(true)
  })
})
