// The approval queue's public surface (HTTP routes, CLI, server wiring). Warden proposes and records human
// decisions; approved actions are handed to an external executor. Nothing here executes an action.
export * from './types.js'
export { propose, proposeFromAssessment, idempotencyKey, alertGroupOf, type ProposeResult } from './propose.js'
export { approve, type ApproveResult } from './approve.js'
export { reject, type RejectResult } from './reject.js'
export { withdraw, type WithdrawResult } from './withdraw.js'
export { sweepExpired } from './sweep.js'
export { deliverOutbox, type DeliverOptions, type DeliverSummary } from './deliver.js'
export { claimApproved, completeHandoff, type Claimed } from './claim.js'
export { evaluatePreconditions, checkPreconditions, type PreconditionResult } from './preconditions.js'
export { recordPolicyLoad, listPolicyVersions } from './policy-versions.js'
export { getProposal, listProposals, listApprovals, type Proposal, type Approval } from './store.js'
export { getOutbox, signBody, verifySignature, type OutboxRow, type HandoffPayload } from './outbox.js'
