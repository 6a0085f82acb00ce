/**
 * Data keys derived from per-event seeds (envelope.ts: deriveDataKeys): a new keyring holds a
 * derivation key, its events' records hold a seed and no key, they open and shred as wrapped
 * keys did; a keyring from before keeps wrapping each key under the KEK, and records of both
 * forms open side by side; a KEK rotation leaves seeds alone and re-wraps the derivation key.
 */
import { DataKeyDeriver, deriveDataKeys, KeyError, localKek, newKey, sealLeaf } from '../../src/lifecycle/envelope';
import { Keyring, type KeyringDoc } from '../../src/lifecycle/keyring';
import { type DataKeyDoc, type StoredDataKeyDoc } from '../../src/lifecycle/records';
import { rotateKek } from '../../src/lifecycle/rotation';
import { judgeSealed } from '../../src/lifecycle/sealedCheck';
import { dataKeyOf, SEALED_SALT, SealedEventRepository } from '../../src/lifecycle/sealedEvents';
import type { LedgerStorage, RawStoredEvent, StoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from '../storage/contract';

describe('derived data keys', () => {
  it('derives each key from its seed alone, the same in a batch as one by one', () => {
    const key = newKey();
    const seeds = Buffer.concat([newKey(), newKey(), newKey()]);
    const batch = deriveDataKeys(key, seeds);
    expect(batch).toHaveLength(96);
    for (let i = 0; i < 3; i++) expect(deriveDataKeys(key, seeds.subarray(32 * i, 32 * i + 32))).toEqual(batch.subarray(32 * i, 32 * i + 32));
    expect(deriveDataKeys(newKey(), seeds)).not.toEqual(batch);
    expect(batch.subarray(0, 32)).not.toEqual(seeds.subarray(0, 32));
    expect(() => deriveDataKeys(key, newKey().subarray(0, 31))).toThrow(KeyError);
  });

  it('derives the same keys with one cipher kept for every call, also after a refused call', () => {
    const key = newKey();
    const deriver = new DataKeyDeriver(key);
    for (let round = 0; round < 20; round++) {
      const seeds = Buffer.concat(Array.from({ length: 1 + (round % 5) }, () => newKey()));
      expect(deriver.derive(seeds)).toEqual(deriveDataKeys(key, seeds));
      if (round === 7) expect(() => deriver.derive(newKey().subarray(0, 17))).toThrow(KeyError);
    }
  });
});

describe('sealed events with derived data keys', () => {
  let storage: LedgerStorage;
  const kek = localKek(newKey());

  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
  });
  afterEach(() => storage.close());

  const event = (leafIndex: number): StoredEvent => makeEvent(leafIndex, { actor: { id: 'alice', type: 'USER' }, target: { type: 'invoice', id: `inv-${leafIndex}` } });

  async function records(): Promise<StoredDataKeyDoc[]> {
    return (await storage.lifecycle.list('dataKey', { limit: 100 })).map((r) => JSON.parse(r.value) as StoredDataKeyDoc);
  }

  /** Opens afresh: no read cache, so the key comes from its record. */
  const reader = (keyring: Keyring): SealedEventRepository => new SealedEventRepository(storage.events, storage.lifecycle, keyring);

  async function verdicts(keyring: Keyring, rows: readonly StoredEvent[]): Promise<string[]> {
    const raw: RawStoredEvent[] = rows.map((e) => ({ position: e.leafIndex, fields: { ...e } }));
    const judged = await judgeSealed(raw, storage.lifecycle, keyring);
    return raw.map((r) => judged.get(r)!.kind);
  }

  it('stores a seed per event (no key), opens it afresh and verifies it, and shreds it with its record', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0)))!;
    expect(keyring.derivationKey).toHaveLength(32);
    expect((await Keyring.readDoc(storage.lifecycle))!.wrappedDerivationKey).toEqual(expect.any(String));
    const events = [event(0), event(1), event(2)];
    await new SealedEventRepository(storage.events, storage.lifecycle, keyring).append(events);
    const stored = await records();
    expect(stored).toHaveLength(3);
    for (const doc of stored) {
      expect(Object.keys(doc).sort()).toEqual(['actor', 'leafIndex', 'seed']);
      expect(Buffer.from((doc as { seed: string }).seed, 'base64')).toHaveLength(32);
      expect(doc.actor).toBe(keyring.blind('actor.id', 'alice'));
    }
    expect(new Set(stored.map((d) => (d as { seed: string }).seed)).size).toBe(3);
    const opened = await reader(keyring).range(0, 3);
    expect(opened.map((e) => e.leaf)).toEqual(events.map((e) => e.leaf));
    expect(await verdicts(keyring, await storage.events.range(0, 3))).toEqual(['opened', 'opened', 'opened']);

    await storage.lifecycle.delete('dataKey', [events[1]!.id]);
    const after = await reader(keyring).range(0, 3);
    expect(after.map((e) => e.redaction !== undefined)).toEqual([false, true, false]);
    expect(after[1]!.leaf).toBe('');
  });

  it('does not open an event whose seed was swapped for another event\'s', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0)))!;
    const events = [event(0), event(1)];
    await new SealedEventRepository(storage.events, storage.lifecycle, keyring).append(events);
    const byId = await storage.lifecycle.get('dataKey', events.map((e) => e.id));
    await storage.lifecycle.put('dataKey', [{ id: events[0]!.id, value: byId.get(events[1]!.id)! }]);
    await expect(reader(keyring).byLeafIndex(0)).rejects.toThrow(KeyError);
    expect(await verdicts(keyring, await storage.events.range(0, 1))).toEqual(['problem']);
  });

  it('keeps wrapping each key under the KEK on a keyring from before, and opens both forms side by side', async () => {
    // A keyring as stored before derivation keys: no wrappedDerivationKey.
    const before: KeyringDoc = { kekId: kek.id, wrappedSearchKey: kek.wrap(newKey(), 'search'), sealedFrom: 0, createdAt: new Date().toISOString(), blindVersion: 2 };
    await Keyring.writeDoc(storage.lifecycle, before);
    const old = (await Keyring.open(storage.lifecycle, kek))!;
    expect(old.derivationKey).toBeUndefined();
    const [first, second] = [event(0), event(1)];
    await new SealedEventRepository(storage.events, storage.lifecycle, old).append([first!]);
    const [wrapped] = (await records()) as DataKeyDoc[];
    expect(wrapped).toMatchObject({ kekId: kek.id, wrapped: expect.any(String), leafIndex: 0 });

    // The same ledger's keyring given a derivation key: its new events get seeds, its old ones still open.
    await Keyring.writeDoc(storage.lifecycle, { ...before, wrappedDerivationKey: kek.wrap(newKey(), 'derive') });
    const current = (await Keyring.open(storage.lifecycle, kek))!;
    await new SealedEventRepository(storage.events, storage.lifecycle, current).append([second!]);
    expect((await reader(current).range(0, 2)).map((e) => e.leaf)).toEqual([first!.leaf, second!.leaf]);
    expect(await verdicts(current, await storage.events.range(0, 2))).toEqual(['opened', 'opened']);
    // A seed on a keyring without a derivation key is refused by name, not opened under some other key.
    const seeded = (await storage.lifecycle.get('dataKey', [second!.id])).get(second!.id)!;
    expect(() => dataKeyOf(old, second!.id, JSON.parse(seeded) as StoredDataKeyDoc)).toThrow(/holds no derivation key/);
  });

  it('is left alone by a KEK rotation, which re-wraps the derivation key: events still open under the new KEK', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0)))!;
    const events = [event(0), event(1)];
    await new SealedEventRepository(storage.events, storage.lifecycle, keyring).append(events);
    // One record of the old form beside them, as a ledger upgraded in place would hold.
    const e = event(2);
    const dek = newKey();
    const actor = { id: keyring.blind('actor.id', e.actor.id), type: e.actor.type };
    const target = { type: keyring.blind('target.type', e.target!.type), id: keyring.blind('target.id', e.target!.id) };
    const doc: DataKeyDoc = { kekId: kek.id, wrapped: kek.wrap(dek, `dek:${e.id}`), leafIndex: 2, actor: actor.id };
    await storage.events.append(
      [{ id: e.id, action: e.action, actor, target, outcome: e.outcome, groups: e.groups, recordedAt: e.recordedAt, salt: SEALED_SALT, leafIndex: 2, leaf: sealLeaf(dek, 2, e.id, e.leaf), leafHash: e.leafHash }],
      { kind: 'dataKey', records: [{ id: e.id, value: JSON.stringify(doc) }] },
    );
    const seedsBefore = (await records()).filter((d) => 'seed' in d);

    const newKek = localKek(newKey());
    expect(await rotateKek(storage.lifecycle, kek, newKek)).toMatchObject({ rewrapped: 1, already: 0, derived: 2 });
    expect((await records()).filter((d) => 'seed' in d)).toEqual(seedsBefore);
    await expect(Keyring.open(storage.lifecycle, kek)).rejects.toThrow(/wrong key-encryption key/);
    const rotated = (await Keyring.open(storage.lifecycle, newKek))!;
    expect(Buffer.from(rotated.derivationKey!)).toEqual(Buffer.from(keyring.derivationKey!));
    expect((await reader(rotated).range(0, 3)).map((x) => x.leaf)).toEqual([events[0]!.leaf, events[1]!.leaf, e.leaf]);
  });
});
