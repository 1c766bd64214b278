import { OpenAIEmbeddings } from '@langchain/openai'
import type { EmbeddingProvider } from './types.js'

// Embeddings from OpenAI or any OpenAI-compatible server (vLLM, llama.cpp, Ollama, TEI, LiteLLM…) through
// LangChain's OpenAIEmbeddings. The dimension must be known before the first call (the store creates one
// HNSW index per model id and dimension), so it comes from `dimensions` or from the table of known models.

export interface OpenAIEmbeddingsOptions {
  apiKey: string
  /** e.g. `http://localhost:8000/v1`; unset → api.openai.com. */
  baseURL?: string
  model: string
  /** Requested output size (text-embedding-3-* can shorten); required for models not in KNOWN_DIMENSIONS. */
  dimensions?: number
  /** Inputs per request (default 64: OpenAI accepts 2048, but many self-hosted servers cap batches far lower). */
  batchSize?: number
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number
  /** Retries of a failed request, with exponential backoff (default 3). */
  maxRetries?: number
  /** Requests in flight at once (default 2). */
  maxConcurrency?: number
}

/** Native output sizes of well-known models. */
export const KNOWN_DIMENSIONS: Readonly<Record<string, number>> = {
  'text-embedding-3-small': 1536,
  'text-embedding-3-large': 3072,
  'text-embedding-ada-002': 1536,
}

/**
 * LangChain's client, retries and concurrency limit, with a stricter reply check: its embedDocuments()
 * trusts the reply's array order and length, so a server returning fewer items (or out of order) would
 * crash obscurely or silently misalign vectors. Here items are placed by their `index` and counted.
 */
class CheckedOpenAIEmbeddings extends OpenAIEmbeddings {
  async embedBatch(input: string[], id: string): Promise<unknown[]> {
    const request: { model: string; input: string[]; dimensions?: number; encoding_format?: 'float' | 'base64' } = {
      model: this.model,
      input,
    }
    if (this.dimensions) request.dimensions = this.dimensions
    if (this.encodingFormat) request.encoding_format = this.encodingFormat
    const res = await this.embeddingWithRetry(request)
    const data: unknown = (res as { data?: unknown }).data
    if (!Array.isArray(data) || data.length !== input.length) {
      const got = Array.isArray(data) ? data.length : 'no'
      throw new Error(`openai embeddings (${id}): sent ${input.length} inputs, got ${got} embeddings back`)
    }
    const out = new Array<unknown>(input.length)
    data.forEach((item: { index?: unknown; embedding?: unknown }, pos) => {
      const i = typeof item?.index === 'number' ? item.index : pos
      if (!Number.isInteger(i) || i < 0 || i >= input.length || out[i] !== undefined) {
        throw new Error(`openai embeddings (${id}): reply has a missing or duplicate index ${String(item?.index)}`)
      }
      out[i] = item.embedding
    })
    return out
  }
}

export function createOpenAIEmbeddings(opts: OpenAIEmbeddingsOptions): EmbeddingProvider {
  if (!opts.apiKey) throw new Error('openai embeddings: apiKey is required (set OPENAI_API_KEY)')
  if (!opts.model) throw new Error('openai embeddings: model is required')
  if (opts.dimensions !== undefined && (!Number.isInteger(opts.dimensions) || opts.dimensions < 1)) {
    throw new Error(`openai embeddings: dimensions must be a positive integer, got ${opts.dimensions}`)
  }
  const dim = opts.dimensions ?? KNOWN_DIMENSIONS[opts.model]
  if (dim === undefined) {
    throw new Error(
      `openai embeddings: the output dimension of model "${opts.model}" is unknown; ` +
        `set WARDEN_EMBEDDING_DIMENSIONS (the \`dimensions\` option) to its vector size ` +
        `(known models: ${Object.keys(KNOWN_DIMENSIONS).join(', ')})`,
    )
  }
  const id = opts.dimensions !== undefined ? `openai:${opts.model}:${opts.dimensions}` : `openai:${opts.model}`

  const batchSize = opts.batchSize ?? 64
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`openai embeddings: batchSize must be a positive integer, got ${opts.batchSize}`)
  }

  const client = new CheckedOpenAIEmbeddings({
    apiKey: opts.apiKey,
    model: opts.model,
    dimensions: opts.dimensions,
    batchSize,
    timeout: opts.timeoutMs ?? 60_000,
    maxRetries: opts.maxRetries ?? 3,
    maxConcurrency: opts.maxConcurrency ?? 2,
    // Servers other than OpenAI often do not implement base64; floats work everywhere.
    encodingFormat: 'float',
    // Current models handle newlines fine, and they carry structure in Markdown passages.
    stripNewLines: false,
    configuration: opts.baseURL ? { baseURL: opts.baseURL } : {},
  })

  return {
    id,
    dim,
    async embed(texts: string[]): Promise<number[][]> {
      const out: number[][] = new Array(texts.length)
      // The API rejects empty input strings; such texts get the same fixed unit vector as the local provider.
      const sendIdx: number[] = []
      for (let i = 0; i < texts.length; i++) {
        if (texts[i]!.trim() === '') out[i] = unitE0(dim)
        else sendIdx.push(i)
      }
      if (sendIdx.length === 0) return out
      // Batches go out together; LangChain's caller bounds how many are in flight and retries failures.
      const batches: number[][] = []
      for (let k = 0; k < sendIdx.length; k += batchSize) batches.push(sendIdx.slice(k, k + batchSize))
      const replies = await Promise.all(batches.map((b) => client.embedBatch(b.map((i) => texts[i]!), id)))
      batches.forEach((b, n) => {
        b.forEach((textIndex, k) => {
          out[textIndex] = checkAndNormalise(replies[n]![k], dim, id, textIndex)
        })
      })
      return out
    },
  }
}

function unitE0(dim: number): number[] {
  const v = new Array<number>(dim).fill(0)
  v[0] = 1
  return v
}

function checkAndNormalise(v: unknown, dim: number, id: string, index: number): number[] {
  if (!Array.isArray(v)) {
    throw new Error(`openai embeddings (${id}): no vector returned for input ${index}`)
  }
  if (v.length !== dim) {
    throw new Error(
      `openai embeddings (${id}): server returned a vector of length ${v.length} for input ${index}, expected ${dim}; ` +
        `check WARDEN_EMBEDDING_MODEL / WARDEN_EMBEDDING_DIMENSIONS against what the server actually serves`,
    )
  }
  let sq = 0
  for (const x of v) {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new Error(`openai embeddings (${id}): vector for input ${index} contains a non-finite value`)
    }
    sq += x * x
  }
  if (sq === 0) throw new Error(`openai embeddings (${id}): server returned an all-zero vector for input ${index}`)
  const inv = 1 / Math.sqrt(sq)
  return v.map((x: number) => x * inv)
}
