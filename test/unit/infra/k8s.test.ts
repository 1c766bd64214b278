import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createAppWithoutDatabase, INFRA, readYaml, readYamlDocs, walk } from './infra.js'

// The Kubernetes manifests: probes point at routes the app serves (liveness must not depend on the
// database, readiness must), ports line up, pods are hardened, and the kustomization lists what exists.

const files = walk(path.join(INFRA, 'k8s')).filter((f) => /\.ya?ml$/.test(f))
const docs = files.filter((f) => !f.endsWith('kustomization.yaml')).flatMap((f) => readYamlDocs(f).map((doc) => ({ file: f, doc: doc as any })))
const kustomization = readYaml('infra/k8s/kustomization.yaml')
const configMap = docs.find((d) => d.doc.kind === 'ConfigMap')!.doc
const deployment = (name: string) => docs.find((d) => d.doc.kind === 'Deployment' && d.doc.metadata.name === name)!.doc
const api = deployment('warden-api')
const apiContainer = api.spec.template.spec.containers[0]
const podSpecs = docs.filter((d) => ['Deployment', 'Job', 'CronJob'].includes(d.doc.kind)).map((d) => [`${d.doc.kind}/${d.doc.metadata.name}`, d.doc.kind === 'CronJob' ? d.doc.spec.jobTemplate.spec.template.spec : d.doc.spec.template.spec] as [string, any])

describe('kubernetes: probes', () => {
  const app = createAppWithoutDatabase()
  const probe = (kind: string) => apiContainer[kind]?.httpGet as { path: string; port: string | number } | undefined

  it('the API has startup, liveness and readiness probes', () => {
    for (const k of ['startupProbe', 'livenessProbe', 'readinessProbe']) expect(probe(k)?.path, k).toMatch(/^\//)
  })

  it('liveness and startup answer 200 while the database is down (a DB outage must not restart every pod)', async () => {
    for (const k of ['startupProbe', 'livenessProbe']) expect((await app.request(probe(k)!.path)).status, k).toBe(200)
  })

  it('readiness is a served route that fails while the database is down (pods leave the Service instead)', async () => {
    const res = await app.request(probe('readinessProbe')!.path)
    expect(res.status).toBe(503)
    expect(await res.json()).toMatchObject({ status: 'not_ready' })
  })

  it('probes and the Service target the container port the app listens on (PORT)', () => {
    const ports: Array<{ name: string; containerPort: number }> = apiContainer.ports
    for (const k of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const port = probe(k)!.port
      const resolved = typeof port === 'number' ? port : ports.find((p) => p.name === port)?.containerPort
      expect(resolved, k).toBe(Number(configMap.data.PORT))
    }
    const service = docs.find((d) => d.doc.kind === 'Service')!.doc
    for (const p of service.spec.ports) expect(ports.map((cp) => cp.name)).toContain(p.targetPort)
    expect(service.spec.selector).toEqual(api.spec.selector.matchLabels)
    expect(configMap.data.HOST).toBe('0.0.0.0')
  })
})

describe('kubernetes: pods', () => {
  it.each(podSpecs)('%s runs non-root with a read-only root filesystem, no privilege escalation and /tmp writable', (_n, spec) => {
    expect(spec.securityContext.runAsNonRoot).toBe(true)
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0)
    for (const c of spec.containers) {
      expect(c.securityContext.readOnlyRootFilesystem, c.name).toBe(true)
      expect(c.securityContext.allowPrivilegeEscalation, c.name).toBe(false)
      expect(c.securityContext.capabilities.drop).toContain('ALL')
      expect(c.resources.requests.memory && c.resources.limits.memory, c.name).toBeTruthy()
      const tmp = c.volumeMounts.find((m: any) => m.mountPath === '/tmp')
      expect(spec.volumes.find((v: any) => v.name === tmp.name).emptyDir).toBeDefined()
      expect(c.image).toBe(kustomization.images[0].name)
    }
  })

  it('every PodDisruptionBudget selects a Deployment', () => {
    const pdbs = docs.filter((d) => d.doc.kind === 'PodDisruptionBudget')
    expect(pdbs.length).toBeGreaterThan(0)
    const selectors = docs.filter((d) => d.doc.kind === 'Deployment').map((d) => JSON.stringify(d.doc.spec.selector.matchLabels))
    for (const p of pdbs) expect(selectors).toContain(JSON.stringify(p.doc.spec.selector.matchLabels))
  })

  it('the containers run commands the CLI has', () => {
    const main = fs.readFileSync(path.join(INFRA, '../src/cli/main.ts'), 'utf8')
    for (const [name, spec] of podSpecs) expect(main, name).toContain(`.command('${spec.containers[0].args[0]}')`)
  })
})

describe('kubernetes: kustomization', () => {
  it('lists every manifest but the Secret template, and only files that exist', () => {
    const listed: string[] = kustomization.resources
    const manifests = files.map((f) => path.basename(f)).filter((f) => f !== 'kustomization.yaml' && !f.includes('template'))
    expect([...listed].sort()).toEqual(manifests.sort())
  })
})
