import pino, { type Logger } from 'pino'
import { ConfigError, loadConfig, type Config } from '../config/env.js'
import { openDatabase } from '../db/index.js'
import { DatabaseBusyError, type Database } from '../db/types.js'
import { createEmbeddingProvider } from '../knowledge/embeddings/index.js'
import type { EmbeddingProvider } from '../knowledge/embeddings/types.js'
import type { AssistantDeps } from '../assistant/assess.js'
import { createLlmClient, type LlmClient } from '../assistant/llm.js'
import { logRedaction } from '../http/redact.js'
import { ReferenceFileError } from '../policy/errors.js'
import { loadReference, type Reference } from '../policy/reference.js'

// Wiring for CLI commands: config parsed once, then the real dependencies built from it.

export interface CliContext {
  config: Config
  db: Database
  embedder: EmbeddingProvider
  logger: Logger
  close(): Promise<void>
}

export function bootConfig(): Config {
  try {
    return loadConfig()
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`)
      process.exit(2)
    }
    throw err
  }
}

export function createLogger(config: Config): Logger {
  return pino({
    level: config.env.LOG_LEVEL,
    // Credentials never reach the log, at any depth (src/http/redact.ts).
    ...logRedaction(),
  }, pino.destination(2))
}

export function embedderFor(config: Config): EmbeddingProvider {
  return createEmbeddingProvider(
    config.embeddings.provider === 'openai'
      ? { provider: 'openai', openai: { apiKey: config.embeddings.apiKey, baseURL: config.embeddings.baseURL, model: config.embeddings.model, dimensions: config.embeddings.dimensions } }
      : { provider: 'local' },
  )
}

export async function openContext(): Promise<CliContext> {
  const config = bootConfig()
  const logger = createLogger(config)
  let db: Database
  try {
    db = await openDatabase(config.database)
  } catch (err) {
    if (err instanceof DatabaseBusyError) fail(err.message, 3)
    throw err
  }
  return { config, db, embedder: embedderFor(config), logger, close: () => db.close() }
}

export function fail(message: string, code = 1): never {
  process.stderr.write(`warden: ${message}\n`)
  process.exit(code)
}

/** Loads catalog/taxonomy/policy from the configured paths; invalid files stop the command with every problem listed. */
export function referenceFor(paths: { catalogPath: string; taxonomyPath: string; policyPath: string }): Reference {
  try {
    return loadReference(paths)
  } catch (err) {
    if (err instanceof ReferenceFileError) fail(`invalid reference files:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`, 2)
    throw err
  }
}

export function llmFor(config: Config): LlmClient | null {
  return config.llm ? createLlmClient(config.llm) : null
}

export function assistantDeps(ctx: CliContext, overrides: { catalogPath?: string; taxonomyPath?: string; policyPath?: string } = {}): AssistantDeps {
  const env = ctx.config.env
  return {
    db: ctx.db,
    embedder: ctx.embedder,
    reference: referenceFor({
      catalogPath: overrides.catalogPath ?? env.WARDEN_CATALOG,
      taxonomyPath: overrides.taxonomyPath ?? env.WARDEN_TAXONOMY,
      policyPath: overrides.policyPath ?? env.WARDEN_POLICY,
    }),
    llm: llmFor(ctx.config),
    settings: { minConfidence: env.WARDEN_MIN_CONFIDENCE, evidenceChars: env.WARDEN_EVIDENCE_CHARS, efSearch: env.WARDEN_HNSW_EF_SEARCH },
  }
}
