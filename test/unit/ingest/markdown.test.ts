import { describe, it, expect } from 'vitest'
import { CaseStudyFrontMatter, parseMarkdownSource, RunbookFrontMatter, splitSections } from '../../../ingest/parse/markdown.js'
import type { ParseResult, ParsedSource } from '../../../ingest/types.js'

const md = (frontMatter: string, body: string) => `---\n${frontMatter}\n---\n${body}`

function source(r: ParseResult): ParsedSource {
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}: ${r.detail}`)
  expect(r.sources).toHaveLength(1)
  return r.sources[0]!
}

const RUNBOOK = md(
  'title: orders-db disk full\nservice: orders-db\nteam: data-eng\ntags: [disk, postgres]\nlast_reviewed: 2026-10-05',
  '# orders-db disk full\n\nIntro paragraph.\n\n## Symptoms\n\n- Disk above 90%.\n\n## Mitigation\n\n### Free space\n\nDrop the slot.\n',
)

describe('parseMarkdownSource: runbooks', () => {
  it('parses a valid runbook into one source with validated metadata and sections', () => {
    const src = source(parseMarkdownSource({ uri: 'file://runbooks/orders-db-disk-full.md', content: RUNBOOK }))
    expect(src).toEqual({
      uri: 'file://runbooks/orders-db-disk-full.md',
      kind: 'runbook',
      title: 'orders-db disk full',
      service: 'orders-db',
      team: 'data-eng',
      tags: ['disk', 'postgres'],
      metadata: {
        title: 'orders-db disk full',
        service: 'orders-db',
        team: 'data-eng',
        tags: ['disk', 'postgres'],
        last_reviewed: '2026-10-05',
      },
      sections: [
        { headingPath: ['orders-db disk full'], text: 'Intro paragraph.' },
        { headingPath: ['orders-db disk full', 'Symptoms'], text: '- Disk above 90%.' },
        { headingPath: ['orders-db disk full', 'Mitigation', 'Free space'], text: 'Drop the slot.' },
      ],
    })
  })

  it('defaults tags to [] and keeps unknown front-matter keys in metadata', () => {
    const src = source(parseMarkdownSource({ uri: 'a.md', content: md('service: a\nteam: b\nowner: alice', 'Body.') }))
    expect(src.tags).toEqual([])
    expect(src.metadata).toEqual({ service: 'a', team: 'b', owner: 'alice', tags: [] })
  })

  it.each([
    ['service', 'team: b', 'runbook front-matter is missing "service"'],
    ['team', 'service: a', 'runbook front-matter is missing "team"'],
    ['both', 'last_reviewed: 2026-01-01', 'runbook front-matter is missing "service", "team"'],
    ['blank team', 'service: a\nteam: ""', 'runbook front-matter is missing "team"'],
    ['null team', 'service: a\nteam:', 'runbook front-matter is missing "team"'],
  ])('quarantines a runbook missing %s as missing_field', (_name, fm, detail) => {
    expect(parseMarkdownSource({ uri: 'x.md', content: md(fm, 'Body.') })).toEqual({ ok: false, reason: 'missing_field', detail })
  })

  it('reports wrongly typed fields as invalid_field naming the field', () => {
    const tags = parseMarkdownSource({ uri: 'x.md', content: md('service: a\nteam: b\ntags: disk', 'Body.') })
    expect(tags).toMatchObject({ ok: false, reason: 'invalid_field' })
    expect(!tags.ok && tags.detail).toMatch(/^runbook front-matter has invalid fields: tags: /)
    const date = parseMarkdownSource({ uri: 'x.md', content: md('service: a\nteam: b\nlast_reviewed: someday', 'Body.') })
    expect(date).toEqual({
      ok: false,
      reason: 'invalid_field',
      detail: 'runbook front-matter has invalid fields: last_reviewed: not a valid date: someday',
    })
  })

  it('normalizes last_reviewed given as a timestamp or Date to an ISO date', () => {
    expect(RunbookFrontMatter.parse({ service: 's', team: 't', last_reviewed: '2026-03-04T10:00:00Z' }).last_reviewed).toBe('2026-03-04')
    expect(RunbookFrontMatter.parse({ service: 's', team: 't', last_reviewed: new Date('2026-03-04') }).last_reviewed).toBe('2026-03-04')
  })
})

describe('parseMarkdownSource: kind inference', () => {
  const kindOf = (uri: string, content: string, kind?: 'runbook' | 'case_study' | 'doc') => {
    const r = parseMarkdownSource({ uri, content, kind })
    return r.ok ? r.sources[0]!.kind : r.reason
  }
  it('infers case_study from incident_id, runbook from service/team/last_reviewed or a runbooks/ path, else doc', () => {
    const cs = 'incident_id: INC-1\nservices: [a]\nfailure_class: network\nstarted_at: 2025-01-01T00:00:00Z'
    expect(kindOf('docs/x.md', md(cs, 'Body.'))).toBe('case_study')
    expect(kindOf('docs/x.md', md('service: a\nteam: b', 'Body.'))).toBe('runbook')
    expect(kindOf('docs/x.md', md('team: b', 'Body.'))).toBe('missing_field') // inferred runbook, then validated
    expect(kindOf('docs/x.md', md('last_reviewed: 2026-01-01', 'Body.'))).toBe('missing_field')
    expect(kindOf('file://repo/runbooks/x.md', 'Just text.')).toBe('missing_field')
    expect(kindOf('runbooks/x.md', md('service: a\nteam: b', 'Body.'))).toBe('runbook')
    expect(kindOf('file://repo/notrunbooks/x.md', 'Just text.')).toBe('doc')
    expect(kindOf('docs/x.md', md('title: Hello\nauthor: me', 'Body.'))).toBe('doc')
  })

  it('lets an explicit kind override inference', () => {
    expect(kindOf('file://runbooks/x.md', 'Just text.', 'doc')).toBe('doc')
    expect(kindOf('docs/x.md', 'Just text.', 'runbook')).toBe('missing_field')
  })

  it('keeps service/team/tags of plain docs when present and well-typed', () => {
    const src = source(parseMarkdownSource({ uri: 'd.md', content: md('service: a\ntags: [x, 1]', 'Body.'), kind: 'doc' }))
    expect([src.service, src.team, src.tags]).toEqual(['a', null, ['x']])
  })
})

describe('parseMarkdownSource: case studies', () => {
  const FM =
    'incident_id: INC-2025-0142\ntitle: cart-api OOM\nservices: [cart-api, storefront-web]\nfailure_class: resource_exhaustion\n' +
    'started_at: "2025-09-19T10:04:00Z"\nresolved_at: 2025-09-19 11:37:00Z\nseverity: page\nmitigation: Restarted pods.'

  it('takes service from the first of services, team null, and ISO timestamps in metadata', () => {
    const src = source(parseMarkdownSource({ uri: 'file://incidents/x.md', content: md(FM, '# INC-2025-0142\n\n## Summary\n\nPods died.') }))
    expect(src.kind).toBe('case_study')
    expect(src.service).toBe('cart-api')
    expect(src.team).toBeNull()
    expect(src.title).toBe('cart-api OOM')
    expect(src.metadata).toEqual({
      incident_id: 'INC-2025-0142',
      title: 'cart-api OOM',
      services: ['cart-api', 'storefront-web'],
      failure_class: 'resource_exhaustion',
      started_at: '2025-09-19T10:04:00.000Z',
      resolved_at: '2025-09-19T11:37:00.000Z',
      severity: 'page',
      mitigation: 'Restarted pods.',
      tags: [],
    })
    expect(src.sections).toEqual([{ headingPath: ['cart-api OOM', 'INC-2025-0142', 'Summary'], text: 'Pods died.' }])
  })

  it('keeps a team when given and turns a numeric incident id into text', () => {
    expect(CaseStudyFrontMatter.parse({ incident_id: 7, services: ['a'], failure_class: 'x', started_at: '2025-01-01', team: 't' })).toMatchObject({
      incident_id: '7',
      team: 't',
      started_at: '2025-01-01T00:00:00.000Z',
    })
  })

  it('requires incident_id, non-empty services, failure_class and started_at', () => {
    const r = parseMarkdownSource({ uri: 'x.md', content: md('incident_id: INC-1\nservices: []', 'Body.') })
    expect(r).toEqual({
      ok: false,
      reason: 'missing_field',
      detail: 'case study front-matter is missing "services", "failure_class", "started_at"',
    })
  })

  it('rejects an unparseable started_at and a non-list services as invalid_field', () => {
    const bad = md('incident_id: INC-1\nservices: cart-api\nfailure_class: x\nstarted_at: not a date', 'Body.')
    const r = parseMarkdownSource({ uri: 'x.md', content: bad })
    expect(r).toMatchObject({ ok: false, reason: 'invalid_field' })
    expect(!r.ok && r.detail).toContain('services: ')
    expect(!r.ok && r.detail).toContain('started_at: not a valid date/time: not a date')
  })
})

describe('parseMarkdownSource: unparseable and empty input', () => {
  it('quarantines malformed YAML front-matter as unparseable', () => {
    const r = parseMarkdownSource({ uri: 'x.md', content: md('service: [a\nteam: b', 'Body.') })
    expect(r).toMatchObject({ ok: false, reason: 'unparseable' })
    expect(!r.ok && r.detail).toMatch(/^malformed front-matter: /)
  })

  it('quarantines unclosed and non-mapping front-matter as unparseable', () => {
    expect(parseMarkdownSource({ uri: 'x.md', content: '---\nservice: a\n\n# Title\n\nBody' })).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'front-matter is not closed by a "---" line',
    })
    expect(parseMarkdownSource({ uri: 'x.md', content: md('- a\n- b', 'Body.') })).toEqual({
      ok: false,
      reason: 'unparseable',
      detail: 'front-matter is not a YAML mapping',
    })
  })

  it('never evaluates JavaScript front-matter', () => {
    const g = globalThis as { __wardenPwned?: boolean }
    const r = parseMarkdownSource({ uri: 'x.md', content: '---js\n{ service: (globalThis.__wardenPwned = true, "a") }\n---\nBody.' })
    expect(r).toMatchObject({ ok: false, reason: 'unparseable' })
    expect(g.__wardenPwned).toBeUndefined()
  })

  it('quarantines an empty body, and a body of headings without text, as empty', () => {
    expect(parseMarkdownSource({ uri: 'x.md', content: md('service: a\nteam: b', '\n  \n') })).toEqual({
      ok: false,
      reason: 'empty',
      detail: 'document has no body',
    })
    expect(parseMarkdownSource({ uri: 'x.md', content: '# Title\n\n## Empty\n' })).toEqual({
      ok: false,
      reason: 'empty',
      detail: 'document has headings but no text',
    })
  })

  it('falls back to the first H1 (outside code), then the file name, for the title', () => {
    const h1 = source(parseMarkdownSource({ uri: 'x.md', content: '```\n# not me\n```\n\n# Real Title\n\nText.' }))
    expect(h1.title).toBe('Real Title')
    const file = source(parseMarkdownSource({ uri: 'file://docs/On%20Call%20Guide.md', content: '## Section\n\nText.' }))
    expect(file.title).toBe('On Call Guide')
    expect(file.sections).toEqual([{ headingPath: ['On Call Guide', 'Section'], text: 'Text.' }])
  })
})

describe('splitSections', () => {
  it('builds heading paths from a level stack, dropping an H1 equal to the title', () => {
    const text = [
      'Preamble.',
      '# My Doc',
      'Under the title.',
      '## A',
      'a text',
      '### A1',
      'a1 text',
      '#### A1x',
      'deep',
      '## B ##',
      'b text',
      '### B1',
      'b1 text',
    ].join('\n\n')
    expect(splitSections(text, 'my  doc')).toEqual([
      { headingPath: ['my  doc'], text: 'Preamble.' },
      { headingPath: ['my  doc'], text: 'Under the title.' },
      { headingPath: ['my  doc', 'A'], text: 'a text' },
      { headingPath: ['my  doc', 'A', 'A1'], text: 'a1 text' },
      { headingPath: ['my  doc', 'A', 'A1', 'A1x'], text: 'deep' },
      { headingPath: ['my  doc', 'B'], text: 'b text' },
      { headingPath: ['my  doc', 'B', 'B1'], text: 'b1 text' },
    ])
  })

  it('keeps an H1 that differs from the title, and pops levels correctly when they skip', () => {
    expect(splitSections('# Other\n\nx\n\n### Deep\n\ny\n\n## Mid\n\nz', 'T')).toEqual([
      { headingPath: ['T', 'Other'], text: 'x' },
      { headingPath: ['T', 'Other', 'Deep'], text: 'y' },
      { headingPath: ['T', 'Other', 'Mid'], text: 'z' },
    ])
  })

  it('ignores headings inside ``` and ~~~ fences, including longer closing fences', () => {
    const text = [
      '## Shell',
      '```bash',
      '# this is a comment, not a heading',
      '## neither is this',
      '````',
      'after fence',
      '~~~~',
      '# still code',
      '~~~',
      '# still code, the ~~~ above is too short to close',
      '~~~~',
      '## Next',
      'n',
    ].join('\n')
    const sections = splitSections(text, 'T')
    expect(sections.map((s) => s.headingPath)).toEqual([
      ['T', 'Shell'],
      ['T', 'Next'],
    ])
    expect(sections[0]!.text).toBe(text.split('\n').slice(1, 11).join('\n'))
  })

  it('drops heading-only sections but keeps their heading in the children’s path', () => {
    expect(splitSections('## Mitigation\n\n### Rollback\n\nDo it.\n\n### Restart\n\n\n## Empty\n', 'T')).toEqual([
      { headingPath: ['T', 'Mitigation', 'Rollback'], text: 'Do it.' },
    ])
  })

  it('only treats real ATX headings as headings', () => {
    const text = '#hashtag line\n    # indented code\n####### seven\n#\n## [Linked](#linked) heading ##\nbody'
    expect(splitSections(text, 'T')).toEqual([
      { headingPath: ['T'], text: '#hashtag line\n    # indented code\n####### seven\n#' },
      { headingPath: ['T', 'Linked heading'], text: 'body' },
    ])
  })

  it('normalizes CRLF line endings and trims blank lines around section text', () => {
    expect(splitSections('## A\r\n\r\n  indented first\r\nsecond\r\n\r\n', 'T')).toEqual([
      { headingPath: ['T', 'A'], text: '  indented first\nsecond' },
    ])
  })
})
