/**
 * Where a sealed event's skeleton MAC lives: new events carry none in their leaf text (the
 * leaf vouches for a live event's skeleton), a redaction takes it from the opened leaf into
 * the redaction record, and verify-db checks a redacted skeleton against it; events stored
 * with the MAC in their leaf text still open and verify as before.
 */
import { redactionMac } from '../../src/ledger/lifecycle';
import { localKek, newKey, sealLeaf } from '../../src/lifecycle/envelope';
import { Keyring } from '../../src/lifecycle/keyring';
import { type DataKeyDoc, leafKey, type RedactionDoc } from '../../src/lifecycle/records';
import { judgeSealed } from '../../src/lifecycle/sealedCheck';
import { openedSkeletonMac, SEALED_SALT, SealedEventRepository, skeletonMac } from '../../src/lifecycle/sealedEvents';
import type { LedgerStorage, RawStoredEvent, StoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from '../storage/contract';

describe('skeleton MACs of sealed events', () => {
  let storage: LedgerStorage;
  let keyring: Keyring;
  let sealed: SealedEventRepository;

  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
    keyring = (await Keyring.open(storage.lifecycle, localKek(newKey()), () => Promise.resolve(0)))!;
    sealed = new SealedEventRepository(storage.events, storage.lifecycle, keyring);
  });
  afterEach(() => storage.close());

  const event = (leafIndex: number): StoredEvent => makeEvent(leafIndex, { actor: { id: 'alice', type: 'USER' }, target: { type: 'invoice', id: `inv-${leafIndex}` } });

  async function verdicts(rows: readonly StoredEvent[]): Promise<string[]> {
    const raw: RawStoredEvent[] = rows.map((e) => ({ position: e.leafIndex, fields: { ...e } }));
    const judged = await judgeSealed(raw, storage.lifecycle, keyring);
    return raw.map((r) => {
      const v = judged.get(r)!;
      return v.kind === 'problem' ? v.problem : v.kind;
    });
  }

  /** What Lifecycle.shred does: the record (with the skeleton MAC from the opened leaf), then the key gone. */
  async function redact(leafIndex: number, record: (doc: RedactionDoc) => RedactionDoc = (d) => d): Promise<void> {
    const opened = (await sealed.byLeafIndex(leafIndex))!;
    const doc: RedactionDoc = { by: 99, reason: 'test', mac: redactionMac(keyring.searchKey, leafIndex, 99, 'test'), skeleton: openedSkeletonMac(keyring, opened) };
    await storage.lifecycle.put('redaction', [{ id: leafKey(leafIndex), value: JSON.stringify(record(doc)) }]);
    await storage.lifecycle.delete('dataKey', [opened.id]);
  }

  it('stores no MAC in a new leaf text, and verifies live and redacted events by their leaf and their record', async () => {
    await sealed.append([event(0), event(1)]);
    const rows = await storage.events.range(0, 2);
    for (const r of rows) expect(r.leaf).toMatch(/^sealed1:[A-Za-z0-9+/]+=*$/);
    await redact(1);
    expect(await verdicts(rows)).toEqual(['opened', 'redacted']);
    // An edit to the redacted skeleton is named, though no leaf text covers it any more.
    expect(await verdicts([{ ...rows[1]!, action: 'user.logout' }])).toEqual([expect.stringMatching(/skeleton .* was edited/)]);
    expect(await verdicts([{ ...rows[1]!, leafHash: new Uint8Array(32) }])).toEqual([expect.stringMatching(/skeleton .* was edited/)]);
  });

  it('names a redaction record of a MAC-less event that holds no skeleton MAC', async () => {
    await sealed.append([event(0)]);
    await redact(0, ({ skeleton: _, ...doc }) => doc);
    expect(await verdicts(await storage.events.range(0, 1))).toEqual(['its redaction record holds no skeleton MAC']);
  });

  it('still opens and verifies events stored with the MAC in their leaf text', async () => {
    // Stored as before: `sealed1:<MAC hex>:<blob>`, the MAC over the stored skeleton.
    const e = event(0);
    const dek = newKey();
    const actor = { id: keyring.blind('actor.id', e.actor.id), type: e.actor.type };
    const target = { type: keyring.blind('target.type', e.target!.type), id: keyring.blind('target.id', e.target!.id) };
    const skeleton: StoredEvent = { id: e.id, action: e.action, actor, target, outcome: e.outcome, groups: e.groups, recordedAt: e.recordedAt, salt: SEALED_SALT, leafIndex: 0, leaf: '', leafHash: e.leafHash };
    const mac = skeletonMac(keyring.searchKey, skeleton);
    const blob = sealLeaf(dek, 0, e.id, e.leaf).slice('sealed1:'.length);
    const key: DataKeyDoc = { kekId: keyring.kek.id, wrapped: keyring.kek.wrap(dek, `dek:${e.id}`), leafIndex: 0, actor: actor.id };
    await storage.events.append([{ ...skeleton, leaf: `sealed1:${mac}:${blob}` }], { kind: 'dataKey', records: [{ id: e.id, value: JSON.stringify(key) }] });
    expect((await sealed.byLeafIndex(0))!.leaf).toBe(e.leaf);
    const rows = await storage.events.range(0, 1);
    expect(await verdicts(rows)).toEqual(['opened']);
    expect(await verdicts([{ ...rows[0]!, action: 'user.logout' }])).toEqual([expect.stringMatching(/skeleton .* was edited/)]);
    // Redacted by a record from before (no skeleton MAC in it): the leaf text's MAC still guards it.
    await redact(0, ({ skeleton: _, ...doc }) => doc);
    expect(await verdicts(rows)).toEqual(['redacted']);
    expect(await verdicts([{ ...rows[0]!, outcome: 'FAILURE' }])).toEqual([expect.stringMatching(/skeleton .* was edited/)]);
  });
});
