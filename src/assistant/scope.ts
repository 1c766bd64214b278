// What the assistant will not do, decided in code before any retrieval or model call: requests to execute,
// approve or change things, and requests that are not incident work. Questions ABOUT those things
// ("how do I fail over orders-db?") are in scope; orders to do them are not.

const IMPERATIVE = /^(please\s+)?(execute|run|perform|do|apply|trigger|restart|reboot|fail ?over|failover|roll ?back|rollback|revert|delete|drop|truncate|kill|scale|deploy|approve|authori[sz]e|disable|enable|promote|rotate|pause|purge|shut ?down)\b/i
const AUTHORITY = /\b(i (hereby )?(authori[sz]e|approve)|on my (behalf|authority)|you (have|are granted) (permission|approval)|(go ahead|proceed) and|right now|immediately|without (approval|review))\b/i
const ASKS_TO_ACT = /\b(can|could|would|will) you (please )?(execute|run|restart|fail ?over|roll ?back|delete|drop|scale|deploy|approve|disable|promote|rotate|kill|pause)\b/i
const OFF_TOPIC = /\b(poem|joke|song|recipe|weather|horoscope|lottery|write (me )?(an? )?(essay|story)|translate)\b/i

export type ScopeDecision = { inScope: true } | { inScope: false; why: string }

export function checkScope(question: string): ScopeDecision {
  const q = question.trim()
  const sentences = q.split(/(?<=[.!?])\s+/)
  if (sentences.some((s) => IMPERATIVE.test(s.trim())) && !/\?\s*$/.test(sentences[0]!.trim())) {
    return { inScope: false, why: 'asks Warden to perform or approve an action; Warden only drafts and proposes, humans decide through the approval queue' }
  }
  if (ASKS_TO_ACT.test(q)) return { inScope: false, why: 'asks Warden to perform an action; Warden never executes anything' }
  if (AUTHORITY.test(q) && /\b(execute|run|restart|fail ?over|failover|roll ?back|delete|drop|scale|deploy|approve|promote|rotate)\b/i.test(q)) {
    return { inScope: false, why: 'grants authority to act; Warden cannot accept authority or execute actions' }
  }
  if (OFF_TOPIC.test(q)) return { inScope: false, why: 'not about incident response or operations' }
  return { inScope: true }
}
