/**
 * KEK rotation over the storage port, on both adapters: every data key and the search key end
 * up under the new KEK; a rotation crashed between batches blocks the ledger from opening and
 * resumes where it stopped; wrong and mismatched keys are refused; a webhook secret sealed
 * before the rotation opens after it, untouched.
 */
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { KeyConfigurationError, Keyring } from '../../src/lifecycle/keyring';
import type { DataKeyDoc } from '../../src/lifecycle/records';
import { RotationError, rotateKek } from '../../src/lifecycle/rotation';
import type { SelfEvent } from '../../src/ledger/selfEvent';
import type { LedgerStorage } from '../../src/storage/port';
import { Subscriptions } from '../../src/stream/subscriptions';
import { describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

const KEYS = 23;

describeEachAdapter('KEK rotation', (adapter) => {
  let storage: LedgerStorage;
  let dispose: () => Promise<void>;
  const oldKek = localKek(newKey());
  const newKek = localKek(newKey());
  const deks = new Map<string, Uint8Array>();

  beforeAll(async () => {
    ({ storage, dispose } = await openTestStorage(adapter, 'rotation'));
    await Keyring.open(storage.lifecycle, oldKek, async () => 0);
    const records = [];
    for (let i = 0; i < KEYS; i++) {
      const id = `event-${String(i).padStart(3, '0')}`;
      const dek = newKey();
      deks.set(id, dek);
      const doc: DataKeyDoc = { kekId: oldKek.id, wrapped: oldKek.wrap(dek, `dek:${id}`), leafIndex: i, actor: 'b1:x' };
      records.push({ id, value: JSON.stringify(doc) });
    }
    await storage.lifecycle.put('dataKey', records);
  });
  afterAll(() => dispose());

  async function wrappedUnder(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const r of await storage.lifecycle.list('dataKey', { limit: 1000 })) {
      const doc = JSON.parse(r.value) as DataKeyDoc;
      out.set(doc.kekId, (out.get(doc.kekId) ?? 0) + 1);
    }
    return out;
  }

  it('refuses the same key twice, and a current key that is not the ledger\'s', async () => {
    await expect(rotateKek(storage.lifecycle, oldKek, oldKek)).rejects.toMatchObject({ exitCode: 2 });
    const stranger = localKek(newKey());
    await expect(rotateKek(storage.lifecycle, stranger, newKek)).rejects.toThrow(/wrong key-encryption key/);
  });

  it('resumes a rotation that crashed between batches; the ledger does not open meanwhile', async () => {
    const before = (await Keyring.open(storage.lifecycle, oldKek))!;
    const searchKey = before.searchKey;
    const subscriptions = (seal: Keyring) => new Subscriptions({ store: storage.streams, seal, signedSize: async () => 0, record: async () => undefined });
    const hook = await subscriptions(before).create({ url: 'https://receiver.test/hook', filter: {}, secret: 'whsec_sealed-before-the-rotation' }, 'key-1', () => ({}) as SelfEvent);
    const sealedBefore = (await storage.streams.get('subscription', hook.doc.id))!.value;
    let batches = 0;
    await expect(
      rotateKek(storage.lifecycle, oldKek, newKek, {
        batch: 5,
        beforeBatch: () => {
          if (++batches === 3) throw new Error('crash');
        },
      }),
    ).rejects.toThrow('crash');
    expect(await wrappedUnder()).toEqual(new Map([[newKek.id, 10], [oldKek.id, KEYS - 10]]));
    await expect(Keyring.open(storage.lifecycle, oldKek)).rejects.toThrow(KeyConfigurationError);
    await expect(Keyring.open(storage.lifecycle, oldKek)).rejects.toThrow(/rotation .* is unfinished/);
    // Another new key cannot take over a rotation under way.
    await expect(rotateKek(storage.lifecycle, oldKek, localKek(newKey()))).rejects.toThrow(RotationError);

    const resumed = await rotateKek(storage.lifecycle, oldKek, newKek, { batch: 5 });
    expect(resumed).toMatchObject({ rewrapped: KEYS - 10, already: 10, resumed: true });
    expect(await wrappedUnder()).toEqual(new Map([[newKek.id, KEYS]]));
    const keyring = (await Keyring.open(storage.lifecycle, newKek))!;
    expect(Buffer.from(keyring.searchKey)).toEqual(Buffer.from(searchKey));
    // The same search key and the same blind format: every stored blind index still finds its events.
    expect(keyring.blindVersion).toBe(before.blindVersion);
    // Sealed under a key derived from the search key: the rotation need not touch it, and did not.
    expect((await storage.streams.get('subscription', hook.doc.id))!.value).toBe(sealedBefore);
    expect((await subscriptions(keyring).get(hook.doc.id))?.secret).toBe('whsec_sealed-before-the-rotation');
    for (const r of await storage.lifecycle.list('dataKey', { limit: 1000 })) {
      const doc = JSON.parse(r.value) as DataKeyDoc;
      expect(Buffer.from(newKek.unwrap(doc.wrapped, `dek:${r.id}`))).toEqual(Buffer.from(deks.get(r.id)!));
    }
    await expect(Keyring.open(storage.lifecycle, oldKek)).rejects.toThrow(/wrong key-encryption key/);
    // Run again after it finished: nothing left to do.
    expect(await rotateKek(storage.lifecycle, oldKek, newKek)).toMatchObject({ rewrapped: 0, already: KEYS });
  });
});
