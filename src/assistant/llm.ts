import { HumanMessage, SystemMessage } from '@langchain/core/messages'
import { ChatOpenAI } from '@langchain/openai'
import type { z } from 'zod'

// The only place Warden talks to a model. Every failure mode comes back as a value with a reason
// (timeout, http_error, refusal, no_tool_call, malformed, schema_violation) so callers fall back to the
// deterministic path and record why — never an exception that loses the alert.

export interface LlmSettings {
  apiKey: string
  baseURL?: string
  model: string
  /** `jsonSchema` (response_format) or `functionCalling` (a forced tool call); servers differ in support. */
  method: 'jsonSchema' | 'functionCalling'
  timeoutMs: number
}

export type LlmFailure = 'timeout' | 'http_error' | 'refusal' | 'no_tool_call' | 'malformed' | 'schema_violation'

export type LlmResult<T> =
  | { ok: true; value: T; tokens: { prompt: number; completion: number }; latencyMs: number }
  | { ok: false; reason: LlmFailure; detail: string; tokens: { prompt: number; completion: number } | null; latencyMs: number }

export interface LlmClient {
  readonly model: string
  structured<S extends z.ZodType>(schema: S, prompt: { system: string; user: string }, name: string): Promise<LlmResult<z.infer<S>>>
}

export function createLlmClient(s: LlmSettings): LlmClient {
  const chat = new ChatOpenAI({
    model: s.model,
    apiKey: s.apiKey,
    configuration: s.baseURL ? { baseURL: s.baseURL } : undefined,
    temperature: 0,
    timeout: s.timeoutMs,
    // A retry would silently double the bounded window; the fallback is the retry.
    maxRetries: 0,
  })
  return {
    model: s.model,
    async structured(schema, prompt, name) {
      const t0 = performance.now()
      const runnable = chat.withStructuredOutput(schema, { name, method: s.method, includeRaw: true })
      let timer: NodeJS.Timeout | undefined
      try {
        const res = (await Promise.race([
          runnable.invoke([new SystemMessage(prompt.system), new HumanMessage(prompt.user)], { signal: AbortSignal.timeout(s.timeoutMs) }),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new TimeoutError()), s.timeoutMs))),
        ])) as { raw: { usage_metadata?: { input_tokens?: number; output_tokens?: number }; additional_kwargs?: Record<string, unknown>; tool_calls?: unknown[]; invalid_tool_calls?: unknown[]; content?: unknown }; parsed: unknown; parsingError?: unknown }
        const usage = res.raw?.usage_metadata
        const tokens = usage ? { prompt: usage.input_tokens ?? 0, completion: usage.output_tokens ?? 0 } : null
        const latencyMs = performance.now() - t0
        const refusal = res.raw?.additional_kwargs?.refusal
        if (typeof refusal === 'string' && refusal) return { ok: false, reason: 'refusal', detail: refusal.slice(0, 300), tokens, latencyMs }
        // functionCalling with a reply that has no tool call yields `undefined` silently: never treat that as a draft.
        if (res.parsed === undefined || res.parsed === null) {
          // A tool call whose arguments are not JSON lands in invalid_tool_calls: that is malformed output, not a missing call.
          const noCall = s.method === 'functionCalling' && !res.raw?.tool_calls?.length && !res.raw?.invalid_tool_calls?.length
          const reason: LlmFailure = noCall ? 'no_tool_call' : 'malformed'
          return { ok: false, reason, detail: String(res.parsingError ?? 'no structured output in the reply').slice(0, 300), tokens, latencyMs }
        }
        const checked = schema.safeParse(res.parsed)
        if (!checked.success) return { ok: false, reason: 'schema_violation', detail: checked.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), tokens, latencyMs }
        return { ok: true, value: checked.data, tokens: tokens ?? { prompt: 0, completion: 0 }, latencyMs }
      } catch (err) {
        const latencyMs = performance.now() - t0
        return { ok: false, ...classifyError(err), tokens: null, latencyMs }
      } finally {
        clearTimeout(timer)
      }
    },
  }
}

class TimeoutError extends Error {
  constructor() {
    super('llm call exceeded its execution window')
    this.name = 'TimeoutError'
  }
}

function classifyError(err: unknown): { reason: LlmFailure; detail: string } {
  const e = err as { name?: string; message?: string; status?: number; lc_error_code?: string }
  const msg = String(e?.message ?? err).slice(0, 300)
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || /timed? ?out|aborted/i.test(msg)) return { reason: 'timeout', detail: msg }
  // The structured-output parser validates with zod and throws its issues.
  if (e?.name === 'ZodError' || /"code":\s*"invalid_|Invalid input/.test(msg)) return { reason: 'schema_violation', detail: msg }
  if (/OUTPUT_PARSING_FAILURE/.test(String(e?.lc_error_code)) || /parse|JSON/i.test(msg)) {
    return { reason: /schema|validation|expected/i.test(msg) ? 'schema_violation' : 'malformed', detail: msg }
  }
  return { reason: 'http_error', detail: msg }
}

/** Splits a rendered template at the `<<<USER>>>` marker: rules go in the system message, data in the user message. */
export function splitPrompt(rendered: string): { system: string; user: string } {
  const [system, user = ''] = rendered.split('<<<USER>>>')
  return { system: system!.trim(), user: user.trim() }
}
