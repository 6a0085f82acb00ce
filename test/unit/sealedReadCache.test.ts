/**
 * The cache of opened sealed events never outlives what the store says: a destroyed key, a
 * re-wrapped key or an edited row each read as the store has them, cached or not, also when
 * the change happens while a read waits on the store; and a cached event costs no key read.
 */
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { Keyring } from '../../src/lifecycle/keyring';
import { evictingStore, SealedReadCache } from '../../src/lifecycle/sealedReadCache';
import { SealedEventRepository } from '../../src/lifecycle/sealedEvents';
import { flatEvent } from '../../src/storage/flatEvent';
import type { EventRepository, LedgerStorage, StoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from '../storage/contract';

describe('SealedReadCache', () => {
  it('answers for the same sealed leaf only, and forgets on request', () => {
    const cache = new SealedReadCache(10);
    const key = new Uint8Array(32);
    const opened = makeEvent(0);
    cache.rememberOpened('e1', key, 'sealed-1', opened, cache.generation);
    expect(cache.key('e1')).toBe(key);
    expect(cache.opened('e1', 'sealed-1')).toBe(opened);
    expect(cache.opened('e1', 'sealed-2')).toBeUndefined();
    cache.forget(['e1']);
    expect(cache.key('e1')).toBeUndefined();
    expect(cache.opened('e1', 'sealed-1')).toBeUndefined();
  });

  it('keeps its entries while the change count stays, and drops them all when it moves', () => {
    const cache = new SealedReadCache(10);
    expect(cache.confirm(4)).toBe(false);
    cache.rememberKey('e1', new Uint8Array(32), cache.generation);
    expect(cache.confirm(4)).toBe(true);
    expect(cache.key('e1')).toBeDefined();
    expect(cache.confirm(5)).toBe(false);
    expect(cache.key('e1')).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('takes nothing remembered by a caller that started before the cache changed', () => {
    const cache = new SealedReadCache(10);
    const before = cache.generation;
    cache.forget(['other']);
    cache.rememberKey('e1', new Uint8Array(32), before);
    cache.rememberOpened('e2', new Uint8Array(32), 's', makeEvent(2), before);
    expect(cache.size).toBe(0);
    const afterClear = cache.generation;
    cache.confirm(1);
    cache.rememberKey('e3', new Uint8Array(32), afterClear);
    expect(cache.size).toBe(0);
    cache.rememberKey('e3', new Uint8Array(32), cache.generation);
    expect(cache.size).toBe(1);
  });

  it('holds at most its limit, the newest first, however entries came and went', () => {
    const cache = new SealedReadCache(3);
    const remember = (id: string): void => cache.rememberKey(id, new Uint8Array(32), cache.generation);
    for (let i = 0; i < 5; i++) remember(`e${i}`);
    expect(cache.size).toBe(3);
    expect(cache.key('e0')).toBeUndefined();
    expect(cache.key('e4')).toBeDefined();
    // Replacing e2 makes it the newest: e3 goes first.
    remember('e2');
    remember('e5');
    expect(cache.key('e3')).toBeUndefined();
    cache.forget(['e4']);
    remember('e6');
    expect(['e2', 'e4', 'e5', 'e6'].map((id) => cache.key(id) !== undefined)).toEqual([true, false, true, true]);
    // Many times round, with entries replaced and forgotten between: still the newest `limit`.
    for (let i = 0; i < 100; i++) {
      remember(`x${i}`);
      if (i % 7 === 3) remember(`x${i}`);
      if (i % 11 === 5) cache.forget([`x${i}`]);
    }
    expect(cache.size).toBe(3);
    expect(['x97', 'x98', 'x99'].every((id) => cache.key(id) !== undefined)).toBe(true);
    const none = new SealedReadCache(0);
    none.rememberKey('e', new Uint8Array(32), none.generation);
    expect(none.size).toBe(0);
  });
});

/** The repository as an adapter without `withCompanion` (MongoDB's) offers it: event and key read apart. */
function withoutCompanions(events: EventRepository): EventRepository {
  return new Proxy(events, {
    get(target, property) {
      if (property === 'withCompanion') return undefined;
      const value: unknown = Reflect.get(target, property);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('SealedEventRepository with its read cache', () => {
  let storage: LedgerStorage;
  let cache: SealedReadCache;
  let keyring: Keyring;
  let sealed: SealedEventRepository;
  let events: StoredEvent[];

  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
    keyring = (await Keyring.open(storage.lifecycle, localKek(newKey()), () => Promise.resolve(0)))!;
    cache = new SealedReadCache();
    sealed = new SealedEventRepository(storage.events, storage.lifecycle, keyring, cache);
    events = [makeEvent(0, { action: 'a.one' }), makeEvent(1, { action: 'a.two' })];
    await sealed.append(events);
  });
  afterEach(() => storage.close());

  /** Pages fill the cache (the first read confirms the change count, the second remembers). */
  async function fillCache(): Promise<void> {
    await sealed.page({ treeSize: 2, limit: 10 });
    await sealed.page({ treeSize: 2, limit: 10 });
    expect(cache.size).toBe(2);
  }

  it('answers point reads and ranges from the cache but leaves it to pages to fill it', async () => {
    await sealed.byLeafIndex(0);
    await sealed.byLeafIndex(0);
    await sealed.range(0, 2);
    expect(cache.size).toBe(0);
    await fillCache();
    // The event and its key (which the cache has) come in one read, with the change count.
    const snapshot = jest.spyOn(storage.lifecycle, 'snapshot');
    const withCompanion = jest.spyOn(storage.events, 'withCompanion');
    expect((await sealed.byId(events[1]!.id))!.leaf).toBe(events[1]!.leaf);
    expect(snapshot).not.toHaveBeenCalled();
    expect(withCompanion.mock.calls).toEqual([[{ id: events[1]!.id }, 'dataKey']]);
    snapshot.mockRestore();
    withCompanion.mockRestore();
  });

  it('stores each data key in the events transaction and reads the same content cached or not', async () => {
    expect([...(await storage.lifecycle.get('dataKey', events.map((e) => e.id))).keys()].sort()).toEqual(events.map((e) => e.id).sort());
    const first = (await sealed.byLeafIndex(1))!;
    const again = (await sealed.byLeafIndex(1))!;
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    expect(first.leaf).toBe(events[1]!.leaf);
  });

  it('reads an event as redacted once its key is gone from the store, even if another process deleted it', async () => {
    await fillCache();
    // Straight on the store: the cache was not told (as when another server shreds it).
    await storage.lifecycle.delete('dataKey', [events[0]!.id]);
    const read = (await sealed.byLeafIndex(0))!;
    expect(read.redaction).toBeDefined();
    expect(read.leaf).toBe('');
    expect(read.actor.id).toBe('');
  });

  it('answers flat pages as its opened events flattened, a shredded one as its skeleton', async () => {
    await storage.lifecycle.delete('dataKey', [events[0]!.id]);
    const q = { treeSize: 2, limit: 10 };
    const flat = await sealed.flatPage(q);
    expect(flat.map((f) => ({ ...f, leafHash: Buffer.from(f.leafHash).toString('hex') }))).toEqual(
      (await sealed.page(q)).map((e) => ({ ...flatEvent(e), leafHash: Buffer.from(e.leafHash).toString('hex') })),
    );
    expect(flat.map((f) => [f.leafIndex, f.redaction !== null, f.leaf])).toEqual([
      [0, true, ''],
      [1, false, events[1]!.leaf],
    ]);
  });

  it('reads no key for an event it holds while the change count stays', async () => {
    await fillCache();
    const get = jest.spyOn(storage.lifecycle, 'get');
    const snapshot = jest.spyOn(storage.lifecycle, 'snapshot');
    const again = (await sealed.byLeafIndex(0))!;
    expect(again.leaf).toBe(events[0]!.leaf);
    expect(get).not.toHaveBeenCalled();
    expect(snapshot).not.toHaveBeenCalled();
    // Where the store cannot read an event with its key, the count comes with no key at all.
    const apart = new SealedEventRepository(withoutCompanions(storage.events), storage.lifecycle, keyring, cache);
    expect((await apart.byLeafIndex(0))!.leaf).toBe(events[0]!.leaf);
    expect(get).not.toHaveBeenCalled();
    expect(snapshot.mock.calls).toEqual([['dataKey', []]]);
    get.mockRestore();
    snapshot.mockRestore();
  });

  it('reads as redacted an event whose key another process destroys while a read of it waits on the store', async () => {
    await fillCache();
    // The shred lands between the read's cache lookup and its answer.
    const read = storage.events.withCompanion!.bind(storage.events);
    const during = jest.spyOn(storage.events, 'withCompanion').mockImplementationOnce(async (key, kind) => {
      await storage.lifecycle.delete('dataKey', [events[0]!.id]);
      return read(key, kind);
    });
    expect((await sealed.byLeafIndex(0))!.redaction).toBeDefined();
    during.mockRestore();
    expect((await sealed.byLeafIndex(0))!.redaction).toBeDefined();
  });

  it('reads as redacted an event whose key is destroyed while a read waits on the store, where event and key are read apart', async () => {
    const apart = new SealedEventRepository(withoutCompanions(storage.events), storage.lifecycle, keyring, cache);
    await fillCache();
    const read = storage.lifecycle.snapshot.bind(storage.lifecycle);
    const during = jest.spyOn(storage.lifecycle, 'snapshot').mockImplementationOnce(async (kind, ids) => {
      await storage.lifecycle.delete('dataKey', [events[1]!.id]);
      return read(kind, ids);
    });
    expect((await apart.byLeafIndex(1))!.redaction).toBeDefined();
    during.mockRestore();
    expect((await apart.byLeafIndex(1))!.redaction).toBeDefined();
  });

  it('reopens events under their re-wrapped keys after a key replacement elsewhere', async () => {
    await fillCache();
    const before = (await storage.lifecycle.snapshot('dataKey', [])).changeCount;
    const record = (await storage.lifecycle.get('dataKey', [events[1]!.id])).get(events[1]!.id)!;
    await storage.lifecycle.put('dataKey', [{ id: events[1]!.id, value: record }]);
    expect((await storage.lifecycle.snapshot('dataKey', [])).changeCount).toBe(before + 1);
    const get = jest.spyOn(storage.lifecycle, 'get');
    expect((await sealed.byLeafIndex(1))!.leaf).toBe(events[1]!.leaf);
    expect(get).toHaveBeenCalled();
    get.mockRestore();
  });

  it('drops an event from the cache when its key is deleted through the evicting store', async () => {
    // The first read confirms the change count (and drops what it cannot vouch for); the second fills.
    await sealed.page({ treeSize: 2, limit: 10 });
    await sealed.page({ treeSize: 2, limit: 10 });
    expect(cache.size).toBe(2);
    await evictingStore(storage.lifecycle, cache).delete('dataKey', [events[0]!.id]);
    expect(cache.size).toBe(1);
  });

  it('opens an edited row afresh (and refuses it) rather than answering from the cache', async () => {
    await fillCache();
    const row = (await storage.events.byLeafIndex(0))!;
    const tampered = { ...row, leaf: row.leaf.slice(0, -4) + (row.leaf.endsWith('AAAA') ? 'BBBB' : 'AAAA') };
    await expect(sealed.open([tampered])).rejects.toThrow(/does not open/);
  });
});
