import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { INFRA, readEnvFile, readYamlDocs, REPO_ROOT, walk } from './infra.js'

// Every YAML and JSON file under infra/ parses; the image copies only paths that exist.

const files = walk(INFRA)

describe('infra/ files', () => {
  it('has the compose, Kubernetes, monitoring and Docker files', () => {
    for (const f of ['infra/docker/Dockerfile', 'infra/compose/compose.yaml', 'infra/compose/.env.example', 'infra/k8s/kustomization.yaml', 'infra/monitoring/warden-rules.yaml', 'infra/monitoring/prometheus.yml', 'infra/monitoring/grafana/dashboards/warden.json', 'infra/README.md']) {
      expect(files, f).toContain(f)
    }
  })

  it.each(files.filter((f) => /\.ya?ml$/.test(f)))('%s parses as YAML', (f) => {
    const docs = readYamlDocs(f)
    expect(docs.length).toBeGreaterThan(0)
    for (const d of docs) expect(typeof d, f).toBe('object')
  })

  it.each(files.filter((f) => f.endsWith('.json')))('%s parses as JSON', (f) => {
    expect(() => JSON.parse(fs.readFileSync(path.join(REPO_ROOT, f), 'utf8'))).not.toThrow()
  })

  it('.env.example is KEY=VALUE lines with every secret left empty', () => {
    const env = readEnvFile('infra/compose/.env.example')
    const secretish = Object.keys(env).filter((k) => /PASSWORD|SECRET|API_KEY/.test(k))
    expect(secretish.length).toBeGreaterThan(3)
    for (const k of secretish) expect(env[k], k).toBe('')
  })

  it('the Dockerfile copies only paths that exist, never tests or local state, and runs as a non-root user', () => {
    const dockerfile = fs.readFileSync(path.join(INFRA, 'docker/Dockerfile'), 'utf8')
    const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.trim().split(/\s+/))
    expect(sources.length).toBeGreaterThan(4)
    for (const s of sources) {
      expect(s, 'copies a whole tree it should not').not.toMatch(/^(\.|\.\/|test|node_modules|\.warden|evals\/?)$/)
      const dir = path.dirname(s)
      const matches = s.includes('*') ? fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => new RegExp(`^${path.basename(s).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`).test(f)) : [s]
      expect(matches.length, s).toBeGreaterThan(0)
      for (const m of matches) expect(fs.existsSync(path.join(REPO_ROOT, s.includes('*') ? path.join(dir, m) : m)), s).toBe(true)
    }
    const users = [...dockerfile.matchAll(/^USER (\S+)/gm)].map((m) => m[1])
    expect(users.at(-1)).not.toMatch(/^(root|0)$/)
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m)
  })
})
