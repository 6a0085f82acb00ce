import {
  decide,
  effectiveGroupFilter,
  explicitGroupsDecision,
  keyGrantDecision,
  keyGroupsProblem,
  lastAdminProblem,
  mayReadEvent,
  type Operation,
  type Principal,
  readScope,
  type Role,
  roleSetProblem,
} from '../../src/auth/role';

function principal(roles: Role[], groupIds: string[] = [], userId = 'u-1'): Principal {
  return { keyId: `k-${userId}`, name: 'key', roles, userId, userName: 'someone', actorType: 'USER', groupIds };
}

const policy = { publicLog: true };
const closed = { publicLog: false };

describe('decide', () => {
  const table: [string, Role[] | undefined, Operation, boolean, 'UNAUTHENTICATED' | 'FORBIDDEN' | undefined][] = [
    ['no key reads the public log', undefined, 'readLog', true, undefined],
    ['no key appends', undefined, 'appendEvents', false, 'UNAUTHENTICATED'],
    ['no key reads events', undefined, 'readEvents', false, 'UNAUTHENTICATED'],
    ['APPENDER appends', ['APPENDER'], 'appendEvents', true, undefined],
    ['ADMIN appends', ['ADMIN'], 'appendEvents', false, 'FORBIDDEN'],
    ['AUDITOR appends', ['AUDITOR'], 'appendEvents', false, 'FORBIDDEN'],
    ['READER reads events', ['READER'], 'readEvents', true, undefined],
    ['AUDITOR reads events', ['AUDITOR'], 'readEvents', true, undefined],
    ['ADMIN reads events', ['ADMIN'], 'readEvents', false, 'FORBIDDEN'],
    ['APPENDER reads events', ['APPENDER'], 'readEvents', false, 'FORBIDDEN'],
    ['ADMIN manages keys', ['ADMIN'], 'manageKeys', true, undefined],
    ['AUDITOR manages keys', ['AUDITOR'], 'manageKeys', false, 'FORBIDDEN'],
    ['ADMIN manages the directory', ['ADMIN'], 'manageDirectory', true, undefined],
    ['READER manages the directory', ['READER'], 'manageDirectory', false, 'FORBIDDEN'],
    ['AUDITOR reads the directory', ['AUDITOR'], 'readDirectory', true, undefined],
    ['READER reads the directory', ['READER'], 'readDirectory', false, 'FORBIDDEN'],
    ['APPENDER reads the directory', ['APPENDER'], 'readDirectory', false, 'FORBIDDEN'],
  ];
  it.each(table)('%s', (_name, roles, operation, allowed, code) => {
    const d = decide(roles && principal(roles), operation, policy);
    expect(d.allowed).toBe(allowed);
    if (!d.allowed) expect(d.code).toBe(code);
  });

  it('a closed log needs a key to read proofs', () => {
    expect(decide(undefined, 'readLog', closed)).toMatchObject({ allowed: false, code: 'UNAUTHENTICATED' });
    expect(decide(principal(['READER']), 'readLog', closed).allowed).toBe(true);
  });
});

describe('separation of duties', () => {
  it('no key holds ADMIN with APPENDER, and a key needs a role', () => {
    expect(roleSetProblem(['ADMIN', 'APPENDER'])).toMatch(/separation of duties/);
    expect(roleSetProblem([])).toBeDefined();
    expect(roleSetProblem(['ADMIN', 'AUDITOR'])).toBeUndefined();
  });

  it('nobody creates a key for their own user', () => {
    expect(keyGrantDecision(principal(['ADMIN'], [], 'me'), 'me')).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    expect(keyGrantDecision(principal(['ADMIN'], [], 'me'), 'other').allowed).toBe(true);
  });

  it('the last active ADMIN user cannot be disabled', () => {
    expect(lastAdminProblem('a', ['a'])).toBeDefined();
    expect(lastAdminProblem('a', ['a', 'b'])).toBeUndefined();
    expect(lastAdminProblem('c', ['a'])).toBeUndefined();
  });

  it('groupIds only on keys they scope', () => {
    expect(keyGroupsProblem(['AUDITOR'], ['g'])).toBeDefined();
    expect(keyGroupsProblem(['READER'], ['g'])).toBeUndefined();
    expect(keyGroupsProblem(['APPENDER'], ['g'])).toBeUndefined();
    expect(keyGroupsProblem(['AUDITOR'], [])).toBeUndefined();
  });
});

describe('group scope', () => {
  const scoped = readScope(principal(['READER'], ['g1', 'g2']));
  const unscoped = readScope(principal(['READER']));
  const auditor = readScope(principal(['AUDITOR']));

  it('an AUDITOR reads everything, a READER its key\'s groups, an unscoped READER nothing', () => {
    expect(auditor).toEqual({ kind: 'all' });
    expect(scoped).toEqual({ kind: 'groups', groupIds: ['g1', 'g2'] });
    expect(mayReadEvent(auditor, [])).toBe(true);
    expect(mayReadEvent(scoped, ['g2', 'g9'])).toBe(true);
    expect(mayReadEvent(scoped, ['g9'])).toBe(false);
    expect(mayReadEvent(scoped, [])).toBe(false);
    expect(mayReadEvent(unscoped, ['g1'])).toBe(false);
  });

  it('a filter within scope is kept, none means the scope, outside is refused', () => {
    expect(effectiveGroupFilter(scoped, ['g1'])).toEqual({ allowed: true, groupIds: ['g1'] });
    expect(effectiveGroupFilter(scoped, undefined)).toEqual({ allowed: true, groupIds: ['g1', 'g2'] });
    expect(effectiveGroupFilter(scoped, ['g1', 'g3'])).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    expect(effectiveGroupFilter(unscoped, undefined)).toEqual({ allowed: true, groupIds: [] });
    expect(effectiveGroupFilter(auditor, undefined)).toEqual({ allowed: true, groupIds: undefined });
    expect(effectiveGroupFilter(auditor, ['g3'])).toEqual({ allowed: true, groupIds: ['g3'] });
  });

  it('explicit event groups only within the appender key\'s groups', () => {
    expect(explicitGroupsDecision(principal(['APPENDER']), []).allowed).toBe(true);
    expect(explicitGroupsDecision(principal(['APPENDER']), ['g1'])).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
    expect(explicitGroupsDecision(principal(['APPENDER'], ['g1']), ['g1']).allowed).toBe(true);
    expect(explicitGroupsDecision(principal(['APPENDER'], ['g1']), ['g1', 'g2'])).toMatchObject({ allowed: false, code: 'FORBIDDEN' });
  });
});
