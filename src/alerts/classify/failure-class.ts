import type { Catalog } from '../../policy/catalog.js'
import type { Taxonomy } from '../../policy/taxonomy.js'
import type { CanonicalAlert } from '../types.js'
import { findMentions, splitCamel } from './text.js'

// Failure class by signature rules: weighted regular expressions written from general SRE vocabulary
// (what Prometheus/kube-state-metrics/cert-manager/Argo CD/Terraform/data-quality tools and humans
// actually write in alerts), never from particular alerts. Every class is scored over the alert's text;
// the best class wins when its score reaches MIN_SCORE and it is not tied; otherwise the answer is
// `unknown`, which is an honest answer, not a failure. Equal scores are broken by the number of
// distinct rules that matched, then by where the evidence is (name/summary before description before
// annotations/labels); a tie that survives both is `unknown`.
//
// How text is read:
//  - Fields: the alert name (CamelCase split: `KubeJobFailed` → "kube job failed"), summary, description
//    (weight 1), other annotations (0.75), label keys and values (0.5; alertname and severity-like keys
//    excluded). Text is lower-cased and `_` read as a space (`PERMISSION_DENIED`, `max_connections`).
//  - Each field is cut into clauses at `;`, `!`, `?`, sentence ends, `, ` and `: `. Rule patterns never
//    cross a clause boundary.
//  - Negation: a match preceded in its clause (after any "but") by no/not/without/never/zero… is
//    counter-evidence: it subtracts half the rule's weight ("No deploys in the last 24h").
//  - Health statements: in a clause that says something is normal/healthy/unaffected, symptom rules are
//    ignored ("primary CPU and disk normal" is not disk evidence).
//  - A rule counts once per alert, at its best field weight: the alertname and the summary repeating
//    "crash looping" is one piece of evidence, not two.
//
// Catalog-aware evidence (when the service is resolved): a clause that names one of the service's
// catalog dependencies together with a failure word ("upstream inventory-db returns 'too many
// clients'") is dependency evidence — the alerting service is reporting someone else's failure.
//
// Past incidents (`neighbours`, nearest labelled incidents from the knowledge base) add a bounded vote:
// similarity × NEIGHBOUR_WEIGHT each, at most NEIGHBOUR_CAP per class. The cap is below MIN_SCORE, so
// neighbours can tip a close call or lift weak rule evidence over the line, never decide alone.

export const MIN_SCORE = 2.5
export const NEIGHBOUR_WEIGHT = 1.5
export const NEIGHBOUR_CAP = 2
/** Neighbours less similar than this do not vote. */
export const NEIGHBOUR_MIN_SIMILARITY = 0.3
/** Weight of a negated match, as a fraction of the rule's weight, subtracted. */
const NEGATION_FACTOR = 0.5

export interface Neighbour {
  failureClass: string
  similarity: number
  incidentId: string
}

export interface SignatureRule {
  id: string
  class: string
  weight: number
  /** Tested against one lower-cased clause. Must not be global/sticky. */
  pattern: RegExp
  /** Extra check on a match (numbers, context); default: accept. */
  accept?: (m: RegExpExecArray, clause: string) => boolean
  /** Symptom rules are ignored in clauses that state health; default true. */
  symptom?: boolean
  note: string
}

const pctAtLeast = (min: number) => (m: RegExpExecArray) => {
  const n = Number(m.slice(1).find((g) => g !== undefined && /^\d/.test(g)))
  return Number.isFinite(n) && n >= min
}

/** A cloud availability zone name: us-east-1a, europe-west1-c, eastus-2. */
const ZONE = String.raw`[a-z]{2,}-[a-z]+-?\d+-?[a-z]?`

// Rules per class. Weights: 3 = a signature that names the class on its own; 2 = strong supporting
// evidence; 1–1.5 = context. Keep patterns free of nested quantifiers (linear time on untrusted text).
export const RULES: readonly SignatureRule[] = Object.freeze<SignatureRule[]>([
  // --- resource_exhaustion: a finite resource is running out ---
  { id: 'oom', class: 'resource_exhaustion', weight: 3, pattern: /\boom ?kill(?:ed|er|s)?\b|\boom-killer\b|\bout ?of ?memory\b|\boom\b|\bexit code 137\b/, note: 'OOMKilled, out of memory, OOM killer, exit 137' },
  { id: 'memory-pressure', class: 'resource_exhaustion', weight: 2.5, pattern: /\bmemory\b.{0,40}\b(?:pressure|growing|growth|grew|leak\w*|exhaust\w*|below \d|near (?:the )?limit|limit reached)|\bmem ?available\b.{0,12}\d|\bswap (?:in use|usage|full)\b|\bheap (?:space|exhausted|usage)\b|\bgc overhead\b|\brss grew\b/, note: 'memory pressure/leak/growth, MemAvailable low, swapping, heap exhausted' },
  { id: 'memory-high', class: 'resource_exhaustion', weight: 3, pattern: /\bmemory\b[^;,]{0,20}?(\d{2,3})(?:\.\d+)?%|(\d{2,3})(?:\.\d+)?% (?:of )?(?:max ?)?memory\b/, accept: pctAtLeast(90), note: 'memory use at or above 90%' },
  { id: 'disk-space', class: 'resource_exhaustion', weight: 3, pattern: /\bonly \d+(?:\.\d+)?% (?:free|available)\b|\bdisk ?pressure\b|\bdisk (?:is )?(?:almost )?(?:full|space|usage)\b|\bfilesystem\b|\bout of (?:disk|space)\b|\bno space left\b|\bspace left\b|\bavailable space\b|\b(?:volume|pvc|persistent ?volume\w*|storage)\b.{0,20}\b(?:full|filling)\b|\bephemeral storage\b/, note: 'disk/filesystem/volume full or filling' },
  { id: 'inodes', class: 'resource_exhaustion', weight: 3, pattern: /\binodes?\b/, note: 'inodes exhausted' },
  { id: 'file-descriptors', class: 'resource_exhaustion', weight: 3, pattern: /\bfile descriptors?\b|\btoo many open files\b|\bopen fds\b|\bfd (?:limit|exhaustion)\b|\bulimit\b/, note: 'file descriptors / too many open files' },
  { id: 'connection-slots', class: 'resource_exhaustion', weight: 3, pattern: /\bmax connections\b|\btoo many (?:connections|clients)\b|\bconnection slots?\b|\bconnections? (?:limit|exhausted)\b|\bconnections near max\b|\b\d+ of \d+ connections\b/, note: 'connection slots on a server (max_connections, too many clients)' },
  { id: 'other-limits', class: 'resource_exhaustion', weight: 2, pattern: /\bpids? (?:limit|exhaust\w*)\b|\bephemeral ports? exhaust\w*|\bconntrack\b|\bevicted\b|\beviction\b|\bquota (?:exceeded|exhausted|reached)\b/, note: 'PID limit, ephemeral ports, conntrack table, evictions, quotas' },

  // --- capacity_saturation: demand exceeds provisioned capacity ---
  { id: 'cpu-throttling', class: 'capacity_saturation', weight: 3, pattern: /\bcpu throttl\w*|\bthrottling of cpu\b|\bthrottled cpu\b/, note: 'CPU throttling' },
  { id: 'cpu-high', class: 'capacity_saturation', weight: 2, pattern: /(\d{2,3})(?:\.\d+)?% cpu\b|\bcpu\b[^;,]{0,12}?(\d{2,3})(?:\.\d+)?%/, accept: pctAtLeast(80), note: 'CPU at or above 80%' },
  { id: 'lag-backlog', class: 'capacity_saturation', weight: 3, pattern: /\bconsumer\b.{0,30}\blag\b|\blag\b.{0,30}\bmessages\b|\bbacklog\b|\bundelivered messages\b|\bmessages (?:waiting|queued|pending)\b|\bwaiting to be (?:indexed|processed|consumed)\b|\bmessages behind\b|\bqueue (?:depth|size|length|backlog)\b/, note: 'consumer lag, backlog, queue depth' },
  { id: 'queue-wait', class: 'capacity_saturation', weight: 2, pattern: /\bqueued? (?:time|wait\w*)\b|\b(?:jobs?|builds?|requests?|tasks?) (?:queued|waiting|pending)\b|\bwait(?:ing)? (?:\d+ ?\w+ )?for an? (?:\w+ )?(?:runner|agent|worker|executor|slot|node)\b|\bqueued\b/, note: 'work waiting in a queue for a runner/worker' },
  { id: 'pool-saturated', class: 'capacity_saturation', weight: 3, pattern: /pool\b.{0,30}\b(?:at max|maxed|exhausted|saturated|full|acquire|wait)\b|\ball \d+ \w+ (?:are )?busy\b|\b(?:runners|workers|agents|executors|threads) (?:are )?(?:all )?busy\b|\bno (?:idle|free|available) (?:runners|workers|agents|executors|threads|slots)\b/, note: 'pools at max, all workers busy' },
  { id: 'autoscaling-max', class: 'capacity_saturation', weight: 3, pattern: /\bhpa\b.{0,30}\bmax\w*|\bmax(?:imum)? replicas\b|\bmax node group size\b|\bnot ?trigger ?scale ?up\b|\bautoscal\w*\b.{0,30}\b(?:max|limit|ceiling)\b|\bat max \d+ (?:nodes|replicas|instances)\b|\bscale[- ]?up (?:failed|blocked)\b/, note: 'autoscaler at max (HPA, node groups)' },
  { id: 'load-multiple', class: 'capacity_saturation', weight: 3, pattern: /\b(?:traffic|request rate|requests|rps|qps|load|volume|incoming rate|ingest(?:ion)? rate|throughput|demand|message rate|event rate)\b[^;,]{0,30}?(?:\b\d+(?:\.\d+)?x\b|\b(?:doubled|tripled|quadrupled|spiked?|surged?)\b)|\b\d+(?:\.\d+)?x (?:the |over |above )?(?:usual|normal|weekly|daily|hourly|baseline|average|expected|last \w+|peak)\b|\b(?:traffic|load|request) (?:spike|surge)\b/, note: 'traffic/load a multiple of normal' },
  { id: 'rate-limited', class: 'capacity_saturation', weight: 2, pattern: /\brate[- ]?limit(?:ed|ing|s)?\b|\b429\b|\btoo many requests\b|(?<!cpu )\bthrottl(?:ed|ing)\b(?! of cpu)/, note: 'rate limiting / throttling (capacity unless a dependency is doing it)' },
  { id: 'saturation', class: 'capacity_saturation', weight: 2.5, pattern: /\bsaturat\w*|\bat (?:full )?capacity\b|\bcapacity (?:exceeded|limit|reached)\b|\bover ?capacity\b|\boverload(?:ed)?\b|\bovercommit\w*/, note: 'saturated, at capacity, overloaded' },

  // --- dependency_failure: we are fine, something we call is not ---
  { id: 'upstream', class: 'dependency_failure', weight: 2, pattern: /\bupstream\b/, note: '"upstream" (the thing we call)' },
  { id: 'dependency-word', class: 'dependency_failure', weight: 1.5, pattern: /\bdependenc(?:y|ies)\b|\bbackend\b.{0,20}\b(?:fail\w*|errors?|unavailable|down)\b/, note: 'dependency / backend failing' },
  { id: 'calls-failing', class: 'dependency_failure', weight: 3, pattern: /\b(?:calls?|requests?|connections?|queries|writes|reads)(?: from [\w.-]+)? to\b.{0,40}\b(?:time ?out|timing out|timed out|timeouts?|failing|fails?|failed|refused|erroring|errors)\b|\b(?:p9\d|latency)\b.{0,30}\bcalls? (?:from [\w.-]+ )?to\b|\b(?:db|database|downstream|backend|upstream|outbound|external|dependency) (?:calls?|requests?|queries) fail\w*/, note: 'outbound calls to another service timing out/failing' },
  { id: 'timeouts', class: 'dependency_failure', weight: 1.5, pattern: /\btime ?outs?\b|\btiming out\b|\btimed out\b|\bdeadline exceeded\b|\bgateway timeout\b|\b504\b/, note: 'timeouts' },
  { id: 'unreachable', class: 'dependency_failure', weight: 2, pattern: /\bunreachable\b|\bnot responding\b|\bconnection refused\b|\bcould not connect\b|\bcannot connect\b|\bcan't connect\b|\bno leader\b|\b(?:service|server|backend|endpoint|api|database|db|broker|upstream) (?:is |are )?unavailable\b|\b503\b/, note: 'unreachable, connection refused, no leader' },
  { id: 'self-healthy', class: 'dependency_failure', weight: 2, symptom: false, pattern: /\b(?:our|own|pods?|replicas?|instances?|containers?|hosts?)\b[^;,]{0,25}\b(?:healthy|normal|fine)\b/, note: '"our pods healthy" while the alert fires: the fault is elsewhere' },
  { id: 'circuit-breaker', class: 'dependency_failure', weight: 3, pattern: /\bcircuit[- ]?breakers?\b/, note: 'circuit breaker open/flapping' },
  { id: 'third-party', class: 'dependency_failure', weight: 1.5, pattern: /\b(?:provider|third[- ]party|vendor|acquirer|partner|idp|identity provider|external (?:api|service)|psp|saas)\b/, note: 'third-party provider' },
  { id: 'status-page', class: 'dependency_failure', weight: 3, pattern: /\bstatus ?page\b.{0,40}\b(?:degraded|outage|incident|down)\b|\b(?:partial|major) outage\b/, note: 'provider status page reports degradation' },

  // --- deployment_regression: it started with a change we shipped ---
  { id: 'rollout', class: 'deployment_regression', weight: 3, pattern: /\brolled[- ]?out\b|\broll[- ]?outs?\b|\bdeploy(?:s|ed|ing)?\b|\bdeployment of\b|\bre-?deploy\w*|\breleased?\b|\bupgraded?\b|\bupgrading\b|\bhelm (?:upgrade|release)\b/, note: 'rollout, deploy, release, upgrade' },
  { id: 'new-revision', class: 'deployment_regression', weight: 2, pattern: /\bnew (?:version|revision|release|build|image|pods|replicaset)\b|\bimage ?pull ?back ?off\b|\berr ?image ?pull\b/, note: 'new revision/pods; image pull failures after a change' },
  { id: 'canary', class: 'deployment_regression', weight: 3, pattern: /\bcanary\b|\bblue[- ]green\b|\bprogressive delivery\b/, note: 'canary / blue-green' },
  { id: 'image-tag', class: 'deployment_regression', weight: 2, pattern: /\bimage\b[^;,]{0,20}?[\w./-]+:[\w.-]*\d|\bimage tag\b/, note: 'image name:tag' },
  { id: 'version', class: 'deployment_regression', weight: 1, pattern: /\bv?\d{4}\.\d{1,2}\.\d{1,2}(?:-\d+)?\b|\bv\d+\.\d+(?:\.\d+)?\b|\bprevious (?:version|revision|release)\b/, note: 'release version strings' },
  { id: 'feature-flag', class: 'deployment_regression', weight: 3, pattern: /\bfeature[- ]?flags?\b|\bflags?\b[^;]{0,40}\b(?:enabled|disabled|raised|turned on|turned off|flipped|changed|toggled|rolled)\b|\bflag (?:change|flip|toggle)\b|\b(?:enabl|disabl|flipp|toggl)\w* (?:the |a )?(?:feature )?flag\b|\bfrom \d+% to \d+% of (?:users|traffic|requests|customers)\b|\bexperiment\b.{0,20}\b(?:enabled|started|ramped)\b/, note: 'feature flag change / percentage ramp' },
  { id: 'config-push', class: 'deployment_regression', weight: 2, pattern: /\bconfig(?:uration)? (?:push|change|rollout|update|deploy\w*|reload)\b|\bconfigmap (?:change|update)\w*|\bnew config\b/, note: 'config push' },
  { id: 'since-change', class: 'deployment_regression', weight: 1, pattern: /\b(?:since|after|following|began with|started with)\b[^;]{0,40}\b(?:deploy\w*|roll ?out|rollout|release|canary|upgrade|flag|config push|revision)\b/, note: 'symptom dated from a change' },

  // --- data_freshness: data late, incomplete, duplicated, schema-drifted ---
  { id: 'freshness', class: 'data_freshness', weight: 3, pattern: /\bfreshness\b|\bstale(?:ness)?\b|\bnot (?:yet )?landed\b|\bout of date\b|\boutdated\b|\blate (?:data|partition|arriving|arrival)\b|\bdata (?:is )?late\b|\b\d+ ?(?:s|m|h|d|min|mins|minutes|hours?|days?)\b[^;,]{0,10}\bbehind\b|\bolder than the (?:newest|latest|source|upstream|expected)\b/, note: 'freshness, stale, not landed, N hours behind the source' },
  { id: 'completeness', class: 'data_freshness', weight: 3, pattern: /\bcompleteness\b|\bincomplete\b|\b\d+(?:\.\d+)?% complete\b|\bexpected (?:row )?count\b|\brow counts?\b|\bmissing (?:rows|records|partitions?|data|events)\b|\bpartial (?:data|partition|load)\b|\brows? (?:landed|loaded|written)\b/, note: 'completeness, row counts below expected' },
  { id: 'empty-output', class: 'data_freshness', weight: 3, pattern: /\b(?:0|zero|no) (?:rows|records|events)\b|\bempty (?:partition|table|dataset|file)\b|\brow count (?:is )?0\b/, note: '0 rows / empty partition' },
  { id: 'duplicates', class: 'data_freshness', weight: 3, pattern: /\bduplicat\w*|\bdouble[- ]counted\b|\bdedup\w*/, note: 'duplicates' },
  { id: 'schema-drift', class: 'data_freshness', weight: 3, pattern: /\bschema\b.{0,20}\b(?:drift\w*|change\w*|mismatch\w*|evolution|break\w*|violation)|\bsource schema\b|\bcolumn\b.{0,40}\b(?:appeared|disappeared|added|removed|dropped|renamed)\b|\bnew column\b/, note: 'schema drift / column changes' },
  { id: 'null-rate', class: 'data_freshness', weight: 2, pattern: /\b\d+(?:\.\d+)?% of [\w ]{0,30}\b(?:rows|records|values)\b.{0,20}\bnull\b|\bnull (?:rate|values|ratio)\b/, note: 'null rate' },
  { id: 'data-quality', class: 'data_freshness', weight: 1.5, pattern: /\bdata quality\b|\bdq (?:check|test)s?\b|\baccepted values\b|\bdbt test\b|\bgreat expectations\b|\bquality gate\b|\bgate \d+(?:\.\d+)?%/, note: 'data-quality checks/gates' },
  { id: 'partition-ref', class: 'data_freshness', weight: 1, pattern: /\bpartition\b[^;]{0,20}\b(?:dt|ds|date|day|hour|region)=/, note: 'a data partition named' },
  { id: 'readers-affected', class: 'data_freshness', weight: 1, pattern: /\b(?:dashboards?|consumers|reports?|customers|users|shoppers|pages)\b[^;]{0,30}\b(?:reading|show|see|showing)\b[^;]{0,30}\b(?:previous|old|stale|wrong|twice)\b/, note: 'readers see old/wrong data' },

  // --- job_failure: a scheduled or batch job failed, did not run, or finished partially ---
  { id: 'job-failed', class: 'job_failure', weight: 3, pattern: /\b(?:cron ?jobs?|jobs?|backups?|dag|task|batch|workflow|runs?|export|import|reconcil\w*|backfill|snapshot|dump)\b[^;]{0,40}?\b(?:failed|failing|failure|errored|aborted|crashed|missed)\b/, note: 'job/backup/DAG/run failed' },
  { id: 'backoff', class: 'job_failure', weight: 3, pattern: /\bbackoff ?limit ?exceeded\b|\bbackoff ?limit\b|\bfailed after \d+ (?:retries|attempts)\b|\bmax retries\b/, note: 'BackoffLimitExceeded, failed after N retries' },
  { id: 'exit-code', class: 'job_failure', weight: 2, pattern: /\bexit(?:ed)? (?:with )?(?:status|code) [1-9]\d*\b|\bnon-?zero exit\b/, accept: (m, clause) => !/\bplan\b/.test(clause.slice(0, m.index)), note: 'non-zero exit code (not a Terraform plan exit code, which means changes)' },
  { id: 'not-completed', class: 'job_failure', weight: 3, pattern: /\b(?:has not|hasn't|did not|didn't|never) (?:completed|run|ran|finished|succeeded|started)\b|\bnot completed\b|\blast successful (?:run|completion|backup)\b[^;]{0,30}\b(?:ago|\d+ ?h)\b|\b(?:has not|hasn't|was not|wasn't) been (?:scheduled|run|triggered|executed)\b|\bmissed (?:its )?(?:schedule|run|window)\b|\bno successful (?:run|completion)\b/, note: 'did not complete / last success too long ago' },
  { id: 'partial-run', class: 'job_failure', weight: 3, pattern: /\bfinished with \d+ of \d+\b|\b\d+ of \d+ \w+ (?:not processed|skipped|failed)\b|\bpartial(?:ly)? (?:run|success|completion|completed|failure)\b|\b(?:reported|ended with(?: status)?) success but\b|\b(?:completed|finished|succeeded) with (?:\d+ )?(?:errors|failures)\b/, note: 'finished partially / "success" that was not' },
  { id: 'skipped', class: 'job_failure', weight: 1.5, pattern: /\bskipped\b|\bnot (?:processed|uploaded|exported|imported|loaded|delivered|published)\b/, note: 'items skipped / not processed' },
  { id: 'scheduler-context', class: 'job_failure', weight: 0.5, pattern: /\bcron ?jobs?\b|\bairflow\b|\bdag\b/, note: 'scheduler context' },

  // --- config_drift: live state no longer matches declared state ---
  { id: 'drift', class: 'config_drift', weight: 3, pattern: /(?<!(?:schema|data|model|concept|clock|time)[ -])\bdrift(?:ed|ing|s)?\b/, note: 'drift (but schema/data/clock drift are other classes)' },
  { id: 'out-of-sync', class: 'config_drift', weight: 3, pattern: /\bout ?of ?sync\b|\bsync status\b.{0,20}\b(?:unknown|failed)\b/, accept: (_m, clause) => !/\b(?:clock|ntp|chrony|time|replica|replication)\b/.test(clause), note: 'GitOps OutOfSync (not clocks or replicas out of sync)' },
  { id: 'changed-outside', class: 'config_drift', weight: 3, pattern: /\boutside (?:of )?(?:terraform|git|gitops|the pipeline|iac|code|ci|version control|pulumi|cloudformation|ansible)\b|\bmanual(?:ly)? (?:change|changed|edit|edited|modification)\b|\bkubectl (?:edit|patch)\b|\bin the (?:console|ui|portal)\b|\bclick-?ops\b|\bbreak-?glass\b|\bout-of-band\b/, note: 'changed outside IaC / by hand' },
  { id: 'differs-from-declared', class: 'config_drift', weight: 3, pattern: /\b(?:differs?|different|no longer match(?:es)?|does not match|doesn't match|diverg\w*|mismatch\w*|deviat\w*)\b[^;]{0,40}\b(?:repo(?:sitory)?|git|gitops|declared|desired|terraform|state file|manifests?|source of truth|intended)\b/, note: 'live differs from the repository/declared state' },
  { id: 'plan-changes', class: 'config_drift', weight: 2, pattern: /\bplan\b[^;]{0,60}\b(?:returned|exit ?code|exitcode) 2\b|\bdetailed-?exitcode\b|\bplan (?:found|shows|has|detected) (?:\d+ )?changes?\b|\bresources? to (?:change|add|destroy)\b|\bresources? changed\b|\bunexpected changes?\b/, note: 'scheduled plan shows changes' },
  { id: 'gitops-context', class: 'config_drift', weight: 0.5, pattern: /\bargo ?cd\b|\bflux\b|\bgitops\b|\bterraform\b|\bauto-?sync\b/, note: 'IaC/GitOps context' },

  // --- credential_expiry: certificate, token, key or secret expired, failed to rotate, or revoked ---
  { id: 'certificate', class: 'credential_expiry', weight: 2, pattern: /\bcertificates?\b|\bcerts?\b|\bx\.?509\b|\bcert-manager\b/, note: 'certificate' },
  { id: 'expiry', class: 'credential_expiry', weight: 2, pattern: /\bexpir(?:e|es|ed|ing|y|ation)\b|\bnot ?after\b/, note: 'expires/expired/notAfter' },
  { id: 'renewal-failed', class: 'credential_expiry', weight: 3, pattern: /\b(?:failed to|could not be|cannot be|unable to) renew(?:ed)?\b|\brenewal (?:failed|error)\b|\b(?:lease|cert\w*|token) renew\w* fail\w*|\bnot (?:been )?renewed\b/, note: 'renewal failed' },
  { id: 'rotation', class: 'credential_expiry', weight: 2, pattern: /(?<!log[ -]?)\brotat(?:e|es|ed|ion|ing)\b/, note: 'secret/key rotation (not log rotation)' },
  { id: 'invalid-credential', class: 'credential_expiry', weight: 3, pattern: /\b(?:invalid|expired|revoked|rejected|bad|wrong|unknown)\b[^;]{0,15}\b(?:api ?keys?|keys?|tokens?|credentials?|passwords?|secrets?|kid|signatures?)\b|\b(?:tokens?|keys?|credentials?)\b[^;]{0,15}\b(?:rejected|revoked|expired|invalid)\b/, note: 'invalid/expired/revoked key or token' },
  { id: 'auth-denied', class: 'credential_expiry', weight: 1.5, pattern: /\bunauthori[sz]ed\b|\b401\b|\bpermission denied\b|\baccess denied\b|\bforbidden\b|\b403\b|\bauthentication fail\w*/, note: '401/403, permission denied' },
  { id: 'key-age', class: 'credential_expiry', weight: 3, pattern: /\bkey\b[^;]{0,20}\bage\b|\b(?:token|password|credential|secret)s? (?:older than|age)\b/, note: 'key/secret age over policy' },
  { id: 'secret-context', class: 'credential_expiry', weight: 1, pattern: /\b(?:api|access|signing|private|ssh|encryption) keys?\b|\bsecrets?\b|\btokens?\b|\bjwt\b|\bjwks\b|\bkid\b|\bvault\b|\blease\b|\bcredentials?\b|\bkms\b|\bpasswords?\b|\boauth\b|\bservice account\b/, note: 'secrets vocabulary' },

  // --- network: DNS, routing, packet loss, TLS handshake, partitions between zones ---
  { id: 'dns', class: 'network', weight: 3, pattern: /\bdns\b|\bcore ?dns\b|\bkube-dns\b|\bno such host\b|\bnxdomain\b|\bservfail\b|\b(?:fail(?:s|ed|ing)?|unable) to resolve\b|\bresolution fail\w*|\bname resolution\b|\blookup\b[^;]{0,30}\b(?:timeout|failed|no such host)\b/, note: 'DNS failures' },
  { id: 'packet-loss', class: 'network', weight: 3, pattern: /\bpacket[- ]?loss\b|\bprobe loss\b|\b\d+(?:\.\d+)?% (?:packet )?loss\b|\b(?:dropped|lost) packets\b|\bpacket drops?\b|\bretransmi\w*|\b(?:receive|transmit) err(?:or)?s\b|\binterface \w+\b.{0,30}\berrors\b/, note: 'packet loss, retransmits, interface errors' },
  { id: 'zones', class: 'network', weight: 2, pattern: new RegExp(String.raw`\b(?:inter|cross)[- ]?(?:zone|az|region|dc|datacenter)\b|\bbetween (?:zones|regions|availability zones|data ?centers)\b|\bnetwork partition\b|\bsplit[- ]brain\b|\b(?:between|from) ${ZONE}\b[^;]{0,10}\b(?:and|to) ${ZONE}\b|\bzone pair\b`), note: 'between zones/regions, partitions' },
  { id: 'tls-handshake', class: 'network', weight: 2.5, pattern: /\b(?:tls|ssl) handshakes?\b|\bhandshake (?:fail\w*|errors?|timeout)\b/, note: 'TLS handshake failures' },
  { id: 'routing', class: 'network', weight: 3, pattern: /\bbgp\b|\brout(?:e|es|ing)\b.{0,20}\b(?:withdrawn|leak\w*|flap\w*|missing|blackhole\w*)\b|\bno route to host\b|\bnetwork (?:is )?unreachable\b|\b(?:vpn|ipsec|tunnel|direct connect|interconnect|transit gateway|peering)\b.{0,30}\b(?:down|flapping|failed|unreachable)\b|\bmtu\b/, note: 'BGP, routes withdrawn, no route to host, tunnels/peering down, MTU' },
  { id: 'network-context', class: 'network', weight: 1.5, pattern: /\brouting\b|\bping\b|\bicmp\b|\bconnection reset\b|\bi\/o timeout\b|\brtt\b|\blatency between\b|\bvpn\b|\bpeering\b|\bnetwork (?:error|latency|outage)\b/, note: 'network vocabulary: ping, RTT, resets, i/o timeout' },
])

/** Words that make a clause a failure report (for the catalog-dependency evidence). */
const FAILURE_WORDS = /\b(?:fail\w*|errors?|erroring|time ?outs?|timing out|timed out|time out|unreachable|refused|unavailable|down|slow|latency|returns?|reject\w*|5\d\d|degraded|throttl\w*)\b/
const CATALOG_DEPENDENCY_WEIGHT = 2.5
/** A clause stating health: symptom rules are ignored in it. */
const HEALTHY = /\b(?:normal|healthy|nominal|unaffected|fine|as expected|within (?:slo|limits?|budget|thresholds?))\b/
const NEGATOR = /\b(?:no|not|without|never|none|zero|nor|isn't|aren't|wasn't|weren't|didn't|doesn't|don't|hasn't|haven't)\b/
/** How far before a match a negator is looked for, in characters (within the clause). */
const NEGATION_WINDOW = 40

/** Heartbeat/meta alerts (Watchdog, DeadMansSwitch, InfoInhibitor): always firing by design, no failure. */
const HEARTBEAT_NAME = /^(?:watchdog|dead ?man'?s? ?switch|deadmansswitch|heartbeat|always ?firing|info ?inhibitor)$/i
const HEARTBEAT_TEXT = /\b(?:should|meant to) always be firing\b|\balways[- ]firing\b|\bensure that the (?:entire )?alerting pipeline is functional\b|\bdead man'?s switch\b/i

export function isHeartbeat(alert: CanonicalAlert): boolean {
  const name = alert.name.trim().replace(/[\s_-]+/g, ' ')
  return HEARTBEAT_NAME.test(name) || HEARTBEAT_NAME.test(name.replace(/ /g, '')) || HEARTBEAT_TEXT.test(alert.summary) || HEARTBEAT_TEXT.test(alert.description)
}

/** Label keys that carry no failure information (routing, identity, the sender's own severity). */
const IGNORED_LABELS = new Set(['alertname', 'severity', 'priority', 'urgency', 'pd_service_id', 'prometheus', 'receiver', 'grafana_folder', 'alertgroup', 'rulename', '__alert_rule_uid__'])

interface Field {
  name: 'name' | 'summary' | 'description' | 'annotations' | 'labels'
  weight: number
  /** Tie-break rank: headline evidence beats body evidence beats metadata. */
  tier: number
  clauses: string[]
}

/** Lower-case, `_` as space, collapse whitespace (line breaks are kept: they end clauses). */
function prepare(s: string): string {
  return s.toLowerCase().replace(/_/g, ' ').replace(/[^\S\n]+/g, ' ').trim()
}

export function clauses(s: string): string[] {
  return prepare(s)
    .split(/[;!?\n]|\.(?=\s|$)|,\s|:\s/)
    .map((c) => c.trim())
    .filter((c) => c !== '')
}

function fieldsOf(alert: CanonicalAlert): Field[] {
  const fields: Field[] = [{ name: 'name', weight: 1, tier: 0, clauses: clauses(splitCamel(alert.name)) }]
  if (alert.summary && alert.summary !== alert.name) fields.push({ name: 'summary', weight: 1, tier: 0, clauses: clauses(alert.summary) })
  if (alert.description) fields.push({ name: 'description', weight: 1, tier: 1, clauses: clauses(alert.description) })
  const ann = Object.entries(alert.annotations)
    .filter(([k, v]) => k !== 'summary' && k !== 'description' && !k.startsWith('grafana') && !/url/i.test(k) && !/^https?:\/\//i.test(v))
    .flatMap(([k, v]) => clauses(`${k.replace(/^custom_details\./, '')} ${v}`))
  if (ann.length) fields.push({ name: 'annotations', weight: 0.75, tier: 2, clauses: ann })
  const labels = Object.entries(alert.labels)
    .filter(([k]) => !IGNORED_LABELS.has(k.toLowerCase()))
    .map(([k, v]) => prepare(`${k} ${v}`))
  if (labels.length) fields.push({ name: 'labels', weight: 0.5, tier: 3, clauses: labels })
  return fields
}

function negated(clause: string, index: number): boolean {
  let before = clause.slice(Math.max(0, index - NEGATION_WINDOW), index)
  const but = before.lastIndexOf(' but ')
  if (but >= 0) before = before.slice(but + 5)
  return NEGATOR.test(before)
}

/** Words before "normal"/"healthy" that make it a comparison ("4x normal", "above normal") or a negation, not a health statement. */
const NOT_A_HEALTH_STATEMENT = /(?:^|\s)(?:\d+(?:\.\d+)?x|than|above|below|over|under|of|from|the|not|no|un)\s*$/

function isHealthyClause(clause: string): boolean {
  for (const m of clause.matchAll(new RegExp(HEALTHY.source, 'g'))) {
    if (!NOT_A_HEALTH_STATEMENT.test(clause.slice(Math.max(0, m.index - 12), m.index))) return true
  }
  return false
}

export interface Evidence {
  rule: string
  class: string
  /** Signed contribution to the class score. */
  score: number
  field: string
  /** The text that matched (lower-cased, from one clause). */
  text: string
  negated: boolean
}

export interface ClassScore {
  class: string
  score: number
  rules: number
  tier: number
}

export interface FailureClassResult {
  failureClass: string
  /** `rules`, `rules+neighbours`, `heartbeat`, `below-threshold`, `tie`, `no-evidence`. */
  decision: 'rules' | 'rules+neighbours' | 'heartbeat' | 'below-threshold' | 'tie' | 'no-evidence'
  /** Score of the chosen class (0 for unknown), and of the best other class. */
  score: number
  runnerUp: { class: string; score: number } | null
  scores: ClassScore[]
  evidence: Evidence[]
  neighbourVotes: Array<{ incidentId: string; class: string; vote: number }>
  /** Human-readable explanation for decidedBy. */
  explanation: string
}

export interface FailureClassOptions {
  taxonomy: Taxonomy
  /** With `service`, enables the catalog-dependency evidence. */
  catalog?: Catalog
  service?: string | null
  neighbours?: readonly Neighbour[]
  rules?: readonly SignatureRule[]
}

function ruleEvidence(fields: Field[], rule: SignatureRule): Evidence | null {
  let best: Evidence | null = null
  let worstNegated: Evidence | null = null
  for (const f of fields) {
    for (const clause of f.clauses) {
      const m = rule.pattern.exec(clause)
      if (!m || (rule.accept && !rule.accept(m, clause))) continue
      if (rule.symptom !== false && isHealthyClause(clause)) continue
      if (negated(clause, m.index)) {
        const score = -NEGATION_FACTOR * rule.weight * f.weight
        if (!worstNegated || score < worstNegated.score) worstNegated = { rule: rule.id, class: rule.class, score, field: f.name, text: m[0], negated: true }
        continue
      }
      const score = rule.weight * f.weight
      if (!best || score > best.score) best = { rule: rule.id, class: rule.class, score, field: f.name, text: m[0], negated: false }
    }
  }
  return best ?? worstNegated
}

function catalogDependencyEvidence(alert: CanonicalAlert, catalog: Catalog, service: string): Evidence | null {
  const deps = new Set(catalog.dependenciesOf(service))
  if (deps.size === 0) return null
  const texts: Array<[string, string]> = [
    ['name', alert.name],
    ['summary', alert.summary],
    ['description', alert.description],
  ]
  for (const [field, text] of texts) {
    for (const clause of clauses(text)) {
      if (isHealthyClause(clause) || !FAILURE_WORDS.test(clause)) continue
      const dep = findMentions(clause, catalog).find((m) => deps.has(m.service) && m.service !== service)
      if (dep) return { rule: `catalog-dependency(${dep.service})`, class: 'dependency_failure', score: CATALOG_DEPENDENCY_WEIGHT, field, text: dep.token, negated: false }
    }
  }
  return null
}

const round = (n: number) => Math.round(n * 100) / 100

/** Score every class and pick one (see the header comment for the method). */
export function classifyFailure(alert: CanonicalAlert, opts: FailureClassOptions): FailureClassResult {
  const { taxonomy } = opts
  const unknown = 'unknown'
  if (isHeartbeat(alert)) {
    return { failureClass: unknown, decision: 'heartbeat', score: 0, runnerUp: null, scores: [], evidence: [], neighbourVotes: [], explanation: 'heartbeat/meta alert (always firing by design): no failure to classify' }
  }
  const fields = fieldsOf(alert)
  const evidence: Evidence[] = []
  for (const rule of opts.rules ?? RULES) {
    if (!taxonomy.hasClass(rule.class)) continue
    const e = ruleEvidence(fields, rule)
    if (e) evidence.push(e)
  }
  if (opts.catalog && opts.service && taxonomy.hasClass('dependency_failure')) {
    const e = catalogDependencyEvidence(alert, opts.catalog, opts.service)
    if (e) evidence.push(e)
  }
  const tierOf = (field: string) => fields.find((f) => f.name === field)?.tier ?? 9
  const byClass = new Map<string, ClassScore>()
  for (const e of evidence) {
    const c = byClass.get(e.class) ?? { class: e.class, score: 0, rules: 0, tier: 9 }
    c.score += e.score
    if (!e.negated) {
      c.rules++
      c.tier = Math.min(c.tier, tierOf(e.field))
    }
    byClass.set(e.class, c)
  }
  // Neighbour votes: bounded per class.
  const neighbourVotes: FailureClassResult['neighbourVotes'] = []
  const perClass = new Map<string, number>()
  for (const n of opts.neighbours ?? []) {
    if (n.failureClass === unknown || !taxonomy.hasClass(n.failureClass) || !(n.similarity >= NEIGHBOUR_MIN_SIMILARITY)) continue
    const used = perClass.get(n.failureClass) ?? 0
    const vote = Math.min(NEIGHBOUR_WEIGHT * Math.min(1, n.similarity), NEIGHBOUR_CAP - used)
    if (vote <= 0) continue
    perClass.set(n.failureClass, used + vote)
    neighbourVotes.push({ incidentId: n.incidentId, class: n.failureClass, vote: round(vote) })
    const c = byClass.get(n.failureClass) ?? { class: n.failureClass, score: 0, rules: 0, tier: 9 }
    c.score += vote
    byClass.set(n.failureClass, c)
  }

  const scores = [...byClass.values()]
    .map((c) => ({ ...c, score: round(c.score) }))
    .sort((a, b) => b.score - a.score || b.rules - a.rules || a.tier - b.tier || a.class.localeCompare(b.class))
  const [top, second] = scores
  const runnerUp = second ? { class: second.class, score: second.score } : null
  const fmtEvidence = (cls: string) =>
    evidence
      .filter((e) => e.class === cls)
      .sort((a, b) => b.score - a.score)
      .map((e) => `${e.rule}${e.negated ? ' (negated)' : ''} [${e.field}: "${e.text}"] ${e.score > 0 ? '+' : ''}${round(e.score)}`)
  const votesFor = (cls: string) => neighbourVotes.filter((v) => v.class === cls)
  const base = { scores, evidence, neighbourVotes, runnerUp }

  if (!top || top.score <= 0) {
    return { ...base, failureClass: unknown, decision: 'no-evidence', score: 0, explanation: 'no signature rule matched: unknown' }
  }
  if (top.score < MIN_SCORE) {
    return { ...base, failureClass: unknown, decision: 'below-threshold', score: 0, explanation: `best class ${top.class} scored ${top.score} < minimum ${MIN_SCORE} (${fmtEvidence(top.class).join(', ') || 'neighbours only'}): unknown` }
  }
  if (second && second.score === top.score && second.rules === top.rules && second.tier === top.tier) {
    return { ...base, failureClass: unknown, decision: 'tie', score: 0, explanation: `tie between ${top.class} and ${second.class} at ${top.score}: unknown` }
  }
  const votes = votesFor(top.class)
  const tieNote = second && second.score === top.score ? ` (tie at ${top.score} broken by ${second.rules !== top.rules ? 'number of rules' : 'headline evidence'})` : ''
  const parts = [...fmtEvidence(top.class), ...votes.map((v) => `neighbour ${v.incidentId} +${v.vote}`)]
  return {
    ...base,
    failureClass: top.class,
    decision: votes.length ? 'rules+neighbours' : 'rules',
    score: top.score,
    explanation: `${top.class} ${top.score}: ${parts.join(', ')}; runner-up ${runnerUp ? `${runnerUp.class} ${runnerUp.score}` : 'none'}${tieNote}`,
  }
}
