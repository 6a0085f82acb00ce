/**
 * The storage port's stream store (webhook subscriptions, alert rules, worker cursors, the
 * delivery lease), the same contract on both adapters: insert once, versioned
 * compare-and-set updates, listings by id within a kind; and webhook secrets sealed in it under
 * the keyring when encryption at rest is on.
 */
import { KeyError, localKek, newKey } from '../../src/lifecycle/envelope';
import { Keyring } from '../../src/lifecycle/keyring';
import type { SelfEvent } from '../../src/ledger/selfEvent';
import type { LedgerStorage } from '../../src/storage/port';
import { Subscriptions } from '../../src/stream/subscriptions';
import { StreamLease } from '../../src/stream/streamLease';
import { openMongoStorage } from '../../src/storage/mongodb/mongoStorage';
import { claimKey, STALE_CLAIM_MS } from '../../src/storage/mongodb/streamStore';
import { openTestDatabase } from '../support/testDatabase';
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

  it('keeps a named lease with one holder: renewed by it, refused to others, taken over once expired or released', async () => {
    let now = 1_000_000;
    const clock = (): number => now;
    const a = new StreamLease(storage.streams, 'deliver', 'process-a', 10_000, clock);
    const b = new StreamLease(storage.streams, 'deliver', 'process-b', 10_000, clock);
    expect(await a.hold()).toBe(true);
    expect(await b.hold()).toBe(false);
    now += 5_000;
    expect(await a.hold()).toBe(true);
    now += 9_000;
    expect(await b.hold()).toBe(false);
    now += 2_000;
    expect(await b.hold()).toBe(true);
    expect(await a.hold()).toBe(false);
    await b.release();
    expect(await a.hold()).toBe(true);
    // Another name is another lease.
    expect(await new StreamLease(storage.streams, 'evaluate', 'process-b', 10_000, clock).hold()).toBe(true);
  });

  if (adapter === 'mongodb') {
    it('takes over a claim left by a writer that died between claiming and updating, once it is stale', async () => {
      const t = await openTestDatabase('claims');
      const store = await openMongoStorage({ uri: t.uri, dbName: t.name, create: true });
      try {
        await store.streams.insert('lease', 'l', '{"owner":"dead"}');
        const claims = t.db.collection<{ _id: string; kind: string; value: string; version: number }>('streams');
        // A fresh claim: a writer is between its two steps; others fail.
        await claims.insertOne({ _id: claimKey('lease', 'l', 2), kind: 'claim', value: new Date().toISOString(), version: 2 });
        expect(await store.streams.update('lease', 'l', 1, '{"owner":"b"}')).toBe(false);
        // The same claim, older than a live writer ever holds one: taken over.
        await claims.updateOne({ _id: claimKey('lease', 'l', 2) }, { $set: { value: new Date(Date.now() - STALE_CLAIM_MS - 1000).toISOString() } });
        expect(await store.streams.update('lease', 'l', 1, '{"owner":"b"}')).toBe(true);
        expect(await store.streams.get('lease', 'l')).toEqual({ id: 'l', value: '{"owner":"b"}', version: 2 });
        expect(await claims.countDocuments({ kind: 'claim' })).toBe(0);
      } finally {
        await store.close();
        await t.dispose();
      }
    });
  }

  it('stores webhook secrets sealed under the keyring (bound to their record), reads one stored in plaintext before encryption, and seals it', async () => {
    const fresh = await openTestStorage(adapter, 'secrets');
    try {
      const store = fresh.storage.streams;
      const keyring = (await Keyring.open(fresh.storage.lifecycle, localKek(newKey()), async () => 0))!;
      const deps = { store, signedSize: async () => 0, record: async () => undefined };
      const plain = new Subscriptions(deps);
      const sealed = new Subscriptions({ ...deps, seal: keyring });
      const event = (): SelfEvent => ({}) as SelfEvent;
      const input = (secret: string) => ({ url: 'https://receiver.test/hook', filter: {}, secret });
      const raw = async (id: string) => (await store.get('subscription', id))!.value;

      const old = await plain.create(input('whsec_before-encryption-MARK1'), 'key-1', event);
      expect(await raw(old.doc.id)).toContain('whsec_before-encryption-MARK1');
      expect((await sealed.get(old.doc.id))?.secret).toBe('whsec_before-encryption-MARK1');

      const made = await sealed.create(input('whsec_after-encryption-MARK2'), 'key-1', event);
      expect(made.secret).toBe('whsec_after-encryption-MARK2');
      expect(await raw(made.doc.id)).not.toContain('MARK2');
      expect(JSON.parse(await raw(made.doc.id))).toMatchObject({ sealedSecret: expect.stringMatching(/^sealed1:/) });
      expect((await sealed.get(made.doc.id))?.secret).toBe('whsec_after-encryption-MARK2');
      expect((await sealed.list()).map((d) => d.secret).sort()).toEqual(['whsec_after-encryption-MARK2', 'whsec_before-encryption-MARK1']);
      // Without the keyring a sealed secret is refused, not served as something else.
      await expect(plain.get(made.doc.id)).rejects.toMatchObject({ code: 'KEY_CONFIGURATION' });

      // A sealed secret copied onto another subscription does not open there.
      const moved = JSON.parse(await raw(old.doc.id)) as Record<string, unknown>;
      delete moved.secret;
      moved.sealedSecret = (JSON.parse(await raw(made.doc.id)) as { sealedSecret: string }).sealedSecret;
      const version = (await store.get('subscription', old.doc.id))!.version;
      expect(await store.update('subscription', old.doc.id, version, JSON.stringify(moved))).toBe(true);
      await expect(sealed.get(old.doc.id)).rejects.toMatchObject({ code: 'CORRUPT', cause: expect.any(KeyError) });
      await expect(sealed.list()).rejects.toMatchObject({ code: 'CORRUPT' });
      // The delivery worker's listing leaves it out, reported, and keeps the others.
      const unreadable: string[] = [];
      expect((await sealed.list((id) => unreadable.push(id))).map((d) => d.id)).toEqual([made.doc.id]);
      expect(unreadable).toEqual([old.doc.id]);
      moved.secret = 'whsec_before-encryption-MARK1';
      delete moved.sealedSecret;
      expect(await store.update('subscription', old.doc.id, version + 1, JSON.stringify(moved))).toBe(true);

      // The worker's start-up sweep seals what was stored in plaintext; the next write would too.
      expect(await sealed.sealPlaintextSecrets()).toBe(1);
      expect(await raw(old.doc.id)).not.toContain('MARK1');
      expect((await sealed.get(old.doc.id))?.secret).toBe('whsec_before-encryption-MARK1');
      expect(await sealed.sealPlaintextSecrets()).toBe(0);
      expect(await plain.sealPlaintextSecrets()).toBe(0);
    } finally {
      await fresh.dispose();
    }
  });
});
