import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import matter from 'gray-matter'
import { sha256 } from '../../ingest/hash.js'

// Prompt templates are versioned files under prompts/. Every annotation records id + version + sha256 of
// the exact template, so a changed prompt is visible in provenance and replay.

export interface PromptTemplate {
  id: string
  version: string
  sha256: string
  body: string
}

const PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url))
const cache = new Map<string, PromptTemplate>()

export function loadPrompt(id: string, dir = PROMPTS_DIR): PromptTemplate {
  const key = `${dir}:${id}`
  const hit = cache.get(key)
  if (hit) return hit
  const raw = fs.readFileSync(path.join(dir, `${id}.md`), 'utf8')
  // The yaml engine only: gray-matter's default would eval a `---js` block.
  const parsed = matter(raw, { language: 'yaml' })
  const data = parsed.data as { id?: unknown; version?: unknown }
  if (data.id !== id || data.version === undefined) throw new Error(`prompts/${id}.md must declare id: ${id} and a version`)
  const t: PromptTemplate = { id, version: String(data.version), sha256: sha256(raw), body: parsed.content.trim() }
  cache.set(key, t)
  return t
}

/** `{{name}}` substitution; an unknown placeholder is a bug, not an empty string. */
export function renderPrompt(t: PromptTemplate, vars: Record<string, string>): string {
  return t.body.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const v = vars[name]
    if (v === undefined) throw new Error(`prompt ${t.id} needs {{${name}}}`)
    return v
  })
}
