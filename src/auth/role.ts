/**
 * Roles and the permission decisions. Pure: the GraphQL shell asks, this module answers.
 * ADMIN manages the directory and keys but may not append (separation of duties); APPENDER
 * appends; AUDITOR reads every event; READER reads the events of its key's groups. Nothing may
 * edit or delete an event, so no operation for that exists.
 */
export const ROLES = ['ADMIN', 'APPENDER', 'AUDITOR', 'READER'] as const;
export type Role = (typeof ROLES)[number];

export type Operation = 'appendEvents' | 'readEvents' | 'readLog' | 'manageKeys' | 'manageDirectory' | 'readDirectory' | 'redactEvents' | 'manageRetention' | 'manageHolds' | 'manageWebhooks' | 'manageAlerts' | 'readAlerts';

/** How the principal appears as an event actor: HUMAN users act as USER. */
export type PrincipalActorType = 'USER' | 'SERVICE';

export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly roles: readonly Role[];
  /** The directory user the key belongs to. */
  readonly userId: string;
  readonly userName: string;
  readonly actorType: PrincipalActorType;
  /** The groups the key is scoped to (READER reads, APPENDER explicit groups); empty: none. */
  readonly groupIds: readonly string[];
}

export type DenialCode = 'UNAUTHENTICATED' | 'FORBIDDEN';

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: DenialCode; readonly reason: string };

const NEEDS: Record<Operation, readonly Role[]> = {
  appendEvents: ['APPENDER'],
  readEvents: ['AUDITOR', 'READER'],
  readLog: ['ADMIN', 'APPENDER', 'AUDITOR', 'READER'],
  manageKeys: ['ADMIN'],
  manageDirectory: ['ADMIN'],
  // Auditors need names behind the ids they read in events.
  readDirectory: ['ADMIN', 'AUDITOR'],
  // Destroying content is the administrator's; holds are the auditor's, a separate duty, so
  // that the one who can destroy cannot also lift the brake on destruction.
  redactEvents: ['ADMIN'],
  manageRetention: ['ADMIN'],
  manageHolds: ['AUDITOR'],
  // Integrations are the administrator's; each change is a ledger event auditors see.
  manageWebhooks: ['ADMIN'],
  // Detection belongs with oversight: the rules watch administrators too, so the auditor sets
  // them (as with holds) and an administrator may only read them.
  manageAlerts: ['AUDITOR'],
  readAlerts: ['AUDITOR', 'ADMIN'],
};

export interface Policy {
  /** logInfo, checkpoints and proofs readable without a key. */
  readonly publicLog: boolean;
}

const ALLOWED: Decision = { allowed: true };

function forbidden(reason: string): Decision {
  return { allowed: false, code: 'FORBIDDEN', reason };
}

export function decide(principal: Principal | undefined, operation: Operation, policy: Policy): Decision {
  if (operation === 'readLog' && policy.publicLog) return ALLOWED;
  if (!principal) return { allowed: false, code: 'UNAUTHENTICATED', reason: `${operation} needs an API key` };
  const needed = NEEDS[operation];
  if (principal.roles.some((r) => needed.includes(r))) return ALLOWED;
  return forbidden(`${operation} needs one of the roles ${needed.join(', ')}`);
}

/** Why a set of roles may not be held by one key, or undefined when it may. */
export function roleSetProblem(roles: readonly Role[]): string | undefined {
  if (roles.length === 0) return 'a key needs at least one role';
  if (roles.includes('ADMIN') && roles.includes('APPENDER')) {
    return 'separation of duties: no key may hold ADMIN together with APPENDER';
  }
  return undefined;
}

/** Nobody grants a role to their own user: an admin could otherwise mint itself an APPENDER key. */
export function keyGrantDecision(admin: Principal, keyUserId: string): Decision {
  if (admin.userId === keyUserId) return forbidden('separation of duties: nobody may create a key for their own user');
  return ALLOWED;
}

/**
 * Which events a reader may see: every event (AUDITOR), or those whose groups meet these ids.
 * A READER key without groups sees nothing: being unscoped must never mean seeing everything.
 */
export type ReadScope = { readonly kind: 'all' } | { readonly kind: 'groups'; readonly groupIds: readonly string[] };

export function readScope(principal: Principal): ReadScope {
  if (principal.roles.includes('AUDITOR')) return { kind: 'all' };
  return { kind: 'groups', groupIds: principal.groupIds };
}

/**
 * The group filter a query runs with: the one asked for (when within scope), else the scope
 * itself. Asking for a group outside the scope is refused rather than silently narrowed, so a
 * reader never mistakes "not allowed" for "nothing there".
 */
export function effectiveGroupFilter(
  scope: ReadScope,
  requested: readonly string[] | undefined,
): { readonly allowed: true; readonly groupIds: readonly string[] | undefined } | (Decision & { readonly allowed: false }) {
  if (scope.kind === 'all') return { allowed: true, groupIds: requested };
  if (requested === undefined) return { allowed: true, groupIds: scope.groupIds };
  const outside = requested.filter((g) => !scope.groupIds.includes(g));
  if (outside.length > 0) return { allowed: false, code: 'FORBIDDEN', reason: `groups outside this key's scope: ${outside.join(', ')}` };
  return { allowed: true, groupIds: requested };
}

/** Whether a reader may see one event, given the event's groups. */
export function mayReadEvent(scope: ReadScope, eventGroups: readonly string[]): boolean {
  return scope.kind === 'all' || eventGroups.some((g) => scope.groupIds.includes(g));
}

/** An appender may add explicit groups only within its key's groups. */
export function explicitGroupsDecision(principal: Principal, explicitGroups: readonly string[]): Decision {
  if (explicitGroups.length === 0) return ALLOWED;
  if (principal.groupIds.length === 0) return forbidden('this key has no groups, so it may not add explicit groups to events');
  const outside = explicitGroups.filter((g) => !principal.groupIds.includes(g));
  if (outside.length > 0) return forbidden(`groups outside this key's scope: ${outside.join(', ')}`);
  return ALLOWED;
}

/** Group ids on a key make sense only for the roles they scope. */
export function keyGroupsProblem(roles: readonly Role[], groupIds: readonly string[]): string | undefined {
  if (groupIds.length > 0 && !roles.includes('READER') && !roles.includes('APPENDER')) {
    return 'groupIds scope READER and APPENDER keys only';
  }
  return undefined;
}

/**
 * The last ADMIN (an active user holding an unrevoked ADMIN key) cannot be disabled: nobody
 * would be left to manage keys, and only the bootstrap CLI with database access could recover.
 */
export function lastAdminProblem(targetUserId: string, activeAdminUserIds: readonly string[]): string | undefined {
  if (!activeAdminUserIds.includes(targetUserId)) return undefined;
  if (activeAdminUserIds.some((u) => u !== targetUserId)) return undefined;
  return 'the last ADMIN user cannot be disabled';
}

/**
 * The groups an appended event is stamped with: the actor's groups at this moment, limited
 * to the appending key's scope when it has one (a service scoped to team A must not file
 * events under team B by naming a B user as actor), plus the explicit groups it may add.
 */
export function stampedGroups(principalGroupIds: readonly string[], actorGroups: readonly string[], explicitGroups: readonly string[]): string[] {
  const fromActor = principalGroupIds.length === 0 ? actorGroups : actorGroups.filter((g) => principalGroupIds.includes(g));
  return [...new Set([...fromActor, ...explicitGroups])].sort();
}
