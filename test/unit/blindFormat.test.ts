/**
 * Blind index formats: a new keyring stores the short format 2; a keyring from before it keeps
 * format 1, so the blind values already stored in its rows still find their events; a format
 * this server does not know refuses start-up rather than searching with the wrong values.
 */
import { judgeSealed } from '../../src/lifecycle/sealedCheck';
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { KeyConfigurationError, Keyring, type KeyringDoc } from '../../src/lifecycle/keyring';
import { SealedEventRepository } from '../../src/lifecycle/sealedEvents';
import type { LedgerStorage, RawStoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from '../storage/contract';

describe('blind index formats', () => {
  let storage: LedgerStorage;
  const kek = localKek(newKey());

  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
  });
  afterEach(() => storage.close());

  /** Appends two events through a sealed repository; returns it and the stored (skeleton) rows. */
  async function appendTwo(keyring: Keyring, from: number): Promise<{ sealed: SealedEventRepository; rows: { actor: string; target: string }[] }> {
    const sealed = new SealedEventRepository(storage.events, storage.lifecycle, keyring);
    await sealed.append([
      makeEvent(from, { actor: { id: 'alice', type: 'USER' }, target: { type: 'invoice', id: `inv-${from}` } }),
      makeEvent(from + 1, { actor: { id: 'bob', type: 'USER' }, target: { type: 'invoice', id: `inv-${from + 1}` } }),
    ]);
    const rows = await storage.events.range(from, from + 2);
    return { sealed, rows: rows.map((r) => ({ actor: r.actor.id, target: r.target!.id })) };
  }

  async function found(sealed: SealedEventRepository, query: { actorId?: string; targetId?: string }): Promise<number[]> {
    return (await sealed.page({ ...query, treeSize: 100, limit: 10 })).map((e) => e.leafIndex);
  }

  it('stores format 2 on a new ledger, and searches by it', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0)))!;
    expect(keyring.blindVersion).toBe(2);
    const { sealed, rows } = await appendTwo(keyring, 0);
    for (const r of rows) {
      expect(r.actor).toMatch(/^b2:[\w-]{22}$/);
      expect(r.target).toMatch(/^b2:[\w-]{22}$/);
    }
    expect(await found(sealed, { actorId: 'alice' })).toEqual([0]);
    expect(await found(sealed, { targetId: 'inv-1' })).toEqual([1]);
  });

  it('keeps format 1 on a ledger whose keyring predates format 2: its stored values keep finding their events', async () => {
    await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0));
    const { blindVersion: _, ...old } = (await Keyring.readDoc(storage.lifecycle))!;
    await Keyring.writeDoc(storage.lifecycle, old);
    const before = (await Keyring.open(storage.lifecycle, kek))!;
    expect(before.blindVersion).toBe(1);
    await appendTwo(before, 0);
    // Reopened (a restart), events appended before and after are found alike.
    const keyring = (await Keyring.open(storage.lifecycle, kek))!;
    const { sealed, rows } = await appendTwo(keyring, 2);
    expect(rows[0]!.actor).toMatch(/^b1:[0-9a-f]{64}$/);
    expect(await found(sealed, { actorId: 'alice' })).toEqual([0, 2]);
    expect(await found(sealed, { targetId: 'inv-1' })).toEqual([1]);
    const counts = await sealed.countBy('actor.id', {}, 4);
    expect(counts).toEqual([
      { key: 'alice', count: 2 },
      { key: 'bob', count: 2 },
    ]);
    // verify-db's check agrees with the stored values.
    const raw: RawStoredEvent[] = (await storage.events.range(0, 4)).map((e) => ({ position: e.leafIndex, fields: { ...e } }));
    const verdicts = await judgeSealed(raw, storage.lifecycle, keyring);
    expect([...verdicts.values()].map((v) => v.kind)).toEqual(['opened', 'opened', 'opened', 'opened']);
  });

  it('refuses to open a keyring of a blind format it does not know', async () => {
    await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(0));
    const doc = (await Keyring.readDoc(storage.lifecycle))!;
    await Keyring.writeDoc(storage.lifecycle, { ...doc, blindVersion: 9 } as unknown as KeyringDoc);
    await expect(Keyring.open(storage.lifecycle, kek)).rejects.toThrow(KeyConfigurationError);
    await expect(Keyring.open(storage.lifecycle, kek)).rejects.toThrow(/blind index format 9/);
  });
});
