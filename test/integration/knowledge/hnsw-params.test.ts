import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrate } from '../../../src/db/migrate.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { ensureModelIndex, hnswIndexName } from '../../../src/knowledge/models.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// HNSW build parameters: new indexes get HNSW_BUILD; 008_hnsw_params.sql rebuilt indexes made with pgvector's
// defaults before it, under the same name.

describe(`HNSW build parameters (${backend})`, () => {
  let t: TestDatabase
  const model = { id: createLocalEmbeddings().id, dim: createLocalEmbeddings().dim }
  const options = async () =>
    (await t.db.query<{ opts: string[] | null }>('select reloptions as opts from pg_class where relname = $1', [hnswIndexName(model)])).rows[0]?.opts ?? null

  beforeAll(async () => {
    t = await createTestDatabase()
  })
  afterAll(async () => t?.cleanup())

  it('ensureModelIndex builds with m 32 / ef_construction 200', async () => {
    await ensureModelIndex(t.db, model)
    expect(await options()).toEqual(['m=32', 'ef_construction=200'])
  })

  it('migration 008 rebuilds an index created with the defaults, keeping its name and predicate', async () => {
    await t.db.query(`drop index ${hnswIndexName(model)}`)
    await t.db.query(
      `create index ${hnswIndexName(model)} on chunks using hnsw ((embedding::vector(${model.dim})) vector_cosine_ops) where embedding_model = '${model.id}'`,
    )
    expect(await options()).toBeNull()
    await t.db.query('delete from schema_migrations where version = 8')
    expect(await migrate(t.db)).toContain('008_hnsw_params.sql')
    expect(await options()).toEqual(['m=32', 'ef_construction=200'])
    const { rows } = await t.db.query<{ def: string }>('select pg_get_indexdef(to_regclass($1)) as def', [hnswIndexName(model)])
    expect(rows[0]!.def).toContain(`WHERE (embedding_model = '${model.id}'::text)`)
  })
})
