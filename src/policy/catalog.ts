import { z } from 'zod'
import { type Checked, problem, unwrap, zodProblems } from './errors.js'
import { asRecord, asString, asStrings, known, parseYaml, readText } from './yaml.js'

// The service catalog: who owns what, what it is, what it calls. It is the only source of service
// names the assistant may use; anything it proposes must resolve here. Names and aliases resolve
// case-insensitively because alert labels and humans are inconsistent about case.

const name = z.string().refine((s) => s.trim() !== '', 'must not be empty')

export const CatalogFile = z.strictObject({
  version: z.number().int().positive(),
  default_team: name,
  teams: z.record(name, z.strictObject({ pager: name, chat: name })),
  services: z.array(
    z.strictObject({
      name,
      team: name,
      tier: z.number().int().min(1),
      kind: name,
      aliases: z.array(name).default([]),
      depends_on: z.array(name).default([]),
    }),
  ),
})
export type CatalogFileData = z.infer<typeof CatalogFile>
export interface Service {
  readonly name: string
  readonly team: string
  readonly tier: number
  readonly kind: string
  readonly aliases: readonly string[]
  readonly depends_on: readonly string[]
}
export interface TeamContacts {
  readonly pager: string
  readonly chat: string
}
/** What an evidence pack says about one service. */
export interface CatalogSlice {
  readonly service: string
  readonly team: string
  readonly tier: number
  readonly kind: string
  readonly aliases: readonly string[]
  readonly depends_on: readonly string[]
  readonly dependents: readonly string[]
  readonly team_contacts: TeamContacts
}

export class Catalog {
  readonly version: number
  readonly defaultTeam: string
  readonly teams: ReadonlyMap<string, TeamContacts>
  readonly services: readonly Service[]
  readonly kinds: ReadonlySet<string>
  readonly #byName = new Map<string, Service>()
  readonly #byToken = new Map<string, string>() // lower-cased name or alias → canonical name
  readonly #dependents = new Map<string, string[]>()

  /** Only built from data that passed `checkCatalogText`. */
  constructor(data: CatalogFileData) {
    this.version = data.version
    this.defaultTeam = data.default_team
    this.teams = new Map(Object.entries(data.teams).map(([t, c]) => [t, Object.freeze({ ...c })]))
    this.services = Object.freeze(data.services.map((s) => Object.freeze({ ...s, aliases: Object.freeze([...s.aliases]), depends_on: Object.freeze([...new Set(s.depends_on)]) })))
    this.kinds = new Set(this.services.map((s) => s.kind))
    for (const s of this.services) {
      this.#byName.set(s.name, s)
      for (const token of [s.name, ...s.aliases]) this.#byToken.set(token.toLowerCase(), s.name)
      for (const dep of s.depends_on) this.#dependents.set(dep, [...(this.#dependents.get(dep) ?? []), s.name])
    }
  }

  /** Canonical name for an exact name or alias (case-insensitive, surrounding spaces ignored), else null. */
  resolveName(token: string): string | null {
    return this.#byToken.get(token.trim().toLowerCase()) ?? null
  }

  /** The service for a name or alias, else null. */
  service(nameOrAlias: string): Service | null {
    const canonical = this.resolveName(nameOrAlias)
    return canonical === null ? null : (this.#byName.get(canonical) ?? null)
  }

  /** Owning team; an unknown (or absent) service goes to default_team, as alert routing does. */
  teamOf(service: string | null): string {
    return (service === null ? null : this.service(service)?.team) ?? this.defaultTeam
  }

  dependenciesOf(service: string): readonly string[] {
    return this.service(service)?.depends_on ?? []
  }

  dependentsOf(service: string): readonly string[] {
    const canonical = this.resolveName(service)
    return canonical === null ? [] : Object.freeze([...(this.#dependents.get(canonical) ?? [])])
  }

  slice(service: string): CatalogSlice | null {
    const s = this.service(service)
    const contacts = s && this.teams.get(s.team)
    if (!s || !contacts) return null
    const { name: svc, team, tier, kind, aliases, depends_on } = s
    return Object.freeze({ service: svc, team, tier, kind, aliases, depends_on, dependents: this.dependentsOf(svc), team_contacts: contacts })
  }
}

/** Checks that need the whole file: team and dependency references, unique names and aliases. */
function crossCheck(raw: unknown, source: string): string[] {
  const problems: string[] = []
  const doc = asRecord(raw)
  if (!doc) return problems
  const teams = Object.keys(asRecord(doc['teams']) ?? {})
  const defaultTeam = asString(doc['default_team'])
  if (defaultTeam !== null && defaultTeam.trim() !== '' && !teams.includes(defaultTeam))
    problems.push(problem(source, ['default_team'], `${JSON.stringify(defaultTeam)} is not a team ${known(teams)}`))
  const services = Array.isArray(doc['services']) ? doc['services'].map((s) => asRecord(s) ?? {}) : []
  const names = services.map((s) => asString(s['name'])).filter((n): n is string => n !== null && n.trim() !== '')
  const owners = new Map<string, { i: number; what: string }>() // lower-cased token → first owner
  services.forEach((s, i) => {
    const svc = asString(s['name'])
    const team = asString(s['team'])
    if (team !== null && team.trim() !== '' && !teams.includes(team))
      problems.push(problem(source, ['services', i, 'team'], `${JSON.stringify(team)} is not a team ${known(teams)}`))
    const tokens: Array<[PropertyKey[], string]> = svc !== null ? [[['services', i, 'name'], svc]] : []
    for (const [j, alias] of asStrings(s['aliases'])) tokens.push([['services', i, 'aliases', j], alias])
    for (const [path, token] of tokens) {
      if (token.trim() === '') continue
      const key = token.trim().toLowerCase()
      const first = owners.get(key)
      if (first) problems.push(problem(source, path, `${JSON.stringify(token)} duplicates the ${first.what} of services[${first.i}]${first.i === i ? ' (same service)' : ''}; names and aliases must be unique, case-insensitively`))
      else owners.set(key, { i, what: path.length === 3 ? `name ${JSON.stringify(svc)}` : `alias ${JSON.stringify(token)}` })
    }
    for (const [j, dep] of asStrings(s['depends_on'])) {
      const path = ['services', i, 'depends_on', j]
      if (dep === svc) problems.push(problem(source, path, `${JSON.stringify(svc)} cannot depend on itself`))
      else if (!names.includes(dep) && dep.trim() !== '') {
        const viaAlias = services.find((o) => asStrings(o['aliases']).some(([, a]) => a.toLowerCase() === dep.toLowerCase()))
        const hint = viaAlias ? `; it is an alias of ${JSON.stringify(asString(viaAlias['name']))}, use the service name` : ` ${known(names)}`
        problems.push(problem(source, path, `${JSON.stringify(dep)} is not a service${hint}`))
      }
    }
  })
  return problems
}

/** Every problem in one catalog text; never throws. */
export function checkCatalogText(text: string, source: string): Checked<Catalog> {
  const { data, problems } = parseYaml(text, source)
  if (problems.length > 0) return { value: null, problems }
  const parsed = CatalogFile.safeParse(data, { reportInput: true })
  const all = [...(parsed.success ? [] : zodProblems(source, parsed.error)), ...crossCheck(data, source)]
  return all.length > 0 || !parsed.success ? { value: null, problems: all } : { value: new Catalog(parsed.data), problems: [] }
}

export function checkCatalogFile(path: string): Checked<Catalog> {
  const { text, problems } = readText(path)
  return text === null ? { value: null, problems } : checkCatalogText(text, path)
}

/** @throws ReferenceFileError listing every problem */
export const parseCatalog = (text: string, sourceName: string): Catalog => unwrap(checkCatalogText(text, sourceName))
/** @throws ReferenceFileError listing every problem */
export const loadCatalog = (path: string): Catalog => unwrap(checkCatalogFile(path))
