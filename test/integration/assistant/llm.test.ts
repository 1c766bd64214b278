import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runIngest } from '../../../ingest/pipeline.js'
import { receiveAlerts } from '../../../src/alerts/receive.js'
import { ask } from '../../../src/assistant/ask.js'
import { assessAlert, type AssistantDeps } from '../../../src/assistant/assess.js'
import { createLlmClient } from '../../../src/assistant/llm.js'
import { createLocalEmbeddings } from '../../../src/knowledge/embeddings/local.js'
import { loadReference } from '../../../src/policy/reference.js'
import { REPO_ROOT } from '../../helpers/cli.js'
import { backend, createTestDatabase, type TestDatabase } from '../../helpers/db.js'
import { startFakeOpenAI, type FakeOpenAI, type Reply } from '../../helpers/fake-openai.js'
import { amPayload } from '../../helpers/alerts.js'

const embedder = createLocalEmbeddings()
const reference = loadReference({
  catalogPath: path.join(REPO_ROOT, 'ingest/reference/catalog.yaml'),
  taxonomyPath: path.join(REPO_ROOT, 'ingest/reference/taxonomy.yaml'),
  policyPath: path.join(REPO_ROOT, 'ingest/reference/policy.yaml'),
})

let seq = 0
const oomAlert = () =>
  amPayload({
    name: 'KubePodCrashLooping',
    labels: { namespace: 'shop', pod: 'cart-api-6d8f7b9c4-q2xkz', container: 'cart-api' },
    summary: 'Pod shop/cart-api-6d8f7b9c4-q2xkz is crash looping',
    description: 'Container cart-api restarted 9 times in 15 minutes; last termination reason OOMKilled.',
    fingerprint: `llm${++seq}`,
  })

const good = (overrides: Record<string, unknown> = {}) => ({
  summary: 'Possibly memory exhaustion on cart-api.',
  causes: [{ text: 'Possibly the container hit its memory limit (OOMKilled) [E1].', citations: ['E1'] }],
  steps: [{ text: 'Compare container memory with its limit on the cart-api dashboard.', citations: ['E1'] }],
  similarIncidents: [],
  actions: [],
  ...overrides,
})

for (const method of ['jsonSchema', 'functionCalling'] as const) {
  describe(`llm mode over ${method} (${backend})`, () => {
    let t: TestDatabase
    let fake: FakeOpenAI
    let deps: AssistantDeps
    beforeAll(async () => {
      t = await createTestDatabase()
      await runIngest({ db: t.db, embedder }, { inputs: [path.join(REPO_ROOT, 'ingest/corpus')], maxBytes: 1 << 21 })
      fake = await startFakeOpenAI()
      deps = { db: t.db, embedder, reference, llm: createLlmClient({ apiKey: 'sk-test', baseURL: fake.baseURL, model: 'fake-model', method, timeoutMs: 1500 }) }
    })
    afterAll(async () => {
      await fake?.close()
      await t?.cleanup()
    })

    async function assessWith(...replies: Reply[]) {
      fake.script(...replies)
      const r = await receiveAlerts({ db: t.db }, { format: 'alertmanager', payload: oomAlert() })
      if (!r.ok) throw new Error('unexpected')
      return assessAlert(deps, r.alerts[0]!.alertId)
    }

    it('uses the model draft, records model, tokens and the wire form, and sends only the evidence pack', async () => {
      const a = await assessWith({ kind: 'json', value: good() })
      expect(a.provenance).toMatchObject({ mode: 'llm', model: 'fake-model', fallbackReason: null })
      expect(a.provenance.tokens?.prompt).toBeGreaterThan(0)
      expect(a.draft.causes[0]?.text).toMatch(/Possibly the container/)
      const req = fake.requests.at(-1)!.body
      if (method === 'jsonSchema') expect((req.response_format as { type: string }).type).toBe('json_schema')
      else expect(Array.isArray(req.tools)).toBe(true)
      expect(req.temperature).toBe(0)
      const userMsg = (req.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')!.content
      expect(userMsg).toMatch(/<data ref="E1">/)
    })

    it('removes invented citations, certainty language, unsupported numbers and actions outside the policy', async () => {
      const a = await assessWith({
        kind: 'json',
        value: good({
          causes: [
            { text: 'The root cause is definitely a memory leak.', citations: ['E1'] },
            { text: 'Possibly a leak introduced in release v9.9.9.', citations: ['E1'] },
            { text: 'Possibly memory exhaustion (OOMKilled).', citations: ['E1', 'E99'] },
            { text: 'Possibly heap growth.', citations: ['E77'] },
          ],
          actions: [
            { actionId: 'delete_namespace', params: '{"namespace":"shop"}', rationale: 'clean up', citations: ['E1'] },
            { actionId: 'restart_workload', params: '{"service":"payments-api","workload":"payments-api"}', rationale: 'restart', citations: ['E1'] },
            { actionId: 'scale_workload', params: 'not json', rationale: 'scale', citations: ['E1'] },
          ],
        }),
      })
      expect(a.provenance.mode).toBe('llm')
      expect(a.draft.causes.map((c) => c.text)).toEqual(['Possibly memory exhaustion (OOMKilled).'])
      expect(a.draft.causes[0]!.citations).toEqual(['E1'])
      expect(a.draft.actions).toEqual([])
      const types = a.interventions.map((i) => i.type)
      for (const t of ['certainty_language_removed', 'unsupported_statement_removed', 'citation_removed', 'action_removed', 'schema_violation']) expect(types).toContain(t)
    })

    const fallbacks: Array<[string, Reply, RegExp]> = [
      ['malformed JSON', { kind: 'raw', content: '{"summary": "oops", "causes": [' }, /malformed|schema_violation/],
      ['a schema-violating reply', { kind: 'json', value: { summary: 42 } }, /schema_violation|malformed/],
      ['a refusal', { kind: 'refusal', text: 'I cannot help with that.' }, /refusal|no_tool_call|malformed/],
      ['an HTTP error', { kind: 'http_error', status: 500 }, /http_error/],
      ['a timeout', { kind: 'hang' }, /timeout/],
    ]
    for (const [what, reply, reason] of fallbacks) {
      it(`falls back to the deterministic draft on ${what}, and records why`, async () => {
        const a = await assessWith(reply)
        expect(a.provenance.mode).toBe('deterministic')
        expect(a.provenance.fallbackReason).toMatch(reason)
        expect(a.classification?.failureClass).toBe('resource_exhaustion')
        expect(a.draft.steps.length).toBeGreaterThan(0)
      })
    }

    it.runIf(method === 'functionCalling')('treats a reply without a tool call as a fallback, never as an empty draft', async () => {
      const a = await assessWith({ kind: 'text_only', content: 'Here is my analysis: restart everything.' })
      expect(a.provenance.mode).toBe('deterministic')
      expect(a.provenance.fallbackReason).toMatch(/no_tool_call/)
    })

    it('guards chat answers from the model the same way', async () => {
      fake.script({ kind: 'json', value: { sentences: [
        { text: 'The root cause is definitely the WAL volume.', citations: ['E1'] },
        { text: 'Check which directory is growing on the data volume.', citations: ['E1'] },
        { text: 'It is 83.7% full right now.', citations: ['E1'] },
        { text: 'See the runbook.', citations: ['E42'] },
      ] } })
      const answer = await ask(deps, { question: 'How do I find what is filling the orderbook-db data volume?' })
      expect(answer.provenance.mode).toBe('llm')
      expect(answer.sentences.map((s) => s.text)).toEqual(['Check which directory is growing on the data volume.'])
    })
  })
}
