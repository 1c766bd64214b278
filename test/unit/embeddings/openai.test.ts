import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { KNOWN_DIMENSIONS, createOpenAIEmbeddings } from '../../../src/knowledge/embeddings/openai.js'

// A tiny OpenAI-compatible embeddings server on 127.0.0.1; nothing here touches the network.

interface SeenRequest {
  method: string
  url: string
  authorization: string | undefined
  body: { model?: unknown; input?: unknown; dimensions?: unknown; encoding_format?: unknown }
}

let server: http.Server
let baseURL: string
let seen: SeenRequest[] = []
/** How the fake server answers; tests swap it. */
let reply: (input: string[], body: SeenRequest['body']) => { status: number; json: unknown }

/** A deterministic, deliberately non-normalised vector for a text. */
function fakeVector(text: string, dim: number): number[] {
  return Array.from({ length: dim }, (_, i) => ((text.length + 1) * (i + 1)) % 7 - 3 + 0.5)
}

function okReply(input: string[], model: unknown, dim: number): { status: number; json: unknown } {
  return {
    status: 200,
    json: {
      object: 'list',
      data: input.map((t, index) => ({ object: 'embedding', index, embedding: fakeVector(t, dim) })),
      model,
      usage: { prompt_tokens: input.length * 3, total_tokens: input.length * 3 },
    },
  }
}

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = ''
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')))
    req.on('end', () => {
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json' })
        res.end(JSON.stringify(json))
      }
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        send(404, { error: { message: `no route ${req.method} ${req.url}` } })
        return
      }
      let body: SeenRequest['body']
      try {
        body = JSON.parse(raw) as SeenRequest['body']
      } catch {
        send(400, { error: { message: 'invalid json' } })
        return
      }
      seen.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body })
      if (!Array.isArray(body.input) || typeof body.model !== 'string') {
        send(400, { error: { message: 'input must be an array and model a string' } })
        return
      }
      const r = reply(body.input as string[], body)
      send(r.status, r.json)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`
})

afterAll(async () => {
  await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
})

beforeEach(() => {
  seen = []
  reply = (input, body) => okReply(input, body.model, typeof body.dimensions === 'number' ? body.dimensions : 1536)
})

const norm = (v: number[]): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0))

describe('createOpenAIEmbeddings', () => {
  it('takes the dimension of a known model and names the model in the id', async () => {
    const p = createOpenAIEmbeddings({ apiKey: 'sk-test', baseURL, model: 'text-embedding-3-small' })
    expect(p.id).toBe('openai:text-embedding-3-small')
    expect(p.dim).toBe(1536)
    expect(KNOWN_DIMENSIONS['text-embedding-3-large']).toBe(3072)
    expect(KNOWN_DIMENSIONS['text-embedding-ada-002']).toBe(1536)

    const [v] = await p.embed(['disk full on orderbook-db'])
    expect(v).toHaveLength(1536)
    expect(norm(v!)).toBeCloseTo(1, 10)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.authorization).toBe('Bearer sk-test')
    expect(seen[0]!.body).toMatchObject({ model: 'text-embedding-3-small', input: ['disk full on orderbook-db'], encoding_format: 'float' })
    expect(seen[0]!.body.dimensions).toBeUndefined()
  })

  it('sends `dimensions`, batches by batchSize, keeps order and normalises', async () => {
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'nomic-embed-text', dimensions: 8, batchSize: 2 })
    expect(p.id).toBe('openai:nomic-embed-text:8')
    expect(p.dim).toBe(8)
    const texts = ['a', 'bb\nwith a newline', 'ccc', 'dddd', 'eeeee']
    const vs = await p.embed(texts)

    expect(seen).toHaveLength(3) // 2 + 2 + 1
    const sent = seen.map((r) => r.body.input as string[])
    expect(sent.flat().sort()).toEqual([...texts].sort())
    expect(sent.map((b) => b.length).sort()).toEqual([1, 2, 2])
    for (const r of seen) expect(r.body).toMatchObject({ model: 'nomic-embed-text', dimensions: 8, encoding_format: 'float' })
    expect(sent.flat()).toContain('bb\nwith a newline') // newlines are not stripped

    expect(vs).toHaveLength(texts.length)
    texts.forEach((t, i) => {
      const raw = fakeVector(t, 8)
      const n = norm(raw)
      expect(norm(vs[i]!)).toBeCloseTo(1, 10)
      vs[i]!.forEach((x, j) => expect(x).toBeCloseTo(raw[j]! / n, 12))
    })
  })

  it('answers empty texts with the fixed unit vector e0 without sending them', async () => {
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'm', dimensions: 4 })
    const vs = await p.embed(['', 'real text', '  '])
    expect(vs[0]).toEqual([1, 0, 0, 0])
    expect(vs[2]).toEqual([1, 0, 0, 0])
    expect(norm(vs[1]!)).toBeCloseTo(1, 10)
    expect(seen).toHaveLength(1)
    expect(seen[0]!.body.input).toEqual(['real text'])

    expect(await p.embed(['', ''])).toEqual([[1, 0, 0, 0], [1, 0, 0, 0]])
    expect(await p.embed([])).toEqual([])
    expect(seen).toHaveLength(1)
  })

  it('rejects vectors of the wrong length with a clear error', async () => {
    reply = (input, body) => okReply(input, body.model, 5)
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'text-embedding-3-small' })
    await expect(p.embed(['hello'])).rejects.toThrow(/length 5 for input 0, expected 1536/)
  })

  it('places vectors by their `index`, whatever order the server replies in', async () => {
    reply = (input, body) => {
      const r = okReply(input, body.model, 4) as { status: number; json: { data: unknown[] } }
      r.json.data.reverse()
      return r
    }
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'm', dimensions: 4 })
    const texts = ['a', 'bbbb', 'cc']
    const vs = await p.embed(texts)
    texts.forEach((t, i) => {
      const raw = fakeVector(t, 4)
      vs[i]!.forEach((x, j) => expect(x).toBeCloseTo(raw[j]! / norm(raw), 12))
    })
  })

  it('rejects a reply with too few vectors', async () => {
    reply = (input, body) => okReply(input.slice(1), body.model, 4)
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'm', dimensions: 4, maxRetries: 0 })
    await expect(p.embed(['one', 'two'])).rejects.toThrow(/openai embeddings \(openai:m:4\): sent 2 inputs, got 1/)
  })

  it('rejects non-finite and all-zero vectors', async () => {
    reply = () => ({
      status: 200,
      json: { object: 'list', data: [{ object: 'embedding', index: 0, embedding: [0, 0, 0] }], model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } },
    })
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'm', dimensions: 3 })
    await expect(p.embed(['x'])).rejects.toThrow(/all-zero/)
  })

  it('surfaces server errors', async () => {
    reply = () => ({ status: 400, json: { error: { message: 'model not found', type: 'invalid_request_error' } } })
    const p = createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'm', dimensions: 3, maxRetries: 0 })
    await expect(p.embed(['x'])).rejects.toThrow(/model not found/)
    expect(seen).toHaveLength(1)
  })

  it('requires the dimension of an unknown model up front', () => {
    expect(() => createOpenAIEmbeddings({ apiKey: 'k', baseURL, model: 'bge-m3' })).toThrow(
      /output dimension of model "bge-m3" is unknown.*WARDEN_EMBEDDING_DIMENSIONS/,
    )
    expect(() => createOpenAIEmbeddings({ apiKey: 'k', model: 'm', dimensions: 0 })).toThrow(/dimensions/)
    expect(() => createOpenAIEmbeddings({ apiKey: '', model: 'text-embedding-3-small' })).toThrow(/apiKey/)
    expect(seen).toHaveLength(0)
  })
})
