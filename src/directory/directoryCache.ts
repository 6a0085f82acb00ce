/**
 * The directory reads of every request (the API key by its token hash, the key's user, the
 * actors an event names and their groups), answered from memory on storage that one server
 * owns. On the embedded SQLite default they were four or five point reads per recordEvent,
 * a tenth of the server thread's time under single-event load.
 *
 * Only for storage no other server shares (`LedgerStorage.sharedByProcesses` false): every
 * change then passes through this process's repositories, and each change empties every
 * cache before and after it is written, so a revoked key, a disabled user or a new membership
 * takes effect with the next request, as without a cache. The one other writer of such a
 * database is `bootstrap-admin`, which only adds the first admin user and key: a key that was
 * never seen is never cached (unknown tokens are not remembered, so guessing fills nothing),
 * and an actor id remembered as unknown could only be the bootstrap user's if events had named
 * it before it existed. MongoDB, shared by several servers, is read directly.
 */
import type { ApiKeyRecord, ApiKeyRepository, GroupRecord, GroupRepository, LedgerStorage, UserRecord, UserRepository, UserStatus } from '../storage/port';

export type DirectoryStorage = Pick<LedgerStorage, 'users' | 'groups' | 'apiKeys'>;

/** Entries per cache; past it the oldest go (a directory of this many users or keys still fits). */
const DEFAULT_DIRECTORY_CACHE_ENTRIES = 10_000;

/** A map that forgets its oldest entries beyond `max`. */
class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }

  clear(): void {
    this.map.clear();
  }
}

/** What the caches hold, and the count of changes begun: a read that overlapped one keeps nothing. */
class DirectoryMemory {
  /** The user with an id: one or none. */
  readonly usersById: Bounded<readonly UserRecord[]>;
  /** The users with an external id (not unique): any number. */
  readonly usersByExternalId: Bounded<readonly UserRecord[]>;
  /** Group ids by member user id. */
  readonly groupIdsByUser: Bounded<readonly string[]>;
  /** Keys by token hash; only keys that exist. */
  readonly keysByTokenHash: Bounded<ApiKeyRecord>;
  private changes = 0;

  constructor(max: number) {
    this.usersById = new Bounded(max);
    this.usersByExternalId = new Bounded(max);
    this.groupIdsByUser = new Bounded(max);
    this.keysByTokenHash = new Bounded(max);
  }

  /** A mark to pass to `unchangedSince` after an asynchronous read. */
  mark(): number {
    return this.changes;
  }

  unchangedSince(mark: number): boolean {
    return this.changes === mark;
  }

  /** Runs a change with every cache emptied before it starts and after it ends, failed or not. */
  async change<T>(write: () => Promise<T>): Promise<T> {
    this.forget();
    try {
      return await write();
    } finally {
      this.forget();
    }
  }

  private forget(): void {
    this.changes++;
    this.usersById.clear();
    this.usersByExternalId.clear();
    this.groupIdsByUser.clear();
    this.keysByTokenHash.clear();
  }
}

/** Records handed out are shared between requests: frozen, so a caller cannot change the cache's copy. */
function frozen<T extends object>(record: T): T {
  for (const value of Object.values(record)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(record);
}

class CachedUsers implements UserRepository {
  constructor(
    private readonly inner: UserRepository,
    private readonly memory: DirectoryMemory,
  ) {}

  insert(user: UserRecord): Promise<void> {
    return this.memory.change(() => this.inner.insert(user));
  }

  update(id: string, change: { name: string; status: UserStatus; updatedAt: Date }): Promise<void> {
    return this.memory.change(() => this.inner.update(id, change));
  }

  async byId(id: string): Promise<UserRecord | undefined> {
    return (await this.byIds([id]))[0];
  }

  byIds(ids: readonly string[]): Promise<UserRecord[]> {
    return this.cachedLookup(ids, this.memory.usersById, (missing) => this.inner.byIds(missing), (u) => u.id);
  }

  byExternalIds(externalIds: readonly string[]): Promise<UserRecord[]> {
    return this.cachedLookup(externalIds, this.memory.usersByExternalId, (missing) => this.inner.byExternalIds(missing), (u) => u.externalId);
  }

  list(): Promise<UserRecord[]> {
    return this.inner.list();
  }

  /** The users for `keys`, each key's in the inner repository's order, reading only the keys not cached. */
  private async cachedLookup(
    keys: readonly string[],
    cache: Bounded<readonly UserRecord[]>,
    readMissing: (missing: string[]) => Promise<UserRecord[]>,
    keyOf: (user: UserRecord) => string | null,
  ): Promise<UserRecord[]> {
    const found: UserRecord[] = [];
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const cached = cache.get(key);
      if (cached) found.push(...cached);
      else missing.push(key);
    }
    if (missing.length === 0) return found;
    const mark = this.memory.mark();
    const read = (await readMissing(missing)).map(frozen);
    if (this.memory.unchangedSince(mark)) {
      const byKey = new Map<string, UserRecord[]>(missing.map((key) => [key, []]));
      for (const user of read) {
        const key = keyOf(user);
        if (key !== null) byKey.get(key)?.push(user);
      }
      for (const [key, users] of byKey) cache.set(key, Object.freeze(users));
    }
    return [...found, ...read];
  }
}

class CachedGroups implements GroupRepository {
  constructor(
    private readonly inner: GroupRepository,
    private readonly memory: DirectoryMemory,
  ) {}

  insert(group: GroupRecord): Promise<void> {
    return this.memory.change(() => this.inner.insert(group));
  }

  addMember(groupId: string, userId: string): Promise<void> {
    return this.memory.change(() => this.inner.addMember(groupId, userId));
  }

  removeMember(groupId: string, userId: string): Promise<void> {
    return this.memory.change(() => this.inner.removeMember(groupId, userId));
  }

  byId(id: string): Promise<GroupRecord | undefined> {
    return this.inner.byId(id);
  }

  byNameKey(nameKey: string): Promise<GroupRecord | undefined> {
    return this.inner.byNameKey(nameKey);
  }

  byIds(ids: readonly string[]): Promise<GroupRecord[]> {
    return this.inner.byIds(ids);
  }

  list(): Promise<GroupRecord[]> {
    return this.inner.list();
  }

  async groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    const cache = this.memory.groupIdsByUser;
    const out = new Map<string, string[]>();
    const missing: string[] = [];
    for (const id of new Set(userIds)) {
      const cached = cache.get(id);
      if (cached) out.set(id, [...cached]);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    const mark = this.memory.mark();
    const read = await this.inner.groupIdsOf(missing);
    const keep = this.memory.unchangedSince(mark);
    for (const id of missing) {
      const groups = read.get(id) ?? [];
      if (keep) cache.set(id, Object.freeze([...groups]));
      out.set(id, groups);
    }
    return out;
  }
}

class CachedApiKeys implements ApiKeyRepository {
  constructor(
    private readonly inner: ApiKeyRepository,
    private readonly memory: DirectoryMemory,
  ) {}

  insert(key: ApiKeyRecord): Promise<void> {
    return this.memory.change(() => this.inner.insert(key));
  }

  revoke(id: string, at: Date): Promise<void> {
    return this.memory.change(() => this.inner.revoke(id, at));
  }

  byId(id: string): Promise<ApiKeyRecord | undefined> {
    return this.inner.byId(id);
  }

  async byTokenHash(tokenHash: string): Promise<ApiKeyRecord | undefined> {
    const cache = this.memory.keysByTokenHash;
    const cached = cache.get(tokenHash);
    if (cached) return cached;
    const mark = this.memory.mark();
    const key = await this.inner.byTokenHash(tokenHash);
    if (!key) return undefined;
    const kept = frozen(key);
    if (this.memory.unchangedSince(mark)) cache.set(tokenHash, kept);
    return kept;
  }

  activeAdmins(): Promise<ApiKeyRecord[]> {
    return this.inner.activeAdmins();
  }

  list(): Promise<ApiKeyRecord[]> {
    return this.inner.list();
  }
}

/** The directory repositories of `storage`, their per-request reads served from memory (see above). */
export function cachedDirectory(storage: DirectoryStorage, maxEntries = DEFAULT_DIRECTORY_CACHE_ENTRIES): DirectoryStorage {
  const memory = new DirectoryMemory(maxEntries);
  return {
    users: new CachedUsers(storage.users, memory),
    groups: new CachedGroups(storage.groups, memory),
    apiKeys: new CachedApiKeys(storage.apiKeys, memory),
  };
}
