// The guard: every draft and chat answer passes through here before a human sees it.
export { guardDraft, type ActionCheck, type GuardInput, type GuardResult } from './guard.js'
export { guardAnswer, type AnswerSentence } from './answer.js'
export { detectInjection, mergeFindings, packMetadataTexts, type InjectionFinding } from './injection.js'
export { normaliseEvidence, unsupportedFacts, type NormalisedEvidence } from './facts.js'
export { certaintyPhrases } from './certainty.js'
export { packEvidence, type PackEvidence } from './evidence.js'
export { normaliseText } from './text.js'
