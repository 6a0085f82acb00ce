/**
 * The storage port's lifecycle store (wrapped keys, redactions, holds, policies, job
 * cursors), the same contract on both adapters; and, on SQLite, that a deleted record's bytes
 * are gone from the database files (secure_delete + truncating WAL checkpoint).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { LedgerStorage, LifecycleKind, LifecycleStore } from '../../src/storage/port';
import { describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

/** The kind's change count, as a snapshot of no records answers it. */
async function countOf(store: LifecycleStore, kind: LifecycleKind): Promise<number> {
  return (await store.snapshot(kind, [])).changeCount;
}

describeEachAdapter('storage contract: lifecycle store', (adapter) => {
  let storage: LedgerStorage;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ storage, dispose } = await openTestStorage(adapter, 'lifecycle'));
  });
  afterAll(() => dispose());

  it('puts, replaces, gets, lists in id order within a kind, and deletes', async () => {
    const store = storage.lifecycle;
    await store.put('dataKey', [
      { id: 'b', value: '{"n":2}' },
      { id: 'a', value: '{"n":1}' },
      { id: 'c', value: '{"n":3}' },
    ]);
    await store.put('redaction', [{ id: 'a', value: '{"other":true}' }]);
    await store.put('dataKey', [{ id: 'b', value: '{"n":22}' }]);
    expect(await store.get('dataKey', ['a', 'b', 'zz'])).toEqual(new Map([['a', '{"n":1}'], ['b', '{"n":22}']]));
    expect((await store.list('dataKey', { limit: 10 })).map((r) => r.id)).toEqual(['a', 'b', 'c']);
    expect((await store.list('dataKey', { after: 'a', limit: 1 })).map((r) => r.id)).toEqual(['b']);
    expect(await store.list('redaction', { limit: 10 })).toEqual([{ id: 'a', value: '{"other":true}' }]);
    expect(await store.delete('dataKey', ['a', 'zz'])).toBe(1);
    expect(await store.get('dataKey', ['a'])).toEqual(new Map());
    expect((await store.get('redaction', ['a'])).size).toBe(1);
  });

  it('counts replacements and deletions of a kind, not inserts of new ids nor deletes that found nothing', async () => {
    const store = storage.lifecycle;
    const start = await countOf(store, 'hold');
    const other = await countOf(store, 'job');
    expect(await store.insertNew('hold', [{ id: 'h1', value: '1' }])).toBe(true);
    expect(await countOf(store, 'hold')).toBe(start);
    await store.put('hold', [{ id: 'h1', value: '2' }]);
    expect(await countOf(store, 'hold')).toBe(start + 1);
    expect(await store.delete('hold', ['nothing'])).toBe(0);
    expect(await countOf(store, 'hold')).toBe(start + 1);
    expect(await store.delete('hold', ['h1'])).toBe(1);
    expect(await countOf(store, 'hold')).toBe(start + 2);
    expect(await countOf(store, 'job')).toBe(other);
    // The counts are no records of any kind.
    expect(await store.list('hold', { limit: 10 })).toEqual([]);
  });

  it('reads records and their kind\'s change count together', async () => {
    const store = storage.lifecycle;
    await store.put('retention', [
      { id: 'r1', value: 'one' },
      { id: 'r2', value: 'two' },
    ]);
    const count = await countOf(store, 'retention');
    expect(count).toBeGreaterThan(0);
    expect(await store.snapshot('retention', ['r1', 'r2', 'none'])).toEqual({ records: new Map([['r1', 'one'], ['r2', 'two']]), changeCount: count });
    expect(await store.snapshot('retention', ['r2'])).toEqual({ records: new Map([['r2', 'two']]), changeCount: count });
    expect(await store.snapshot('retention', [])).toEqual({ records: new Map(), changeCount: count });
    // A kind never changed counts zero; an id named like the count row is no record.
    expect(await store.snapshot('job', ['retention', 'changes'])).toEqual({ records: new Map(), changeCount: 0 });
  });

  it('insertNew refuses an id already stored', async () => {
    const store = storage.lifecycle;
    expect(await store.insertNew('keyring', [{ id: 'main', value: '1' }])).toBe(true);
    expect(await store.insertNew('keyring', [{ id: 'main', value: '2' }])).toBe(false);
    expect((await store.get('keyring', ['main'])).get('main')).toBe('1');
  });

  if (adapter === 'sqlite') {
    it('leaves no trace of a deleted value in the database files', async () => {
      const marker = `SHRED-MARKER-${Date.now()}`;
      await storage.lifecycle.put('dataKey', [{ id: 'secret', value: JSON.stringify({ k: marker }) }]);
      await storage.lifecycle.delete('dataKey', ['secret']);
      const dir = path.dirname(storage.description);
      for (const f of readdirSync(dir)) expect(readFileSync(path.join(dir, f)).includes(marker)).toBe(false);
    });
  }
});
