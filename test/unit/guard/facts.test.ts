import { describe, expect, it } from 'vitest'
import { normaliseEvidence, unsupportedFacts } from '../../../src/assistant/guard/index.js'

const EVIDENCE = [
  'checkout-api 5xx ratio is 7.2 % since deploy v2026.11.3 (INC-2025-0142) at 2026-11-21T14:00:00Z.',
  'Memory limit 512Mi, 1,500 requests, lock_timeout 30s, ingest 2 GB/h, db 10.0.4.12:5432, commit 7ccd4d7d.',
  '{"latency_p99_ms":690,"samples":[100,200,300]}',
].join('\n')
const ev = normaliseEvidence(EVIDENCE)
const missing = (s: string) => unsupportedFacts(s, ev)

describe('unsupportedFacts: numbers', () => {
  it('supports numbers that occur with the same unit, whatever the spacing or spelling', () => {
    expect(missing('The 5xx ratio is 7.2%')).toEqual([])
    expect(missing('7.2 percent of requests fail')).toEqual([])
    expect(missing('memory limit of 512 MiB')).toEqual([])
    expect(missing('ingest runs at 2 GB/h')).toEqual([])
    expect(missing('lock_timeout is 30 seconds')).toEqual([])
  })

  it('flags numbers that are not in the evidence, or carry a different unit', () => {
    expect(missing('p99 is 870 ms')).toEqual(['870 ms'])
    expect(missing('p95 is 690 ms')).toEqual(['p95'])
    expect(missing('the 5xx ratio is 9.1%')).toEqual(['9.1%'])
    expect(missing('lock_timeout is 30ms')).toEqual(['30ms'])
  })

  it('compares 1,500 and 1500, and reads evidence number lists both ways', () => {
    expect(missing('1500 requests')).toEqual([])
    expect(missing('1,500 requests')).toEqual([])
    expect(missing('200 samples')).toEqual([])
  })

  it('accepts a unit on a number the evidence gives bare (telemetry JSON)', () => {
    expect(missing('latency 690 ms')).toEqual([])
  })

  it('ignores integers 0–10 written alone and list numbering, but not with a unit', () => {
    expect(missing('1. Restart 2 pods, then wait for 3 of 4 replicas.')).toEqual([])
    expect(missing('11) Check 3rd replica')).toEqual([])
    expect(missing('wait 5m')).toEqual(['5m'])
  })

  it('requires years: 2026 is in the evidence, 2027 is not', () => {
    expect(missing('since November 2026')).toEqual([])
    expect(missing('since November 2027')).toEqual(['2027'])
  })
})

describe('unsupportedFacts: identifiers', () => {
  it('supports identifiers that occur, case-insensitively', () => {
    expect(missing('deploy V2026.11.3 of CHECKOUT-API, see inc-2025-0142')).toEqual([])
    expect(missing('db at 10.0.4.12:5432, commit 7ccd4d7d')).toEqual([])
    expect(missing('raise lock_timeout')).toEqual([])
  })

  it('flags identifiers that do not occur', () => {
    expect(missing('deploy v2026.12.9')).toEqual(['v2026.12.9'])
    expect(missing('replica pg-orders-1 on 10.0.4.13')).toEqual(['pg-orders-1', '10.0.4.13'])
    expect(missing('payments-gateway and statement_timeout')).toEqual(['payments-gateway', 'statement_timeout'])
    expect(missing('commit deadbe12')).toEqual(['deadbe12'])
  })

  it('checks backticked code spans as a whole', () => {
    expect(unsupportedFacts('run `kubectl rollout undo deployment/checkout-api`', 'use `kubectl rollout undo deployment/checkout-api` now')).toEqual([])
    expect(unsupportedFacts('run `kubectl delete ns checkout`', EVIDENCE)).toEqual(['`kubectl delete ns checkout`'])
  })

  it('does not treat hyphenated English words as identifiers', () => {
    expect(missing('the on-call engineer should check the read-only, user-facing follow-up')).toEqual([])
  })

  it('accepts raw evidence text as well as pre-normalised evidence', () => {
    expect(unsupportedFacts('p99 is 870 ms', 'p99 is 870ms')).toEqual([])
    expect(unsupportedFacts('p99 is 870 ms', 'p99 is 871 ms')).toEqual(['870 ms'])
  })
})
