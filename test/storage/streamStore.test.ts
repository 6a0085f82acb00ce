/**
 * The storage port's stream store (webhook subscriptions, alert rules, worker cursors, the
 * delivery lease), the same contract on both adapters: insert once, versioned
 * compare-and-set updates, listings by id within a kind.
 */
import type { LedgerStorage } from '../../src/storage/port';
import { describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

describeEachAdapter('storage contract: stream store', (adapter) => {
  let storage: LedgerStorage;
  let dispose: () => Promise<void>;

  beforeAll(async () => {
    ({ storage, dispose } = await openTestStorage(adapter, 'streams'));
  });
  afterAll(() => dispose());

  it('inserts a record once, at version 1', async () => {
    const store = storage.streams;
    expect(await store.insert('subscription', 'a', '{"n":1}')).toBe(true);
    expect(await store.insert('subscription', 'a', '{"n":2}')).toBe(false);
    expect(await store.get('subscription', 'a')).toEqual({ id: 'a', value: '{"n":1}', version: 1 });
    expect(await store.get('subscription', 'missing')).toBeUndefined();
    // Kinds are separate namespaces.
    expect(await store.insert('cursor', 'a', '{"c":0}')).toBe(true);
    expect((await store.get('subscription', 'a'))?.value).toBe('{"n":1}');
  });

  it('updates only from the version read (compare-and-set), one writer of two winning', async () => {
    const store = storage.streams;
    await store.insert('lease', 'webhooks', '{"owner":"none"}');
    const read = (await store.get('lease', 'webhooks'))!;
    const [first, second] = await Promise.all([
      store.update('lease', 'webhooks', read.version, '{"owner":"p1"}'),
      store.update('lease', 'webhooks', read.version, '{"owner":"p2"}'),
    ]);
    expect([first, second].filter(Boolean)).toHaveLength(1);
    const after = (await store.get('lease', 'webhooks'))!;
    expect(after.version).toBe(read.version + 1);
    expect(after.value).toBe(first ? '{"owner":"p1"}' : '{"owner":"p2"}');
    expect(await store.update('lease', 'webhooks', read.version, '{"owner":"late"}')).toBe(false);
    expect(await store.update('lease', 'nothing-here', 1, '{}')).toBe(false);
    expect(await store.get('lease', 'nothing-here')).toBeUndefined();
  });

  it('lists a kind in id order, after an id, up to a limit', async () => {
    const store = storage.streams;
    for (const id of ['r-c', 'r-a', 'r-b']) await store.insert('alertRule', id, `{"id":"${id}"}`);
    expect((await store.list('alertRule', { limit: 10 })).map((r) => r.id)).toEqual(['r-a', 'r-b', 'r-c']);
    expect((await store.list('alertRule', { after: 'r-a', limit: 1 })).map((r) => r.id)).toEqual(['r-b']);
    expect((await store.list('alertRule', { limit: 10 }))[0]).toEqual({ id: 'r-a', value: '{"id":"r-a"}', version: 1 });
    expect((await store.list('subscription', { limit: 10 })).map((r) => r.id)).toEqual(['a']);
  });
});
