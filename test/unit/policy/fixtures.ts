import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import { ReferenceFileError } from '../../../src/policy/errors.js'

// Paths to the reference files (read in place, never copied) and a helper that returns the
// problems a loader reports.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
export const SHARED_DIR = `${repoRoot}../shared/evals/reference`
export const DEMO_DIR = `${repoRoot}ingest/reference`
export const paths = (dir: string) => ({
  catalogPath: `${dir}/catalog.yaml`,
  taxonomyPath: `${dir}/taxonomy.yaml`,
  policyPath: `${dir}/policy.yaml`,
})

/** Runs `load`, expects a ReferenceFileError, returns its problems. */
export function problemsOf(load: () => unknown): readonly string[] {
  try {
    load()
  } catch (err) {
    expect(err).toBeInstanceOf(ReferenceFileError)
    return (err as ReferenceFileError).problems
  }
  throw new Error('expected a ReferenceFileError, but loading succeeded')
}

export const SMALL_CATALOG = `
version: 1
default_team: ops
teams:
  ops: { pager: ops-primary, chat: "#ops" }
  payments: { pager: pay-primary, chat: "#pay" }
services:
  - name: payments-api
    team: payments
    tier: 1
    kind: http-service
    aliases: [payments, pay-api]
    depends_on: [payments-db]
  - name: payments-db
    team: ops
    tier: 1
    kind: postgres
    aliases: [pg-payments]
`

export const SMALL_TAXONOMY = `
version: 1
failure_classes:
  resource_exhaustion: "Something runs out."
  unknown: "Not enough evidence."
severities: [page, ticket, log]
`
