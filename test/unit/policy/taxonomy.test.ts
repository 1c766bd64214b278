import { describe, expect, it } from 'vitest'
import { loadTaxonomy, parseTaxonomy } from '../../../src/policy/taxonomy.js'
import { DEMO_DIR, SHARED_DIR, SMALL_TAXONOMY, problemsOf } from './fixtures.js'

describe('taxonomy', () => {
  it('loads the shared and the demo taxonomy', () => {
    for (const dir of [SHARED_DIR, DEMO_DIR]) {
      const t = loadTaxonomy(`${dir}/taxonomy.yaml`)
      expect(t.classes.get('unknown')).toMatch(/evidence/)
      expect(t.hasClass('deployment_regression')).toBe(true)
      expect(t.severities).toEqual(['page', 'ticket', 'log'])
    }
  })

  it('requires the class "unknown"', () => {
    expect(problemsOf(() => parseTaxonomy(SMALL_TAXONOMY.replace(/ {2}unknown:.*\n/, ''), 'taxonomy.yaml'))).toEqual([
      'taxonomy.yaml: failure_classes: must include "unknown" (the honest answer when evidence is thin)',
    ])
  })

  it('rejects bad class names, empty descriptions and other severities, all at once', () => {
    const text = SMALL_TAXONOMY.replace('resource_exhaustion: "Something runs out."', 'Resource-Exhaustion: "x"\n  network: ""').replace('[page, ticket, log]', '[page, log]')
    const problems = problemsOf(() => parseTaxonomy(text, 'taxonomy.yaml'))
    expect(problems).toEqual([
      expect.stringMatching(/^taxonomy\.yaml: failure_classes\.Resource-Exhaustion: invalid key: class names are lower_snake_case/),
      'taxonomy.yaml: failure_classes.network: description must not be empty',
      'taxonomy.yaml: severities: must be exactly [page, ticket, log]',
    ])
  })

  it('YAML syntax error with line', () => {
    expect(problemsOf(() => parseTaxonomy('version: 1\nfailure_classes:\n  unknown: x\n network: y\nseverities: [page, ticket, log]\n', 'taxonomy.yaml'))).toEqual([
      'taxonomy.yaml: line 4, column 1: YAML syntax error: All mapping items must start at the same column',
    ])
  })
})
