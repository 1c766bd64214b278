import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { handoffBody, signBody, verifySignature } from '../../../src/approvals/outbox.js'
import { alertGroupOf, idempotencyKey } from '../../../src/approvals/propose.js'
import type { Proposal } from '../../../src/approvals/store.js'
import { ApproveInput, Identity, ListProposalsInput, ProposeInput, RejectInput, WithdrawInput, isAssistant } from '../../../src/approvals/types.js'
import { canonicalJson } from '../../../src/audit/append.js'

describe('approval contract', () => {
  it('idempotency key: action + canonical params + alert group, independent of key order', () => {
    const a = idempotencyKey('restart_workload', canonicalJson({ service: 'cart-api', workload: 'cart-api' }), 'alert:alertmanager:f00d')
    const b = idempotencyKey('restart_workload', canonicalJson({ workload: 'cart-api', service: 'cart-api' }), 'alert:alertmanager:f00d')
    expect(a).toBe(b)
    expect(a).toMatch(/^[0-9a-f]{64}$/)
    expect(idempotencyKey('restart_workload', canonicalJson({ service: 'cart-api', workload: 'cart-api-2' }), 'alert:alertmanager:f00d')).not.toBe(a)
    expect(idempotencyKey('restart_workload', canonicalJson({ service: 'cart-api', workload: 'cart-api' }), 'alert:alertmanager:beef')).not.toBe(a)
    expect(alertGroupOf({ source: 'grafana', fingerprint: 'x1' }, 'as_1')).toBe('alert:grafana:x1')
    expect(alertGroupOf(null, 'as_1')).toBe('assessment:as_1')
    expect(alertGroupOf(null, null)).toBe('manual')
  })

  it('signs the raw body with HMAC-SHA256 and verifies in constant time', () => {
    const body = '{"a":1}'
    const expected = `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`
    expect(signBody(body, 's3cret')).toBe(expected)
    expect(verifySignature(Buffer.from(body), 's3cret', expected)).toBe(true)
    expect(verifySignature('{"a":2}', 's3cret', expected)).toBe(false)
    expect(verifySignature(body, 'other', expected)).toBe(false)
    expect(verifySignature(body, 's3cret', undefined)).toBe(false)
    expect(verifySignature(body, 's3cret', 'sha256=00')).toBe(false)
  })

  it('renders the hand-off body canonically: the same approval always gives the same bytes', () => {
    const p = { id: 'pr_1', actionId: 'restart_workload', params: { workload: 'w', service: 's' }, idempotencyKey: 'k', policyVersion: 7, policySha256: 'a'.repeat(64), risk: 'low', requestedBy: 'assistant', assessmentId: 'as_1', alertId: 'al_1' } as unknown as Proposal
    const approvals = [{ proposalId: 'pr_1', reviewerId: 'sam', reviewerRoles: ['sre'], role: 'sre', reason: null, preconditionResults: [], createdAt: '2026-11-21T14:00:00.000Z' }]
    const at = new Date('2026-11-21T14:00:01Z')
    const body = handoffBody(p, approvals, at)
    expect(body).toBe(handoffBody({ ...p, params: { service: 's', workload: 'w' } }, approvals, at))
    expect(JSON.parse(body)).toEqual({
      type: 'warden.approved_action', proposal_id: 'pr_1', action_id: 'restart_workload', params: { service: 's', workload: 'w' }, idempotency_key: 'k',
      policy: { version: 7, sha256: 'a'.repeat(64) }, risk: 'low', requested_by: 'assistant', approved_by: [{ reviewer_id: 'sam', role: 'sre', at: '2026-11-21T14:00:00.000Z' }],
      approved_at: '2026-11-21T14:00:01.000Z', assessment_id: 'as_1', alert_id: 'al_1',
    })
  })

  it('HTTP bodies are strict: a body cannot name who is acting', () => {
    const ok = { actionId: 'restart_workload', params: { service: 's' }, rationale: 'why' }
    expect(ProposeInput.parse(ok)).toEqual({ ...ok, citations: [] })
    for (const extra of [{ requester: 'x' }, { reviewer: { id: 'x' } }, { requestedBy: 'x' }]) expect(ProposeInput.safeParse({ ...ok, ...extra }).success).toBe(false)
    expect(ProposeInput.safeParse({ ...ok, rationale: '  ' }).success).toBe(false)
    for (const S of [ApproveInput, RejectInput, WithdrawInput]) {
      expect(S.parse({})).toEqual({})
      expect(S.parse({ reason: ' fine ' })).toEqual({ reason: 'fine' })
      expect(S.safeParse({ reviewer: 'sam' }).success).toBe(false)
      expect(S.safeParse({ roles: ['admin'] }).success).toBe(false)
    }
    expect(ListProposalsInput.parse({ limit: '5' })).toEqual({ limit: 5 })
    expect(ListProposalsInput.safeParse({ status: 'executed' }).success).toBe(false)
    expect(Identity.safeParse({ id: 'sam', roles: ['sre'], kind: 'robot' }).success).toBe(false)
  })

  it('the assistant is recognised by kind or by id', () => {
    expect(isAssistant({ id: 'assistant', kind: 'human' })).toBe(true)
    expect(isAssistant({ id: 'bot-7', kind: 'assistant' })).toBe(true)
    expect(isAssistant({ id: 'sam', kind: 'human' })).toBe(false)
  })
})
