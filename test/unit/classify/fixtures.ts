import { fileURLToPath } from 'node:url'
import type { CanonicalAlert } from '../../../src/alerts/types.js'
import { loadReference } from '../../../src/policy/reference.js'

// Paths to the labelled sets and reference files (read in place, never copied), and an alert builder.

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
export const SHARED_REFERENCE = `${repoRoot}../shared/evals/reference`
export const SHARED_CASES = `${repoRoot}../shared/evals/alerts/classification-dev.jsonl`
export const DEMO_REFERENCE = `${repoRoot}ingest/reference`
export const DEMO_CASES = `${repoRoot}evals/cases/demo-alerts.jsonl`

export const paths = (dir: string) => ({
  catalogPath: `${dir}/catalog.yaml`,
  taxonomyPath: `${dir}/taxonomy.yaml`,
  policyPath: `${dir}/policy.yaml`,
})

export const shared = loadReference(paths(SHARED_REFERENCE))
export const demo = loadReference(paths(DEMO_REFERENCE))

/** A canonical alert with sensible defaults; only what a test cares about needs saying. */
export function alert(over: Partial<CanonicalAlert> = {}): CanonicalAlert {
  return {
    source: 'alertmanager',
    fingerprint: 'f0',
    status: 'firing',
    name: 'TestAlert',
    labels: {},
    annotations: {},
    summary: '',
    description: '',
    startsAt: null,
    links: [],
    severity: null,
    ...over,
  }
}
