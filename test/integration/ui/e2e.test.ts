import fs from 'node:fs'
import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getProposal, type Proposal } from '../../../src/approvals/index.js'
import type { Assessment } from '../../../src/assistant/store.js'
import { createToken } from '../../../src/http/auth/tokens.js'
import { backend } from '../../helpers/db.js'
import { createHttpFixture, type HttpFixture } from '../../helpers/http.js'
import { seedCrashLoopProposal } from './seed.js'

// The reviewer UI end to end: the real HTTP server on an ephemeral port, the demo corpus, a real alert and
// deterministic assessment, proposals by an on-call human, driven in headless Chromium (Debian's package,
// never a downloaded browser). Nothing of ours is mocked.

const CHROMIUM = '/usr/bin/chromium'
const haveChromium = fs.existsSync(CHROMIUM)
if (!haveChromium) console.warn(`[ui e2e] skipped: ${CHROMIUM} not found; install it with infra/ci/chromium.sh`)

describe.skipIf(!haveChromium)(`reviewer UI in headless Chromium (${backend})`, () => {
  let f: HttpFixture
  let server: ServerType
  let base: string
  let browser: Browser
  let requesterToken: string
  let first: { assessment: Assessment; proposal: Proposal }
  let second: { proposal: Proposal }

  beforeAll(async () => {
    f = await createHttpFixture({ ingestDemo: true })
    // Olivia is on call and opens the proposals; for the second test she also holds a reviewer token.
    const olivia = { id: 'olivia', roles: ['oncall'], kind: 'human' as const }
    requesterToken = (await createToken(f.t.db, { name: 'olivia-reviewer', identity: 'olivia', roles: ['oncall', 'reviewer', 'sre'] }, 'test')).token
    first = await seedCrashLoopProposal(f, olivia, { fingerprint: 'e2e00001' })
    second = await seedCrashLoopProposal(f, olivia, { fingerprint: 'e2e00002' })
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: f.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s))
    })
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'] })
  })
  afterAll(async () => {
    await browser?.close()
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
    await f?.cleanup()
  })

  async function logIn(page: Page, token: string): Promise<void> {
    await page.goto(`${base}/ui`)
    expect(new URL(page.url()).pathname).toBe('/ui/login')
    await page.fill('input[name=token]', token)
    await Promise.all([page.waitForURL(`${base}/ui`), page.click('button[type=submit]')])
  }

  it('logs in, opens a proposal from the queue, follows a citation, approves, and sees it in the audit view', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    // Our pages must not trip their own Content-Security-Policy (the browser's favicon probe may 404; ignored).
    const csp: string[] = []
    page.on('console', (m) => m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text()) && csp.push(m.text()))
    await logIn(page, f.tokens.reviewer)
    const p = first.proposal

    await page.click(`#queue a[href="/ui/proposals/${p.id}"]`)
    await page.waitForURL(`${base}/ui/proposals/${p.id}`)
    expect(await page.textContent('#proposal-status')).toBe('proposed')
    for (const name of p.preconditions) expect(await page.textContent(`[data-precondition="${name}"]`)).toContain('holds')

    // The runbook citation of the proposal's rationale opens the passage the assistant was given.
    const ref = p.citations[1]!
    await page.click(`a[href="/ui/evidence/${first.assessment.id}/${ref}"] >> nth=0`)
    await page.waitForURL(`${base}/ui/evidence/${first.assessment.id}/${ref}`)
    const item = first.assessment.evidencePack.items.find((i) => i.ref === ref)!
    expect(await page.textContent('#evidence-ref')).toBe(ref)
    expect(await page.textContent('#passage')).toBe(item.text)
    expect(await page.textContent('#evidence-source')).toBe(item.sourceUri)
    await page.goBack()

    await page.fill('form[action$="/approve"] textarea[name=reason]', 'OOMKilled loop confirmed; restart after the limit change')
    await Promise.all([page.waitForURL(/\?done=approved$/), page.click('form[action$="/approve"] button')])
    expect(await page.textContent('#proposal-status')).toBe('approved')
    expect(await page.textContent('[role=status]')).toContain('Approved')
    expect((await getProposal(f.t.db, p.id))!.status).toBe('approved')

    await page.click('header a[href="/ui/audit"]')
    await page.waitForURL(`${base}/ui/audit`)
    expect(await page.getAttribute('#chain', 'data-ok')).toBe('true')
    const actions = await page.$$eval(`#audit tr[data-subject="proposal:${p.id}"]`, (rows) => rows.map((r) => [r.getAttribute('data-action'), r.children[2]?.textContent]))
    expect(actions).toEqual(expect.arrayContaining([['approval.recorded', 'sam'], ['proposal.approved', 'sam'], ['handoff.queued', 'sam'], ['proposal.created', 'olivia']]))
    expect(csp).toEqual([])
    await context.close()
  })

  it('shows the self-approval refusal to a requester who is also a reviewer, and the proposal stays proposed', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await logIn(page, requesterToken)
    const p = second.proposal
    await page.click(`#queue a[href="/ui/proposals/${p.id}"]`)
    await page.waitForURL(`${base}/ui/proposals/${p.id}`)
    await page.fill('form[action$="/approve"] textarea[name=reason]', 'my own proposal, looks fine to me')
    await Promise.all([page.waitForURL(`${base}/ui/proposals/${p.id}/approve`), page.click('form[action$="/approve"] button')])
    expect(await page.getAttribute('[role=alert]', 'data-refusal')).toBe('self_approval')
    expect(await page.textContent('[role=alert]')).toContain('cannot approve')
    expect(await page.textContent('#proposal-status')).toBe('proposed')
    expect((await getProposal(f.t.db, p.id))!.status).toBe('proposed')
    const refusals = await f.t.db.query<{ actor: string }>("select actor from audit_log where subject = $1 and action = 'approval.refused'", [`proposal:${p.id}`])
    expect(refusals.rows).toEqual([{ actor: 'olivia' }])
    await context.close()
  })
})
