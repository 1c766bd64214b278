import { createLocalEmbeddings } from './local.js'
import { createOpenAIEmbeddings, type OpenAIEmbeddingsOptions } from './openai.js'
import type { EmbeddingProvider } from './types.js'

export type { EmbeddingProvider } from './types.js'
export { createLocalEmbeddings, tokenize, DEFAULT_LOCAL_DIM, LOCAL_EMBEDDING_VERSION } from './local.js'
export { createOpenAIEmbeddings, KNOWN_DIMENSIONS, type OpenAIEmbeddingsOptions } from './openai.js'

/**
 * Which provider to build. The OpenAI options may be nested (`openai: {...}`) or given flat, which is the
 * shape of `Config['embeddings']` from src/config/env.ts, so `createEmbeddingProvider(config.embeddings)` works.
 */
export type EmbeddingProviderConfig =
  | { provider: 'local'; localDim?: number }
  | { provider: 'openai'; openai: OpenAIEmbeddingsOptions }
  | ({ provider: 'openai'; openai?: undefined } & OpenAIEmbeddingsOptions)

export function createEmbeddingProvider(cfg: EmbeddingProviderConfig): EmbeddingProvider {
  switch (cfg.provider) {
    case 'local':
      return createLocalEmbeddings({ dim: cfg.localDim })
    case 'openai': {
      if (cfg.openai) return createOpenAIEmbeddings(cfg.openai)
      const { provider: _provider, openai: _openai, ...flat } = cfg
      return createOpenAIEmbeddings(flat)
    }
    default: {
      const never: never = cfg
      throw new Error(`unknown embeddings provider: ${(never as { provider: string }).provider}`)
    }
  }
}
