import { createHash } from 'node:crypto'

/**
 * Hex SHA-256 of a string (hashed as UTF-8) or raw bytes.
 * Used for chunk content hashes and source fingerprints: re-ingesting unchanged content must yield the
 * same hash on every machine, so this is deliberately a plain, unsalted digest.
 */
export function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex')
}
