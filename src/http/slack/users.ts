import { z } from 'zod'
import { ConfigError } from '../../config/env.js'
import { ASSISTANT_ID } from '../../approvals/types.js'
import { parseYaml, readText } from '../../policy/yaml.js'
import { TOKEN_ROLES, type Principal } from '../auth/roles.js'
import type { SlackDeps } from './types.js'

// Slack user → Warden identity and roles, from the file named by WARDEN_SLACK_USERS (YAML; JSON is YAML too).
// A Slack account carries no Warden roles of its own: only this file grants them, so a user missing from it
// is unmapped and can do nothing but read the usage. A bad file stops the server at start-up with every
// problem listed, rather than silently mapping nobody (or the wrong people).

const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,40}$/, 'must be a Slack user id such as U0123ABCD')
const SlackTeamId = z.string().regex(/^[TE][A-Z0-9]{2,40}$/, 'must be a Slack team id such as T0123ABCD')

export const SlackUserEntry = z.strictObject({
  slack_user: SlackUserId,
  /** Optional: without it the entry matches the user in any workspace; an entry with the team wins. */
  team: SlackTeamId.optional(),
  identity: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((s) => s !== ASSISTANT_ID, 'the assistant identity cannot be given to a Slack user'),
  roles: z
    .array(z.string().refine((r) => TOKEN_ROLES.includes(r), { message: `unknown role (known: ${TOKEN_ROLES.join(', ')})` }))
    .min(1)
    .max(50),
})
export type SlackUserEntry = z.infer<typeof SlackUserEntry>

export const SlackUsersFile = z.strictObject({ users: z.array(SlackUserEntry).max(100_000) })

export interface SlackUserMap {
  readonly size: number
  /** The Principal for this Slack user in this team, or null when unmapped. */
  lookup(team: string, user: string): Principal | null
}

/** Validates parsed file content; throws ConfigError listing every problem. */
export function parseSlackUsers(data: unknown, source: string): SlackUserMap {
  const r = SlackUsersFile.safeParse(data)
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${source}: ${i.path.join('.') || '(root)'}: ${i.message}`))
  const byKey = new Map<string, SlackUserEntry>()
  const problems: string[] = []
  r.data.users.forEach((u, i) => {
    const key = `${u.team ?? '*'}/${u.slack_user}`
    // Two entries for one account would make its roles depend on file order.
    if (byKey.has(key)) problems.push(`${source}: users.${i}: ${u.slack_user}${u.team ? ` in ${u.team}` : ''} is mapped twice`)
    byKey.set(key, { ...u, roles: [...new Set(u.roles)].sort() })
  })
  if (problems.length) throw new ConfigError(problems)
  return {
    size: byKey.size,
    lookup(team, user) {
      const e = byKey.get(`${team}/${user}`) ?? byKey.get(`*/${user}`)
      return e ? Object.freeze({ identity: e.identity, roles: Object.freeze([...e.roles]), via: `slack:${team}/${user}` }) : null
    },
  }
}

/** Reads and validates the map file (start-up); throws ConfigError naming the file and each problem. */
export function loadSlackUsers(path: string): SlackUserMap {
  const file = readText(path)
  if (file.text === null) throw new ConfigError(file.problems.map((p) => `WARDEN_SLACK_USERS: ${p}`))
  const parsed = parseYaml(file.text, path)
  if (parsed.problems.length) throw new ConfigError(parsed.problems)
  return parseSlackUsers(parsed.data, path)
}

/** Nobody is mapped: Slack requests that verify still get only the usage. */
export const NO_SLACK_USERS: SlackUserMap = parseSlackUsers({ users: [] }, '(none)')

/**
 * The server's Slack wiring from its configuration values (WARDEN_SLACK_SIGNING_SECRET, WARDEN_SLACK_USERS):
 * undefined when neither is set. A secret without a map verifies requests but maps nobody; a map without a
 * secret is still loaded (so a bad file fails start-up) while every request is refused.
 */
export function loadSlackDeps(opts: { signingSecret?: string; usersPath?: string }): SlackDeps | undefined {
  if (!opts.signingSecret && !opts.usersPath) return undefined
  return { signingSecret: opts.signingSecret, users: opts.usersPath ? loadSlackUsers(opts.usersPath) : NO_SLACK_USERS }
}
