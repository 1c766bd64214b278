import { describe, expect, it } from 'vitest'
import {
  DEFAULT_LOCAL_DIM,
  LOCAL_EMBEDDING_VERSION,
  createLocalEmbeddings,
  embedText,
  isStopWord,
  stem,
  tokenize,
} from '../../../src/knowledge/embeddings/local.js'

const cos = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * b[i]!, 0)
const norm = (v: number[]): number => Math.sqrt(cos(v, v))

describe('createLocalEmbeddings', () => {
  it('has a stable id and the default dimension', () => {
    const p = createLocalEmbeddings()
    expect(p.id).toBe(LOCAL_EMBEDDING_VERSION)
    expect(p.id).toBe('local-hash-v1')
    expect(p.dim).toBe(DEFAULT_LOCAL_DIM)
    expect(DEFAULT_LOCAL_DIM).toBe(512)
  })

  it('names a non-default dimension in the id', () => {
    const p = createLocalEmbeddings({ dim: 384 })
    expect(p.id).toBe('local-hash-v1-384')
    expect(p.dim).toBe(384)
    expect(createLocalEmbeddings({ dim: DEFAULT_LOCAL_DIM }).id).toBe('local-hash-v1')
  })

  it('rejects unusable dimensions', () => {
    expect(() => createLocalEmbeddings({ dim: 0 })).toThrow(/dim/)
    expect(() => createLocalEmbeddings({ dim: 12.5 })).toThrow(/dim/)
    expect(() => createLocalEmbeddings({ dim: 4096 })).toThrow(/dim/)
  })

  it('returns one unit vector of length dim per input, in order', async () => {
    const p = createLocalEmbeddings()
    const texts = ['orders-db disk full', 'TLS certificate expired on edge-proxy', 'x', 'a b c d e f']
    const vs = await p.embed(texts)
    expect(vs).toHaveLength(texts.length)
    for (const v of vs) {
      expect(v).toHaveLength(p.dim)
      expect(norm(v)).toBeCloseTo(1, 10)
      expect(v.every(Number.isFinite)).toBe(true)
    }
    expect(vs[1]).toEqual(embedText(texts[1]!, p.dim))
    expect(await p.embed([])).toEqual([])
  })

  it('is deterministic across calls, batches and provider instances', async () => {
    const text = 'Patroni failover left pg-orderbook-1 lagging; replication slot pins WAL at 95% disk.'
    const a = await createLocalEmbeddings().embed([text])
    const b = await createLocalEmbeddings().embed(['something else entirely', text, text])
    expect(b[1]).toEqual(a[0])
    expect(b[2]).toEqual(a[0])
  })

  it('is pinned to its version id (a change here means: bump LOCAL_EMBEDDING_VERSION)', () => {
    const v = embedText('Postgres disk full on orders-db', DEFAULT_LOCAL_DIM)
    const signature = v.flatMap((x, i) => (x === 0 ? [] : [`${i}${x > 0 ? '+' : '-'}`])).join(' ')
    expect(signature).toMatchInlineSnapshot(`"31+ 38- 45- 52+ 53- 71- 76+ 99- 103- 119+ 127- 129- 135- 150- 161- 185- 194+ 248- 271+ 287- 295- 329- 338- 381+ 382- 389+ 398- 400+ 404+ 408+ 414- 418- 478- 494-"`)
    expect(v.reduce((s, x, i) => s + x * (i + 1), 0)).toBeCloseTo(-139.767395, 4)
  })

  it('maps empty and featureless text to the fixed unit vector e0, never to a zero vector', async () => {
    const p = createLocalEmbeddings()
    const e0 = new Array<number>(p.dim).fill(0)
    e0[0] = 1
    for (const v of await p.embed(['', '   \n\t', '--- *** ...', '!'])) {
      expect(v).toEqual(e0)
      expect(norm(v)).toBe(1)
    }
  })

  it('still embeds text made only of stop words', async () => {
    const [v] = await createLocalEmbeddings().embed(['is it the one?'])
    expect(norm(v!)).toBeCloseTo(1, 10)
    expect(v![0]).not.toBe(1)
  })

  it('scores related texts above unrelated ones', () => {
    const e = (t: string): number[] => embedText(t, DEFAULT_LOCAL_DIM)
    const cases: Array<[query: string, related: string, unrelated: string]> = [
      ['postgres disk full on orders database', 'database disk space exhausted', 'TLS certificate expired'],
      ['pod OOMKilled and restarting', 'container ran out of memory', 'DNS resolution failing between zones'],
      ['k8s node not ready', 'kubernetes node NotReady', 'payment provider returning 502'],
      ['lock_timeout exceeded during migration', 'lock timeout hit while migrating schema', 'consumer lag growing on shipment events'],
      ['SSL cert expiring on edge proxy', 'TLS certificate expiry at the edge', 'disk full on postgres'],
      ['connection pool saturated', 'connections pool saturation', 'feature flag rollback'],
    ]
    for (const [q, rel, unrel] of cases) {
      const related = cos(e(q), e(rel))
      const unrelated = cos(e(q), e(unrel))
      expect(related, `${q} ~ ${rel}`).toBeGreaterThan(0.25)
      expect(related - unrelated, `${q}: related ${related} vs unrelated ${unrelated}`).toBeGreaterThan(0.2)
    }
  })

  it('is robust to case, punctuation, inflection and diacritics', () => {
    const e = (t: string): number[] => embedText(t, DEFAULT_LOCAL_DIM)
    expect(cos(e('Restarting the pods'), e('restart pod'))).toBeGreaterThan(0.8)
    expect(cos(e('DISK FULL!!!'), e('disk full'))).toBeCloseTo(1, 10)
    expect(cos(e('café naïve'), e('cafe naive'))).toBeCloseTo(1, 10)
    // a typo still shares most character 4-grams (and nothing else)
    expect(cos(e('replication lag'), e('replicaton lag'))).toBeGreaterThan(0.4)
    expect(cos(e('replication'), e('replicaton'))).toBeGreaterThan(0.1)
    expect(cos(e('replication'), e('certificate'))).toBeLessThan(0.1)
  })

  it('prints throughput on ~800-char passages', () => {
    const vocab = (
      'postgres replication slot wal disk full primary replica patroni failover checkout orders latency p95 5xx ' +
      'kubernetes pod OOMKilled CrashLoopBackOff deployment rollback feature flag tls certificate expired edge ' +
      'proxy dns resolution zone consumer lag kafka partition rebalance connection pool saturation lock_timeout ' +
      'terraform plan -detailed-exitcode drift grafana dashboard alert runbook mitigate escalate on-call the a of ' +
      'to and is when if check run restart scale increase decrease verify confirm incident timeline root cause'
    ).split(' ')
    let seed = 42
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32
    const passages = Array.from({ length: 500 }, () => {
      let s = ''
      while (s.length < 800) s += vocab[Math.floor(rnd() * vocab.length)]! + (rnd() < 0.1 ? '. ' : ' ')
      return s
    })
    for (let i = 0; i < 1000; i++) embedText(passages[i % passages.length]!, DEFAULT_LOCAL_DIM) // warm-up
    const n = 5000
    const t0 = performance.now()
    for (let i = 0; i < n; i++) embedText(passages[i % passages.length]!, DEFAULT_LOCAL_DIM)
    const secs = (performance.now() - t0) / 1000
    console.log(`local-hash embeddings: ${Math.round(n / secs)} passages/s (~800 chars, dim ${DEFAULT_LOCAL_DIM}, one core)`)
  })
})

describe('tokenize', () => {
  it('keeps identifiers intact and adds their parts', () => {
    const toks = tokenize('Run terraform plan -detailed-exitcode; lock_timeout hit, 5xx and p95 up on orders-db.prod')
    for (const t of ['-detailed-exitcode', 'lock_timeout', '5xx', 'p95', 'orders-db.prod']) expect(toks).toContain(t)
    for (const t of ['detail', 'exitcod', 'lock', 'timeout', 'order', 'databas', 'product']) expect(toks).toContain(t)
    expect(toks.indexOf('lock')).toBe(toks.indexOf('lock_timeout') + 1)
  })

  it('splits camelCase identifiers without cutting single letters', () => {
    expect(tokenize('OOMKilled', { stem: false })).toEqual(['oomkilled', 'out', 'memory', 'killed'])
    expect(tokenize('CrashLoopBackOff', { stem: false })).toEqual(['crashloopbackoff', 'crash', 'loop', 'back', 'off'])
    expect(tokenize('IPv4 iPhone', { stem: false })).toEqual(['ipv4', 'iphone'])
  })

  it('lowercases, folds diacritics and compatibility forms, drops apostrophes', () => {
    expect(tokenize('Café ﬁle NAÏVE', { stem: false })).toEqual(['cafe', 'file', 'naive'])
    expect(tokenize("don't restart the pod's sidecar", { stem: false })).toEqual(['restart', 'pods', 'sidecar'])
  })

  it('drops stop words unless asked to keep them', () => {
    expect(tokenize('the disk is full')).toEqual(['disk', 'full'])
    expect(tokenize('the disk is full', { keepStopWords: true, stem: false })).toEqual(['the', 'disk', 'is', 'full'])
    expect(tokenize('scale down, back off, out of memory', { stem: false })).toEqual([
      'scale', 'down', 'back', 'off', 'out', 'memory',
    ])
    expect(isStopWord('the')).toBe(true)
    expect(isStopWord('down')).toBe(false)
  })

  it('expands general SRE abbreviations', () => {
    expect(tokenize('k8s db cert oom config prod ssl', { stem: false })).toEqual([
      'kubernetes', 'database', 'certificate', 'out', 'memory', 'configuration', 'production', 'tls',
    ])
    // … inside identifiers too, while the identifier itself stays intact
    expect(tokenize('cert-manager', { stem: false })).toEqual(['cert-manager', 'certificate', 'manager'])
  })

  it('stems inflections together', () => {
    expect(tokenize('restarting restarted restarts restart')).toEqual(['restart', 'restart', 'restart', 'restart'])
    expect(tokenize('queries query')).toEqual(['queri', 'queri'])
    expect(tokenize('configuration configured configure')).toEqual(['configur', 'configur', 'configur'])
  })

  it('returns nothing for empty or punctuation-only text', () => {
    expect(tokenize('')).toEqual([])
    expect(tokenize(' --- !!! ')).toEqual([])
  })
})

describe('stem (Porter 1980)', () => {
  it('matches the reference outputs', () => {
    const ref: Record<string, string> = {
      caresses: 'caress', ponies: 'poni', cats: 'cat', feed: 'feed', agreed: 'agre', plastered: 'plaster',
      bled: 'bled', motoring: 'motor', sing: 'sing', conflated: 'conflat', troubled: 'troubl', sized: 'size',
      hopping: 'hop', tanned: 'tan', falling: 'fall', hissing: 'hiss', fizzed: 'fizz', failing: 'fail',
      filing: 'file', happy: 'happi', sky: 'sky', relational: 'relat', conditional: 'condit', rational: 'ration',
      digitizer: 'digit', vietnamization: 'vietnam', predication: 'predic', operator: 'oper', feudalism: 'feudal',
      decisiveness: 'decis', hopefulness: 'hope', callousness: 'callous', sensibiliti: 'sensibl',
      triplicate: 'triplic', formative: 'form', formalize: 'formal', electrical: 'electr', goodness: 'good',
      revival: 'reviv', allowance: 'allow', inference: 'infer', airliner: 'airlin', gyroscopic: 'gyroscop',
      adjustable: 'adjust', defensible: 'defens', irritant: 'irrit', replacement: 'replac', adjustment: 'adjust',
      dependent: 'depend', adoption: 'adopt', communism: 'commun', activate: 'activ', homologous: 'homolog',
      effective: 'effect', bowdlerize: 'bowdler', probate: 'probat', rate: 'rate', cease: 'ceas', controll: 'control',
      roll: 'roll', generalizations: 'gener', oscillators: 'oscil',
    }
    for (const [word, expected] of Object.entries(ref)) expect(stem(word), word).toBe(expected)
  })

  it('leaves short and non-alphabetic words alone', () => {
    expect(stem('is')).toBe('is')
    expect(stem('p95')).toBe('p95')
    expect(stem('größe')).toBe('größe')
  })
})
