import { z } from 'zod'
import { type Checked, problem, unwrap, zodProblems } from './errors.js'
import { SEVERITIES, type Severity } from './names.js'
import { asRecord, parseYaml, readText } from './yaml.js'

// The failure classes the assistant may assign to an alert, with the description it is shown.
// `unknown` must exist: it is the honest answer when evidence is thin, and the assistant is told so;
// a taxonomy without it would force a guess.

const CLASS_NAME = /^[a-z][a-z0-9_]*$/

export const TaxonomyFile = z.strictObject({
  version: z.number().int().positive(),
  failure_classes: z.record(
    z.string().regex(CLASS_NAME, 'class names are lower_snake_case'),
    z.string().refine((s) => s.trim() !== '', 'description must not be empty'),
  ),
  // Code branches on exactly these three (routing, paging); the file restates them so that a reader
  // of the YAML sees the vocabulary, and a different list is an error rather than a silent mismatch.
  severities: z
    .array(z.string())
    .refine((s) => s.length === SEVERITIES.length && s.every((v, i) => v === SEVERITIES[i]), `must be exactly [${SEVERITIES.join(', ')}]`),
})

export interface Taxonomy {
  readonly version: number
  readonly classes: ReadonlyMap<string, string>
  readonly severities: readonly Severity[]
  hasClass(name: string): boolean
}

/** Every problem in one taxonomy text; never throws. */
export function checkTaxonomyText(text: string, source: string): Checked<Taxonomy> {
  const { data, problems } = parseYaml(text, source)
  if (problems.length > 0) return { value: null, problems }
  const parsed = TaxonomyFile.safeParse(data, { reportInput: true })
  const all = parsed.success ? [] : zodProblems(source, parsed.error)
  const classes = asRecord(asRecord(data)?.['failure_classes'])
  if (classes && !Object.hasOwn(classes, 'unknown'))
    all.push(problem(source, ['failure_classes'], 'must include "unknown" (the honest answer when evidence is thin)'))
  if (!parsed.success || all.length > 0) return { value: null, problems: all }
  const map: ReadonlyMap<string, string> = new Map(Object.entries(parsed.data.failure_classes))
  return {
    value: Object.freeze({
      version: parsed.data.version,
      classes: map,
      severities: SEVERITIES,
      hasClass: (name: string) => map.has(name),
    }),
    problems: [],
  }
}

export function checkTaxonomyFile(path: string): Checked<Taxonomy> {
  const { text, problems } = readText(path)
  return text === null ? { value: null, problems } : checkTaxonomyText(text, path)
}

/** @throws ReferenceFileError listing every problem */
export const parseTaxonomy = (text: string, sourceName: string): Taxonomy => unwrap(checkTaxonomyText(text, sourceName))
/** @throws ReferenceFileError listing every problem */
export const loadTaxonomy = (path: string): Taxonomy => unwrap(checkTaxonomyFile(path))
