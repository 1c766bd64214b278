// An embedding provider turns passages into unit vectors. Vectors of different `id`s are never compared.
export interface EmbeddingProvider {
  /** Stable model id stored on every chunk, e.g. "local-hash-v1" or "openai:text-embedding-3-small". */
  readonly id: string
  readonly dim: number
  /** Embeds a batch; returns one L2-normalised vector per input, in order. */
  embed(texts: string[]): Promise<number[][]>
}
