// Markdown sources (runbooks, case studies, plain docs): front-matter validation plus heading-based sections.
import matter from 'gray-matter'
import YAML from 'yaml'
import { z } from 'zod'
import type { ParseResult, ParsedSource, Section, SourceKind } from '../types.js'
import { fileStem, isoDate, isoTimestamp, issuesToFailure } from './issues.js'

type MarkdownKind = Extract<SourceKind, 'runbook' | 'case_study' | 'doc'>

// Loose objects: unknown front-matter keys are kept in metadata (authors add e.g. `aliases`), only the keys
// the pipeline relies on are checked.
export const RunbookFrontMatter = z.looseObject({
  title: z.string().trim().min(1).optional(),
  service: z.string().trim().min(1),
  team: z.string().trim().min(1),
  tags: z.array(z.string()).default([]),
  last_reviewed: isoDate.optional(),
})

export const CaseStudyFrontMatter = z.looseObject({
  // YAML reads `incident_id: 2041` as a number; an id is an id, so keep it as text.
  incident_id: z.union([z.string().trim().min(1), z.number()]).transform(String),
  services: z.array(z.string().trim().min(1)).min(1),
  failure_class: z.string().trim().min(1),
  started_at: isoTimestamp,
  resolved_at: isoTimestamp.optional(),
  mitigation: z.string().optional(),
  outcome: z.string().optional(),
  severity: z.union([z.string(), z.number()]).optional(),
  title: z.string().trim().min(1).optional(),
  team: z.string().trim().min(1).optional(),
  tags: z.array(z.string()).default([]),
})

const refuse = (): never => {
  throw new Error('only YAML front-matter is supported')
}
// gray-matter would `eval` a `---js` block; every non-YAML engine is replaced so untrusted files can't run code.
// The `yaml` package (YAML 1.2) also keeps dates as strings and rejects duplicate keys.
const MATTER_OPTIONS = {
  language: 'yaml',
  engines: { yaml: (s: string) => (YAML.parse(s) ?? {}) as object, javascript: refuse, coffee: refuse, json: refuse },
}

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/
const FENCE = /^ {0,3}(`{3,}|~{3,})/
const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase()
// `## [Rollback](#rollback)` (common in converted HTML) should read "Rollback" in heading paths.
const headingText = (s: string | undefined) => s?.replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1').trim()

/**
 * Split markdown into sections by ATX headings. Paths start with `title`; a top heading equal to the
 * title is not repeated. Text before the first heading gets path [title]. Headings inside fenced code are
 * plain text. Sections without body text are dropped, but their headings still prefix their children.
 */
export function splitSections(markdown: string, title: string): Section[] {
  const sections: Section[] = []
  const stack: Array<{ level: number; text: string }> = []
  let path = [title]
  let body: string[] = []
  let fence: string | null = null

  const flush = () => {
    const text = body.join('\n').replace(/^(?:[ \t]*\n)+/, '').trimEnd()
    if (text.trim() !== '') sections.push({ headingPath: path, text })
    body = []
  }

  for (const line of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    const fenceMatch = FENCE.exec(line)
    if (fence !== null) {
      // A fence closes only with the same character, at least as long, and nothing else on the line.
      if (fenceMatch?.[1] && fenceMatch[1][0] === fence[0] && fenceMatch[1].length >= fence.length && line.trim() === fenceMatch[1]) fence = null
      body.push(line)
      continue
    }
    if (fenceMatch?.[1]) {
      fence = fenceMatch[1]
      body.push(line)
      continue
    }
    const heading = ATX.exec(line)
    const text = headingText(heading?.[2])
    if (!heading?.[1] || !text) {
      body.push(line)
      continue
    }
    flush()
    const level = heading[1].length
    while (stack.length > 0 && stack[stack.length - 1]!.level >= level) stack.pop()
    stack.push({ level, text })
    const names = stack.map((h) => h.text)
    if (names[0] !== undefined && norm(names[0]) === norm(title)) names.shift()
    path = [title, ...names]
  }
  flush()
  return sections
}

/** First `# ` heading outside code fences, used as a title fallback (also by the HTML parser). */
export function firstH1(markdown: string): string | undefined {
  let fenced = false
  for (const line of markdown.split(/\r?\n/)) {
    if (FENCE.test(line)) fenced = !fenced
    const m = !fenced ? ATX.exec(line) : null
    const text = headingText(m?.[2])
    if (m?.[1] === '#' && text) return text
  }
  return undefined
}

function inferKind(uri: string, fm: Record<string, unknown>): MarkdownKind {
  if ('incident_id' in fm) return 'case_study'
  if ('service' in fm || 'team' in fm || 'last_reviewed' in fm) return 'runbook'
  return /(^|\/)runbooks\//.test(uri) ? 'runbook' : 'doc'
}

const str = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null)

export function parseMarkdownSource(input: { uri: string; content: string; kind?: MarkdownKind }): ParseResult {
  const { uri, content } = input
  // gray-matter treats an unclosed `---` block as "everything is front-matter"; call that what it is.
  if (/^---[ \t]*\r?\n/.test(content) && !/\r?\n---[ \t]*(\r?\n|$)/.test(content.slice(3))) {
    return { ok: false, reason: 'unparseable', detail: 'front-matter is not closed by a "---" line' }
  }
  let fm: Record<string, unknown>
  let body: string
  try {
    const parsed = matter(content, MATTER_OPTIONS)
    if (typeof parsed.data !== 'object' || parsed.data === null || Array.isArray(parsed.data)) {
      return { ok: false, reason: 'unparseable', detail: 'front-matter is not a YAML mapping' }
    }
    fm = parsed.data as Record<string, unknown>
    body = parsed.content
  } catch (err) {
    return { ok: false, reason: 'unparseable', detail: `malformed front-matter: ${(err as Error).message}` }
  }
  if (body.trim() === '') return { ok: false, reason: 'empty', detail: 'document has no body' }

  const kind = input.kind ?? inferKind(uri, fm)
  let metadata: Record<string, unknown>
  let service: string | null
  let team: string | null
  let tags: string[]
  if (kind === 'runbook') {
    // Many teams write `owner:` for the owning team; accept it as `team` rather than quarantining real runbooks.
    const r = RunbookFrontMatter.safeParse(fm.team === undefined && typeof fm.owner === 'string' ? { ...fm, team: fm.owner } : fm)
    if (!r.success) return issuesToFailure('runbook front-matter', r.error, fm)
    ;({ service, team, tags } = r.data)
    metadata = r.data
  } else if (kind === 'case_study') {
    const r = CaseStudyFrontMatter.safeParse(fm)
    if (!r.success) return issuesToFailure('case study front-matter', r.error, fm)
    service = r.data.services[0]!
    team = r.data.team ?? null
    tags = r.data.tags
    metadata = r.data
  } else {
    // Plain docs: front-matter is kept as is (YAML 1.2 yields JSON-safe values); only well-typed
    // service/team/tags are lifted onto the source.
    metadata = fm
    service = str(fm.service)
    team = str(fm.team)
    tags = Array.isArray(fm.tags) ? fm.tags.filter((t): t is string => typeof t === 'string') : []
  }

  const title = str(fm.title) ?? firstH1(body) ?? fileStem(uri)
  const sections = splitSections(body, title)
  if (sections.length === 0) return { ok: false, reason: 'empty', detail: 'document has headings but no text' }
  const source: ParsedSource = { uri, kind, title, service, team, tags, metadata, sections }
  return { ok: true, sources: [source] }
}
