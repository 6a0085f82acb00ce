/**
 * The cache of opened sealed events never outlives what the store says: a destroyed key, a
 * re-wrapped key or an edited row each read as the store has them, cached or not.
 */
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { Keyring } from '../../src/lifecycle/keyring';
import { evictingStore, SealedReadCache } from '../../src/lifecycle/sealedReadCache';
import { SealedEventRepository } from '../../src/lifecycle/sealedEvents';
import { flatEvent } from '../../src/storage/flatEvent';
import type { LedgerStorage, StoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from '../storage/contract';

describe('SealedReadCache', () => {
  it('answers only for the same key record and sealed leaf, and forgets on request', () => {
    const cache = new SealedReadCache(10);
    const key = new Uint8Array(32).fill(7);
    const opened = makeEvent(0);
    cache.rememberOpened('e1', 'record-1', key, 'sealed-1', opened);
    expect(cache.key('e1', 'record-1')).toBe(key);
    expect(cache.opened('e1', 'record-1', 'sealed-1')).toBe(opened);
    expect(cache.key('e1', 'record-2')).toBeUndefined();
    expect(cache.opened('e1', 'record-2', 'sealed-1')).toBeUndefined();
    expect(cache.opened('e1', 'record-1', 'sealed-2')).toBeUndefined();
    cache.forget(['e1']);
    expect(cache.key('e1', 'record-1')).toBeUndefined();
  });

  it('holds at most its limit, dropping the oldest first; a limit of 0 holds nothing', () => {
    const cache = new SealedReadCache(3);
    for (let i = 0; i < 5; i++) cache.rememberKey(`e${i}`, 'r', new Uint8Array(32));
    expect(cache.size).toBe(3);
    expect(cache.key('e0', 'r')).toBeUndefined();
    expect(cache.key('e4', 'r')).toBeDefined();
    // Remembered again, an entry counts as the newest; forgotten ones leave room at once.
    cache.rememberKey('e2', 'r2', new Uint8Array(32));
    cache.rememberKey('e5', 'r', new Uint8Array(32));
    expect(cache.key('e3', 'r')).toBeUndefined();
    expect(cache.key('e2', 'r2')).toBeDefined();
    cache.forget(['e4']);
    cache.rememberKey('e6', 'r', new Uint8Array(32));
    expect(['e2', 'e4', 'e5', 'e6'].map((id) => cache.key(id, id === 'e2' ? 'r2' : 'r') !== undefined)).toEqual([true, false, true, true]);
    // Many times round, with entries replaced and forgotten between: still the newest `limit`.
    for (let i = 0; i < 100; i++) {
      cache.rememberKey(`x${i}`, 'r', new Uint8Array(32));
      if (i % 7 === 3) cache.rememberKey(`x${i}`, 'r-again', new Uint8Array(32));
      if (i % 11 === 5) cache.forget([`x${i}`]);
    }
    expect(cache.size).toBe(3);
    expect(['x97', 'x98', 'x99'].every((id) => cache.key(id, 'r') !== undefined)).toBe(true);
    const none = new SealedReadCache(0);
    none.rememberKey('e', 'r', new Uint8Array(32));
    expect(none.size).toBe(0);
  });
});

describe('SealedEventRepository with its read cache', () => {
  let storage: LedgerStorage;
  let cache: SealedReadCache;
  let sealed: SealedEventRepository;
  let events: StoredEvent[];

  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
    const keyring = (await Keyring.open(storage.lifecycle, localKek(newKey()), () => Promise.resolve(0)))!;
    cache = new SealedReadCache();
    sealed = new SealedEventRepository(storage.events, storage.lifecycle, keyring, cache);
    events = [makeEvent(0, { action: 'a.one' }), makeEvent(1, { action: 'a.two' })];
    await sealed.append(events);
  });
  afterEach(() => storage.close());

  it('stores each data key in the events transaction and reads the same content cached or not', async () => {
    expect([...(await storage.lifecycle.get('dataKey', events.map((e) => e.id))).keys()].sort()).toEqual(events.map((e) => e.id).sort());
    const first = (await sealed.byLeafIndex(1))!;
    const again = (await sealed.byLeafIndex(1))!;
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    expect(first.leaf).toBe(events[1]!.leaf);
  });

  it('reads an event as redacted once its key is gone from the store, even if another process deleted it', async () => {
    await sealed.byLeafIndex(0);
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

  it('drops an event from the cache when its key is deleted through the evicting store', async () => {
    await sealed.byLeafIndex(0);
    expect(cache.size).toBe(2);
    await evictingStore(storage.lifecycle, cache).delete('dataKey', [events[0]!.id]);
    expect(cache.size).toBe(1);
  });

  it('opens an edited row afresh (and refuses it) rather than answering from the cache', async () => {
    await sealed.byLeafIndex(0);
    const row = (await storage.events.byLeafIndex(0))!;
    const tampered = { ...row, leaf: row.leaf.slice(0, -4) + (row.leaf.endsWith('AAAA') ? 'BBBB' : 'AAAA') };
    await expect(sealed.open([tampered])).rejects.toThrow(/does not open/);
  });
});
