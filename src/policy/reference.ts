import { type Catalog, checkCatalogFile } from './catalog.js'
import { ReferenceFileError } from './errors.js'
import { KNOWN_PRECONDITIONS, KNOWN_ROLES } from './names.js'
import { type Policy, checkPolicyFile } from './policy.js'
import { type Taxonomy, checkTaxonomyFile } from './taxonomy.js'

// Loads the three reference files together, as startup does. Problems from all three are reported
// in one error: fixing a catalog typo should not reveal a policy typo only on the next restart.
// The policy is checked against whatever of the catalog and taxonomy loaded; if one of them failed,
// the policy checks that depend on it are skipped (their problems would be noise).

export interface ReferencePaths {
  readonly catalogPath: string
  readonly taxonomyPath: string
  readonly policyPath: string
}

export interface Reference {
  readonly catalog: Catalog
  readonly taxonomy: Taxonomy
  readonly policy: Policy
}

export interface ReferenceOptions {
  /** Defaults to the preconditions this code implements. */
  readonly knownPreconditions?: readonly string[]
  /** Defaults to KNOWN_ROLES; pass null to accept any role name. */
  readonly knownRoles?: readonly string[] | null
}

/** @throws ReferenceFileError listing every problem in all three files */
export function loadReference(paths: ReferencePaths, options: ReferenceOptions = {}): Reference {
  const catalog = checkCatalogFile(paths.catalogPath)
  const taxonomy = checkTaxonomyFile(paths.taxonomyPath)
  const knownRoles = options.knownRoles === null ? undefined : (options.knownRoles ?? KNOWN_ROLES)
  const policy = checkPolicyFile(paths.policyPath, {
    catalog: catalog.value,
    taxonomy: taxonomy.value,
    knownPreconditions: options.knownPreconditions ?? KNOWN_PRECONDITIONS,
    ...(knownRoles && { knownRoles }),
  })
  const problems = [...catalog.problems, ...taxonomy.problems, ...policy.problems]
  if (problems.length > 0 || !catalog.value || !taxonomy.value || !policy.value) throw new ReferenceFileError(problems)
  return Object.freeze({ catalog: catalog.value, taxonomy: taxonomy.value, policy: policy.value })
}
