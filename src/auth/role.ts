/**
 * Roles and the permission decision. Pure: the GraphQL shell asks, this module answers.
 * ADMIN manages keys but may not append (separation of duties); APPENDER appends; AUDITOR
 * reads every event; READER reads the public proofs (group-scoped event reads come with the
 * directory). Nothing may edit or delete an event, so no operation for that exists.
 */
export const ROLES = ['ADMIN', 'APPENDER', 'AUDITOR', 'READER'] as const;
export type Role = (typeof ROLES)[number];

export type Operation = 'appendEvents' | 'readEvents' | 'readLog' | 'manageKeys';

export interface Principal {
  readonly keyId: string;
  readonly name: string;
  readonly roles: readonly Role[];
}

export type Decision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN'; readonly reason: string };

const NEEDS: Record<Operation, readonly Role[]> = {
  appendEvents: ['APPENDER'],
  readEvents: ['AUDITOR'],
  readLog: ['ADMIN', 'APPENDER', 'AUDITOR', 'READER'],
  manageKeys: ['ADMIN'],
};

export interface Policy {
  /** logInfo, checkpoints and proofs readable without a key. */
  readonly publicLog: boolean;
}

export function decide(principal: Principal | undefined, operation: Operation, policy: Policy): Decision {
  if (operation === 'readLog' && policy.publicLog) return { allowed: true };
  if (!principal) return { allowed: false, code: 'UNAUTHENTICATED', reason: `${operation} needs an API key` };
  const needed = NEEDS[operation];
  if (principal.roles.some((r) => needed.includes(r))) return { allowed: true };
  return { allowed: false, code: 'FORBIDDEN', reason: `${operation} needs one of the roles ${needed.join(', ')}` };
}

/** Why a set of roles may not be held by one key, or undefined when it may. */
export function roleSetProblem(roles: readonly Role[]): string | undefined {
  if (roles.length === 0) return 'a key needs at least one role';
  if (roles.includes('ADMIN') && roles.includes('APPENDER')) {
    return 'separation of duties: no key may hold ADMIN together with APPENDER';
  }
  return undefined;
}
