import { z } from 'zod'
import { DEFAULT_EF_SEARCH } from '../knowledge/vector.js'

// The one place that reads the environment. Everything else receives a frozen Config.

const emptyToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v)
const optionalString = z.preprocess(emptyToUndefined, z.string().optional())
const bool = z.preprocess(
  (v) => (typeof v === 'string' ? ['1', 'true', 'yes', 'on'].includes(v.toLowerCase()) : v),
  z.boolean(),
)

export const EnvSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    /** Set → a Postgres server (≥15 with pgvector ≥0.7). Unset → embedded PGlite under WARDEN_DATA_DIR. */
    DATABASE_URL: z.preprocess(
      emptyToUndefined,
      z
        .string()
        .refine((s) => /^postgres(ql)?:\/\//.test(s), 'must be a postgres:// or postgresql:// URL')
        .optional(),
    ),
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
    WARDEN_DATA_DIR: z.string().min(1).default('./.warden'),

    /** Embeddings: `local` needs no network; `openai` uses OPENAI_* (any OpenAI-compatible server). */
    WARDEN_EMBEDDINGS: z.enum(['local', 'openai']).default('local'),
    WARDEN_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
    WARDEN_EMBEDDING_DIMENSIONS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(8).max(4000).optional()),

    OPENAI_API_KEY: optionalString,
    OPENAI_BASE_URL: z.preprocess(emptyToUndefined, z.url().optional()),
    OPENAI_MODEL: z.string().min(1).default('gpt-4o-mini'),
    /** Structured-output wire form: `json_schema` (response_format) or `function_calling` (forced tool call). */
    WARDEN_LLM_METHOD: z.enum(['json_schema', 'function_calling']).default('json_schema'),
    /** The bounded execution window for one model call; past it the deterministic draft is used. */
    WARDEN_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(20_000),
    /** Context budget for evidence passages (characters; ~4 per token). */
    WARDEN_EVIDENCE_CHARS: z.coerce.number().int().min(1000).max(200_000).default(10_000),
    /** Below this confidence an assessment says it is unsure and suggests no actions. */
    WARDEN_MIN_CONFIDENCE: z.coerce.number().min(0).max(1).default(0.5),

    /** Ingestion: files larger than this are quarantined as `oversized`. */
    WARDEN_INGEST_MAX_BYTES: z.coerce.number().int().min(1024).default(2 * 1024 * 1024),
    /** HNSW ef_search used by retrieval (recall/latency trade-off, see bench:retrieval). */
    WARDEN_HNSW_EF_SEARCH: z.coerce.number().int().min(10).max(1000).default(DEFAULT_EF_SEARCH),

    WARDEN_CATALOG: z.string().min(1).default('ingest/reference/catalog.yaml'),
    WARDEN_TAXONOMY: z.string().min(1).default('ingest/reference/taxonomy.yaml'),
    WARDEN_POLICY: z.string().min(1).default('ingest/reference/policy.yaml'),
    WARDEN_DEMO_CORPUS: z.string().min(1).default('ingest/corpus'),

    /** Request body limit for the API (bytes); larger bodies get 413. */
    WARDEN_BODY_LIMIT_BYTES: z.coerce.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /** `?wait=true` on alert intake waits at most this long for the assessment before answering 202 without it. */
    WARDEN_ASSESS_WAIT_MS: z.coerce.number().int().min(0).max(120_000).default(25_000),
    /** Assessment job queue: workers per process, and how long a claimed job is leased before another worker may retry it. */
    WARDEN_WORKER_CONCURRENCY: z.coerce.number().int().min(0).max(64).default(2),
    WARDEN_JOB_LEASE_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
    WARDEN_JOB_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(5),
    /** Background loops in `warden serve`: proposal expiry sweep and outbox delivery. */
    WARDEN_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
    WARDEN_DELIVER_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(5_000),

    /** Hand-off: approved actions are POSTed here, signed with WARDEN_EXECUTOR_SECRET. Unset → executors claim them via the API. */
    WARDEN_EXECUTOR_URL: z.preprocess(emptyToUndefined, z.url().optional()),
    WARDEN_EXECUTOR_SECRET: optionalString,

    /** The identity the CLI acts as for `warden proposals approve|reject|withdraw` (roles comma-separated). */
    WARDEN_CLI_IDENTITY: optionalString,
    WARDEN_CLI_ROLES: z.preprocess(emptyToUndefined, z.string().optional()),

    /** Alert source authentication (besides API tokens with the `webhook` role). */
    WARDEN_GRAFANA_HMAC_SECRET: optionalString,
    WARDEN_PAGERDUTY_SECRET: optionalString,
    /** Slack app signing secret (v0 HMAC) and the Slack user → Warden identity/roles map (YAML or JSON file). */
    WARDEN_SLACK_SIGNING_SECRET: optionalString,
    WARDEN_SLACK_USERS: optionalString,
    /** Signs reviewer-UI session cookies. Unset → a random key per process (a restart logs everyone out; replicas need a shared one). */
    WARDEN_UI_SESSION_SECRET: z.preprocess(emptyToUndefined, z.string().min(32, 'must be at least 32 characters').optional()),
    /** `warden up` demo: create (or reuse) demo tokens and print them. */
    WARDEN_DEMO_TOKENS: bool.default(true),

    /** Estimated LLM cost in reports (USD per 1M tokens). */
    WARDEN_LLM_PRICE_INPUT_PER_MTOK: z.coerce.number().min(0).default(0.15),
    WARDEN_LLM_PRICE_OUTPUT_PER_MTOK: z.coerce.number().min(0).default(0.6),

    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('127.0.0.1'),
    WARDEN_PRETTY_LOGS: bool.default(false),
  })

export type Env = z.infer<typeof EnvSchema>

export interface Config {
  readonly env: Env
  readonly database: { readonly kind: 'postgres'; readonly url: string; readonly poolMax: number } | { readonly kind: 'pglite'; readonly dataDir: string }
  readonly embeddings:
    | { readonly provider: 'local' }
    | {
        readonly provider: 'openai'
        readonly apiKey: string
        readonly baseURL?: string
        readonly model: string
        readonly dimensions?: number
      }
  readonly llm: {
    readonly apiKey: string
    readonly baseURL?: string
    readonly model: string
    readonly method: 'jsonSchema' | 'functionCalling'
    readonly timeoutMs: number
  } | null
  /** The CLI's acting identity for approval commands; null → those commands refuse. */
  readonly cli: { readonly identity: string; readonly roles: readonly string[] } | null
  readonly executor: { readonly url: string; readonly secret: string } | null
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

/** Parses an environment into a frozen Config; throws ConfigError listing every problem at once. */
export function parseConfig(source: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(source)
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`)
  // Cross-field rules are checked on the raw values so they are reported together with field errors.
  if (source.WARDEN_EMBEDDINGS === 'openai' && !source.OPENAI_API_KEY?.trim()) {
    problems.push('OPENAI_API_KEY: is required when WARDEN_EMBEDDINGS=openai')
  }
  if (source.WARDEN_EXECUTOR_URL?.trim() && !source.WARDEN_EXECUTOR_SECRET?.trim()) {
    problems.push('WARDEN_EXECUTOR_SECRET: is required when WARDEN_EXECUTOR_URL is set (deliveries are signed)')
  }
  if (!parsed.success || problems.length) throw new ConfigError(problems)
  const env = parsed.data
  const config: Config = {
    env,
    database: env.DATABASE_URL
      ? { kind: 'postgres', url: env.DATABASE_URL, poolMax: env.DATABASE_POOL_MAX }
      : { kind: 'pglite', dataDir: env.WARDEN_DATA_DIR },
    embeddings:
      env.WARDEN_EMBEDDINGS === 'openai'
        ? {
            provider: 'openai',
            apiKey: env.OPENAI_API_KEY!,
            baseURL: env.OPENAI_BASE_URL,
            model: env.WARDEN_EMBEDDING_MODEL,
            dimensions: env.WARDEN_EMBEDDING_DIMENSIONS,
          }
        : { provider: 'local' },
    llm: env.OPENAI_API_KEY
      ? {
          apiKey: env.OPENAI_API_KEY,
          baseURL: env.OPENAI_BASE_URL,
          model: env.OPENAI_MODEL,
          method: env.WARDEN_LLM_METHOD === 'function_calling' ? 'functionCalling' : 'jsonSchema',
          timeoutMs: env.WARDEN_LLM_TIMEOUT_MS,
        }
      : null,
    cli: env.WARDEN_CLI_IDENTITY
      ? { identity: env.WARDEN_CLI_IDENTITY, roles: (env.WARDEN_CLI_ROLES ?? '').split(',').map((r) => r.trim()).filter(Boolean) }
      : null,
    executor: env.WARDEN_EXECUTOR_URL ? { url: env.WARDEN_EXECUTOR_URL, secret: env.WARDEN_EXECUTOR_SECRET! } : null,
  }
  return deepFreeze(config)
}

let booted: Config | undefined

/** Reads process.env once per process. The CLI and server call this at boot; libraries take Config as an argument. */
export function loadConfig(): Config {
  booted ??= parseConfig(process.env)
  return booted
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v)
    Object.freeze(o)
  }
  return o
}
