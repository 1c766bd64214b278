// The Postgres-backed job queue (runs unchanged on PGlite): enqueue with the alert, claim with SKIP LOCKED and
// a lease, complete or fail with backoff, dead after max attempts. See jobs/*.ts; the worker is worker.ts.
export { enqueueAssessment, enqueueJob, getJob, newJobId, type EnqueueInput } from './jobs/enqueue.js'
export { claimJobs, type ClaimOptions } from './jobs/claim.js'
export { backoffDelay, completeJob, extendLease, failJob, markDead, type BackoffOptions, type FailOutcome } from './jobs/complete.js'
export { ASSESS_ALERT, JOBS_ACTOR, scrubError, toJob, type Job, type JobStatus } from './jobs/types.js'
