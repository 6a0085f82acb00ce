/**
 * The directory cache (directory/directoryCache.ts) against the SQLite adapter in memory:
 * repeated per-request reads reach the database once, every change is seen by the next read,
 * unknown tokens are never remembered, a read that overlaps a change keeps nothing, and the
 * caches stay within their bound.
 */
import { cachedDirectory, type DirectoryStorage } from '../../src/directory/directoryCache';
import type { ApiKeyRecord, LedgerStorage, UserRecord } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';

/** The repositories of `storage` with a count of the calls of each method. */
function counted(storage: DirectoryStorage): { storage: DirectoryStorage; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrap = <T extends object>(name: string, repository: T): T =>
    new Proxy(repository, {
      get(target, property, receiver) {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]): unknown => {
          const key = `${name}.${String(property)}`;
          calls.set(key, (calls.get(key) ?? 0) + 1);
          return Reflect.apply(value, target, args);
        };
      },
    });
  return { storage: { users: wrap('users', storage.users), groups: wrap('groups', storage.groups), apiKeys: wrap('apiKeys', storage.apiKeys) }, calls };
}

const at = new Date('2026-12-01T00:00:00Z');
const user = (id: string, externalId: string | null = null): UserRecord => ({
  id,
  name: id,
  type: 'HUMAN',
  externalId,
  status: 'ACTIVE',
  createdAt: at,
  updatedAt: at,
});
const key = (id: string, userId: string): ApiKeyRecord => ({
  id,
  name: id,
  roles: ['APPENDER'],
  userId,
  groupIds: [],
  tokenHash: `hash-${id}`,
  createdAt: at,
  createdBy: null,
  revokedAt: null,
});

describe('the directory cache', () => {
  let db: LedgerStorage;
  let calls: Map<string, number>;
  let cache: DirectoryStorage;
  beforeEach(async () => {
    db = await openSqliteStorage({ file: ':memory:', create: true });
    await db.users.insert(user('alice', 'ext-alice'));
    await db.users.insert(user('bob'));
    await db.apiKeys.insert(key('k1', 'alice'));
    await db.groups.insert({ id: 'g1', name: 'G1', nameKey: 'g1', description: null, members: [], createdAt: at });
    await db.groups.addMember('g1', 'alice');
    const c = counted(db);
    calls = c.calls;
    cache = cachedDirectory(c.storage);
  });
  afterEach(async () => db.close());

  it('answers repeated reads from memory: keys, users by id and external id (known or not), groups', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await cache.apiKeys.byTokenHash('hash-k1'))?.id).toBe('k1');
      expect((await cache.users.byId('alice'))?.name).toBe('alice');
      expect((await cache.users.byIds(['alice', 'nobody'])).map((u) => u.id)).toEqual(['alice']);
      expect((await cache.users.byExternalIds(['ext-alice', 'ext-nobody'])).map((u) => u.id)).toEqual(['alice']);
      expect(await cache.groups.groupIdsOf(['alice', 'bob'])).toEqual(new Map([['alice', ['g1']], ['bob', []]]));
    }
    expect(Object.fromEntries(calls)).toEqual({
      'apiKeys.byTokenHash': 1,
      // byId('alice') first, then byIds for the one id it had not seen.
      'users.byIds': 2,
      'users.byExternalIds': 1,
      'groups.groupIdsOf': 1,
    });
  });

  it('keeps every user an external id names (external ids are not unique)', async () => {
    await db.users.insert(user('alice2', 'ext-alice'));
    for (let i = 0; i < 2; i++) expect((await cache.users.byExternalIds(['ext-alice'])).map((u) => u.id).sort()).toEqual(['alice', 'alice2']);
    expect(calls.get('users.byExternalIds')).toBe(1);
  });

  it('reads only what it has not seen', async () => {
    await cache.users.byIds(['alice']);
    expect((await cache.users.byIds(['alice', 'bob'])).map((u) => u.id).sort()).toEqual(['alice', 'bob']);
    expect(calls.get('users.byIds')).toBe(2);
    await cache.users.byIds(['bob', 'alice']);
    expect(calls.get('users.byIds')).toBe(2);
  });

  it('never remembers an unknown token: a key created later (by bootstrap-admin beside the server) is found', async () => {
    expect(await cache.apiKeys.byTokenHash('hash-k2')).toBeUndefined();
    expect(await cache.apiKeys.byTokenHash('hash-k2')).toBeUndefined();
    expect(calls.get('apiKeys.byTokenHash')).toBe(2);
    await db.apiKeys.insert(key('k2', 'bob')); // not through the cache: another process
    expect((await cache.apiKeys.byTokenHash('hash-k2'))?.id).toBe('k2');
  });

  it('sees every change made through it at the next read: revocation, disabling, membership, new users', async () => {
    await cache.apiKeys.byTokenHash('hash-k1');
    await cache.apiKeys.revoke('k1', at);
    expect((await cache.apiKeys.byTokenHash('hash-k1'))?.revokedAt).toEqual(at);

    await cache.users.byId('alice');
    await cache.users.update('alice', { name: 'alice', status: 'DISABLED', updatedAt: at });
    expect((await cache.users.byId('alice'))?.status).toBe('DISABLED');

    await cache.groups.groupIdsOf(['bob']);
    await cache.groups.addMember('g1', 'bob');
    expect((await cache.groups.groupIdsOf(['bob'])).get('bob')).toEqual(['g1']);
    await cache.groups.removeMember('g1', 'alice');
    expect((await cache.groups.groupIdsOf(['alice'])).get('alice')).toEqual([]);

    expect(await cache.users.byExternalIds(['ext-carol'])).toEqual([]);
    await cache.users.insert(user('carol', 'ext-carol'));
    expect((await cache.users.byExternalIds(['ext-carol'])).map((u) => u.id)).toEqual(['carol']);
  });

  it('keeps nothing from a read that overlapped a change', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slow: DirectoryStorage = {
      ...db,
      users: new Proxy(db.users, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (property !== 'byIds' || typeof value !== 'function') return value;
          // Reads the old record, then answers only after the change below.
          return async (ids: string[]) => {
            const old = (await Reflect.apply(value, target, [ids])) as UserRecord[];
            await gate;
            return old;
          };
        },
      }),
    };
    const c = cachedDirectory(slow);
    const overlapping = c.users.byId('alice');
    await c.users.update('alice', { name: 'alice', status: 'DISABLED', updatedAt: at });
    release();
    expect((await overlapping)?.status).toBe('ACTIVE');
    expect((await c.users.byId('alice'))?.status).toBe('DISABLED');
  });

  it('a failed change still empties the cache', async () => {
    await cache.users.byId('alice');
    await expect(cache.users.insert(user('alice'))).rejects.toThrow();
    await cache.users.byId('alice');
    expect(calls.get('users.byIds')).toBe(2);
  });

  it('hands out frozen records, so no caller can change what the next request reads', async () => {
    const k = await cache.apiKeys.byTokenHash('hash-k1');
    expect(Object.isFrozen(k)).toBe(true);
    expect(Object.isFrozen(k?.roles)).toBe(true);
    const groups = (await cache.groups.groupIdsOf(['alice'])).get('alice')!;
    groups.push('mutated');
    expect((await cache.groups.groupIdsOf(['alice'])).get('alice')).toEqual(['g1']);
  });

  it('stays within its bound, forgetting the oldest entries first', async () => {
    const { storage: inner, calls: innerCalls } = counted(db);
    const bounded = cachedDirectory(inner, 2);
    await bounded.users.byId('alice');
    await bounded.users.byId('bob');
    await bounded.users.byId('nobody'); // alice is forgotten
    await bounded.users.byId('bob');
    expect(innerCalls.get('users.byIds')).toBe(3);
    await bounded.users.byId('alice');
    expect(innerCalls.get('users.byIds')).toBe(4);
  });
});
