import { describe, it, expect } from 'vitest'
import { sha256 } from '../../../ingest/hash.js'

describe('sha256', () => {
  it('returns the standard hex digests', () => {
    expect(sha256('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })

  it('hashes strings as UTF-8, identical to hashing the bytes', () => {
    expect(sha256('héllo – ✓')).toBe(sha256(Buffer.from('héllo – ✓', 'utf8')))
    expect(sha256('a')).not.toBe(sha256('a '))
  })
})
