import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { lengthPriorFor, search } from '../../../src/knowledge/search.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'

// The vector ranker's length prior (search.ts, lengthPriorFor): plain cosine ranks a short section that only
// repeats the question's words above the long section that answers it; cos · len^p must not.

const SHORT = 'Consumer lag on shipment events grows.'
const LONG = [
  'When consumer lag on shipment events grows, first check whether the consumers are alive: a rebalance loop',
  'after a deploy stalls every partition. Compare the commit rate per partition with the produce rate; a single',
  'hot partition points at a skewed key such as one warehouse id. Scale the consumer group only up to the',
  'partition count, since extra consumers sit idle. If processing is slow because of the downstream carrier API,',
  'raise the batch size and enable the retry topic so poison messages stop blocking the partition. Record the',
  'offsets before resetting anything, and never skip offsets without the owning team agreeing to replay them.',
].join(' ')

const doc = `---\ntitle: Shipment pipeline notes\nservice: shipment-events\nteam: logistics\n---\n# Shipment pipeline notes\n\n## Alert\n${SHORT}\n\n## Handling growing lag\n${LONG}\n`

describe(`vector length prior (${backend})`, () => {
  let t: TestDatabase
  const embedder = createLocalEmbeddings()
  const query = 'consumer lag on shipment events keeps growing, what should I check on the consumers and partitions?'
  const vector = (lengthPrior?: number) => search({ db: t.db, embedder, lengthPrior }, { query, k: 2, mode: 'vector' })

  beforeAll(async () => {
    t = await createTestDatabase()
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warden-prior-'))
    fs.mkdirSync(path.join(dir, 'runbooks'))
    fs.writeFileSync(path.join(dir, 'runbooks', 'shipment.md'), doc)
    await runIngest({ db: t.db, embedder }, { inputs: [dir], maxBytes: 1 << 20 })
  })
  afterAll(async () => t?.cleanup())

  it('plain cosine (p = 0) prefers the short section; the local embedder default prefers the answer', async () => {
    expect(lengthPriorFor(embedder.id)).toBeGreaterThan(0)
    const plain = await vector(0)
    expect(plain.map((h) => h.headingPath.at(-1))).toEqual(['Alert', 'Handling growing lag'])
    const withPrior = await vector()
    expect(withPrior.map((h) => h.headingPath.at(-1))).toEqual(['Handling growing lag', 'Alert'])
    // The reported similarity stays the cosine: the prior changes the order, not what the hit says.
    const sim = (hits: typeof plain, id: number) => hits.find((h) => h.chunkId === id)!.scores.vector!.similarity
    for (const h of plain) expect(sim(withPrior, h.chunkId)).toBeCloseTo(h.scores.vector!.similarity, 10)
    expect(withPrior.map((h) => h.scores.vector!.rank)).toEqual([1, 2])
  })
})
