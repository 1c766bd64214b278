import http from 'node:http'
import type { AddressInfo } from 'node:net'

// A fake OpenAI-compatible server started inside the test: the LLM path is exercised over real HTTP
// with scripted (often adversarial) replies, and the network is never touched.

export type Reply =
  | { kind: 'json'; value: unknown; delayMs?: number }
  | { kind: 'raw'; content: string }
  | { kind: 'refusal'; text: string }
  | { kind: 'text_only'; content: string }
  | { kind: 'http_error'; status: number }
  | { kind: 'hang' }

export interface FakeOpenAI {
  baseURL: string
  requests: Array<{ path: string; body: Record<string, unknown> }>
  /** Replies are consumed in order; the last one repeats. */
  script(...replies: Reply[]): void
  close(): Promise<void>
}

export async function startFakeOpenAI(): Promise<FakeOpenAI> {
  let replies: Reply[] = [{ kind: 'http_error', status: 500 }]
  const requests: FakeOpenAI['requests'] = []
  const hanging = new Set<http.ServerResponse>()
  const server = http.createServer((req, res) => {
    let data = ''
    req.on('data', (d) => (data += d))
    req.on('end', () => {
      const body = JSON.parse(data || '{}') as Record<string, unknown>
      requests.push({ path: req.url ?? '', body })
      const reply = replies.length > 1 ? replies.shift()! : replies[0]!
      const usesTools = Array.isArray(body.tools) && body.tools.length > 0
      const toolName = usesTools ? ((body.tools as Array<{ function: { name: string } }>)[0]!.function.name) : 'extract'
      const send = (message: Record<string, unknown>, finish = 'stop') => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({
          id: 'chatcmpl-fake', object: 'chat.completion', created: 1, model: String(body.model),
          choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
          usage: { prompt_tokens: Math.ceil(data.length / 4), completion_tokens: 50, total_tokens: Math.ceil(data.length / 4) + 50 },
        }))
      }
      const emit = (content: string) =>
        usesTools
          ? send({ tool_calls: [{ id: 'call_1', type: 'function', function: { name: toolName, arguments: content } }] }, 'tool_calls')
          : send({ content })
      switch (reply.kind) {
        case 'json':
          if (reply.delayMs) setTimeout(() => emit(JSON.stringify(reply.value)), reply.delayMs)
          else emit(JSON.stringify(reply.value))
          return
        case 'raw':
          return emit(reply.content)
        case 'refusal':
          return send({ refusal: reply.text })
        case 'text_only':
          return send({ content: reply.content })
        case 'http_error':
          res.writeHead(reply.status, { 'content-type': 'application/json' })
          return res.end(JSON.stringify({ error: { message: 'scripted failure', type: 'server_error' } }))
        case 'hang':
          hanging.add(res)
          return
      }
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script(...r) {
      replies = r
    },
    async close() {
      for (const res of hanging) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
