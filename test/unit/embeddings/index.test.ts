import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../src/config/env.js'
import { DEFAULT_LOCAL_DIM, createEmbeddingProvider } from '../../../src/knowledge/embeddings/index.js'

describe('createEmbeddingProvider', () => {
  it('builds the local provider', () => {
    const p = createEmbeddingProvider({ provider: 'local' })
    expect(p.id).toBe('local-hash-v1')
    expect(p.dim).toBe(DEFAULT_LOCAL_DIM)
    expect(createEmbeddingProvider({ provider: 'local', localDim: 128 }).id).toBe('local-hash-v1-128')
  })

  it('builds the OpenAI provider from nested or flat options', () => {
    const nested = createEmbeddingProvider({ provider: 'openai', openai: { apiKey: 'k', model: 'text-embedding-3-large' } })
    expect(nested.id).toBe('openai:text-embedding-3-large')
    expect(nested.dim).toBe(3072)
    const flat = createEmbeddingProvider({ provider: 'openai', apiKey: 'k', model: 'm', dimensions: 768 })
    expect(flat.id).toBe('openai:m:768')
    expect(flat.dim).toBe(768)
  })

  it('accepts Config.embeddings as is', () => {
    const local = parseConfig({})
    expect(createEmbeddingProvider(local.embeddings).id).toBe('local-hash-v1')
    const remote = parseConfig({
      WARDEN_EMBEDDINGS: 'openai',
      OPENAI_API_KEY: 'sk-x',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
      WARDEN_EMBEDDING_MODEL: 'text-embedding-3-small',
      WARDEN_EMBEDDING_DIMENSIONS: '512',
    })
    const p = createEmbeddingProvider(remote.embeddings)
    expect(p.id).toBe('openai:text-embedding-3-small:512')
    expect(p.dim).toBe(512)
  })
})
