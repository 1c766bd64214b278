import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { EnvSchema, parseConfig } from '../../../src/config/env.js'
import { INFRA, interpolate, interpolatedNames, readEnvFile, readYaml, readYamlDocs, walk } from './infra.js'

// Every environment variable the deployment files give Warden is one Warden reads (a key of EnvSchema): a
// misspelt name would be silently ignored at start-up. And the values, as deployed, pass Warden's own config
// parser: a bad value would stop every pod with a ConfigError.

const SCHEMA_KEYS = new Set(Object.keys(EnvSchema.shape))
const unknownKeys = (keys: Iterable<string>) => [...keys].filter((k) => !SCHEMA_KEYS.has(k))
const COMPOSE = 'infra/compose/compose.yaml'
const composeText = fs.readFileSync(path.join(INFRA, 'compose/compose.yaml'), 'utf8')
const compose = readYaml(COMPOSE)
const dotenv = readEnvFile('infra/compose/.env.example')

/** Services that run the Warden image (they build infra/docker/Dockerfile). */
const wardenServices = Object.entries(compose.services as Record<string, any>).filter(([, s]) => s.build?.dockerfile === 'infra/docker/Dockerfile')
const envMap = (env: unknown): Record<string, string> =>
  Array.isArray(env) ? Object.fromEntries(env.map((e: string) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)])) : Object.fromEntries(Object.entries((env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]))

/** .env.example as an operator fills it in: the empty required passwords given URL-safe values. */
const filledDotenv = { ...dotenv, POSTGRES_PASSWORD: 'p4ssw0rd-example', GRAFANA_ADMIN_PASSWORD: 'grafana-example' }

describe('compose: environment', () => {
  it('runs the Warden image as migrate, api and worker', () => {
    expect(wardenServices.map(([n]) => n).sort()).toEqual(['api', 'migrate', 'worker'])
  })

  it.each(wardenServices)('%s sets only EnvSchema keys', (_name, service) => {
    const keys = Object.keys(envMap(service.environment))
    expect(keys.length).toBeGreaterThan(5)
    expect(unknownKeys(keys)).toEqual([])
    expect(service.env_file, 'env_file would pass every .env key on, including non-Warden ones').toBeUndefined()
  })

  it.each(wardenServices)('%s: the interpolated environment passes parseConfig', (_name, service) => {
    const env = Object.fromEntries(Object.entries(envMap(service.environment)).map(([k, v]) => [k, interpolate(v, filledDotenv)]))
    const config = parseConfig(env)
    expect(config.database.kind).toBe('postgres')
    expect(config.env.NODE_ENV).toBe('production')
  })

  it('the API leaves assessments to the worker and listens on all interfaces; the worker has assessment slots', () => {
    const parsed = (name: string) => parseConfig(Object.fromEntries(Object.entries(envMap(compose.services[name].environment)).map(([k, v]) => [k, interpolate(v, filledDotenv)]))).env
    expect(parsed('api').WARDEN_WORKER_CONCURRENCY).toBe(0)
    expect(parsed('api').HOST).toBe('0.0.0.0')
    expect(parsed('worker').WARDEN_WORKER_CONCURRENCY).toBeGreaterThan(0)
    expect(compose.services.api.command).toEqual(['serve'])
    expect(compose.services.worker.command).toEqual(['worker'])
    expect(compose.services.api.depends_on.migrate.condition).toBe('service_completed_successfully')
  })

  it('a missing password stops `compose up` instead of starting with an empty one', () => {
    const api = envMap(compose.services.api.environment)
    expect(() => interpolate(api.DATABASE_URL!, dotenv)).toThrow(/POSTGRES_PASSWORD is required/)
  })

  it('every variable compose.yaml interpolates is in .env.example, and every .env.example key is used', () => {
    const used = interpolatedNames(composeText)
    expect(used.filter((n) => !(n in dotenv))).toEqual([])
    expect(Object.keys(dotenv).filter((k) => !used.includes(k))).toEqual([])
  })

  it('the database image is pgvector on PostgreSQL 16', () => {
    expect(compose.services.postgres.image).toBe('pgvector/pgvector:pg16')
  })
})

// ---- Kubernetes

const k8sDocs = walk(path.join(INFRA, 'k8s')).filter((f) => /\.ya?ml$/.test(f) && !f.endsWith('kustomization.yaml')).flatMap((f) => readYamlDocs(f).map((d) => ({ file: f, doc: d as any })))
const byKind = (kind: string) => k8sDocs.filter((d) => d.doc.kind === kind)
const podSpec = (doc: any) => (doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template.spec : doc.spec.template.spec)
const workloads = k8sDocs.filter((d) => ['Deployment', 'Job', 'CronJob'].includes(d.doc.kind))
const configMap = byKind('ConfigMap').find((d) => d.doc.metadata.name === 'warden-config')!.doc
const secretTemplate = byKind('Secret').find((d) => d.doc.metadata.name === 'warden-secrets')!

describe('kubernetes: environment', () => {
  it('ConfigMap and Secret template name only EnvSchema keys', () => {
    expect(unknownKeys(Object.keys(configMap.data))).toEqual([])
    expect(unknownKeys(Object.keys(secretTemplate.doc.stringData))).toEqual([])
    expect(Object.keys(secretTemplate.doc.stringData)).toContain('DATABASE_URL')
  })

  it('the Secret is a template: no values, and not a kustomization resource', () => {
    expect(secretTemplate.file).toMatch(/template/)
    for (const [k, v] of Object.entries(secretTemplate.doc.stringData ?? {})) expect(v, k).toBe('')
    expect(secretTemplate.doc.data).toBeUndefined()
    expect(readYaml('infra/k8s/kustomization.yaml').resources).not.toContain(path.basename(secretTemplate.file))
  })

  it.each(workloads.map((w) => [`${w.doc.kind}/${w.doc.metadata.name}`, w.doc]))('%s: env names are EnvSchema keys and the deployed values pass parseConfig', (_n, doc) => {
    for (const c of podSpec(doc).containers) {
      const names = (c.env ?? []).map((e: { name: string }) => e.name)
      expect(unknownKeys(names)).toEqual([])
      expect(c.envFrom.map((e: any) => e.configMapRef?.name ?? e.secretRef?.name).sort()).toEqual(['warden-config', 'warden-secrets'])
      // The Secret as an operator creates it (DATABASE_URL only; omitted keys take their defaults).
      const env = { ...configMap.data, DATABASE_URL: 'postgres://warden:example@postgres.internal:5432/warden', ...Object.fromEntries((c.env ?? []).map((e: any) => [e.name, e.value])) }
      expect(parseConfig(env).database.kind).toBe('postgres')
    }
  })

  it('API pods take requests only; worker pods assess', () => {
    const concurrency = (name: string) => {
      const c = podSpec(byKind('Deployment').find((d) => d.doc.metadata.name === name)!.doc).containers[0]
      return parseConfig({ ...configMap.data, ...Object.fromEntries(c.env.map((e: any) => [e.name, e.value])) }).env.WARDEN_WORKER_CONCURRENCY
    }
    expect(concurrency('warden-api')).toBe(0)
    expect(concurrency('warden-worker')).toBeGreaterThan(0)
  })
})
