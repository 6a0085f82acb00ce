/**
 * Appends committed in the append worker (what the server does) behave as inline ones: the
 * same rows, the same typed errors, companions in the same transaction, and the rows visible
 * to the server's own connection as soon as the append resolves; a sealed ledger's batches
 * sealed there too.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { localKek, newKey } from '../../src/lifecycle/envelope';
import { Keyring } from '../../src/lifecycle/keyring';
import { SEALED_SALT, SealedEventRepository } from '../../src/lifecycle/sealedEvents';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../../src/storage/errors';
import type { AppendPart, LedgerStorage, StoredEvent } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent } from './contract';

describe('SQLite appends in the append worker', () => {
  let dir: string;
  let storage: LedgerStorage;
  /** The ledger's one key-encryption key: the keyring, once made, opens only under it. */
  const kek = localKek(newKey());

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-append-worker-'));
    storage = await openSqliteStorage({ file: path.join(dir, 'ledger.db'), create: true, appendInWorker: true });
  });
  afterAll(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores events, their groups, idempotency records, counts and companions, readable at once', async () => {
    const a = makeEvent(0, { action: 'w.one', groups: ['g1', 'g2'], idempotencyKey: 'k:1:a', contentDigest: 'a'.repeat(64) });
    const b = makeEvent(1, { action: 'w.two', groups: ['g2'] });
    await storage.events.append([a, b], { kind: 'dataKey', records: [{ id: a.id, value: 'key-a' }] });
    expect((await storage.events.range(0, 5)).map((e) => [e.leafIndex, e.action, e.leaf])).toEqual([
      [0, 'w.one', a.leaf],
      [1, 'w.two', b.leaf],
    ]);
    expect((await storage.events.page({ treeSize: 2, limit: 10, groupIds: ['g1'] })).map((e) => e.leafIndex)).toEqual([0]);
    expect(await storage.events.countBy('groups', {}, 2)).toEqual([
      { key: 'g2', count: 2 },
      { key: 'g1', count: 1 },
    ]);
    expect([...(await storage.idempotency.lookup(['k:1:a'])).keys()]).toEqual(['k:1:a']);
    expect(await storage.lifecycle.get('dataKey', [a.id])).toEqual(new Map([[a.id, 'key-a']]));
  });

  it('fails a taken leaf index with LeafIndexTakenError, storing nothing of the call', async () => {
    const late = makeEvent(1, { action: 'w.lost' });
    const err = await storage.events.append([late, makeEvent(2)], { kind: 'dataKey', records: [{ id: late.id, value: 'lost' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeafIndexTakenError);
    expect((err as LeafIndexTakenError).leafIndex).toBe(1);
    expect(await storage.events.byLeafIndex(2)).toBeUndefined();
    expect(await storage.lifecycle.get('dataKey', [late.id])).toEqual(new Map());
  });

  it('fails a stored event id with DuplicateKeyError, and an event the table refuses with EventRejectedError', async () => {
    const first = (await storage.events.byLeafIndex(0))!;
    const twin = { ...makeEvent(2), id: first.id };
    const dup = await storage.events.append([twin]).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(DuplicateKeyError);
    expect((dup as DuplicateKeyError).field).toBe('id');
    // A missing action breaks a NOT NULL constraint: the event's own fault.
    const bad = { ...makeEvent(2), action: null as unknown as string };
    const rejected = await storage.events.append([bad]).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(EventRejectedError);
    await storage.events.append([makeEvent(2, { action: 'w.three' })]);
    expect((await storage.events.byLeafIndex(2))!.action).toBe('w.three');
  });

  it('commits concurrent appends in the order sent', async () => {
    await Promise.all([storage.events.append([makeEvent(3)]), storage.events.append([makeEvent(4)]), storage.events.append([makeEvent(5)])]);
    expect((await storage.events.range(0, 10)).map((e) => e.leafIndex)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('seals a sealed ledger\'s batch in the worker, storing skeletons, seeds and no content in clear', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(6)))!;
    expect(keyring.sealingKeys).toBeDefined();
    const marker = `SEALED-IN-WORKER-${Date.now()}`;
    const events = [6, 7].map((i) => makeEvent(i, { action: 'w.sealed', actor: { id: `${marker}-actor`, type: 'USER' }, target: { type: 'invoice', id: `${marker}-${i}` } }));
    const appendParts = jest.spyOn(storage.events, 'appendParts');
    const sealed = new SealedEventRepository(storage.events, storage.lifecycle, keyring);
    await sealed.append(events);
    expect(appendParts).toHaveBeenCalledTimes(1);
    appendParts.mockRestore();
    const rows = await storage.events.range(6, 8);
    expect(rows.map((r) => [r.leaf.startsWith('sealed1:'), r.salt === SEALED_SALT, r.actor.id === keyring.blind('actor.id', `${marker}-actor`)])).toEqual([
      [true, true, true],
      [true, true, true],
    ]);
    expect(rows.map((r) => r.target!.id)).toEqual(events.map((e) => keyring.blind('target.id', e.target!.id)));
    const records = await storage.lifecycle.get('dataKey', events.map((e) => e.id));
    expect([...records.values()].map((v) => Object.keys(JSON.parse(v) as object).sort())).toEqual([
      ['actor', 'leafIndex', 'seed'],
      ['actor', 'leafIndex', 'seed'],
    ]);
    // Opened afresh by a reader that never saw the keys: the original content.
    const opened = await new SealedEventRepository(storage.events, storage.lifecycle, keyring).range(6, 8);
    expect(opened.map((e) => e.leaf)).toEqual(events.map((e) => e.leaf));
    for (const f of await readdir(dir)) expect((await readFile(path.join(dir, f))).includes(marker)).toBe(false);
  });

  it('takes a big sealed batch in parts (the first sealed in the worker, the rest on this thread) and keeps all of it', async () => {
    const keyring = (await Keyring.open(storage.lifecycle, kek, () => Promise.resolve(8)))!;
    const from = await storage.events.estimatedCount();
    const marker = `PARTS-${Date.now()}`;
    const events = Array.from({ length: 600 }, (_, i) => makeEvent(from + i, { action: 'w.parts', target: { type: 'invoice', id: `${marker}-${i}` } }));
    const parts: number[] = [];
    const inner = storage.events;
    const counting: typeof inner = Object.assign(Object.create(inner) as typeof inner, {
      appendParts: (all: Iterable<AppendPart>) =>
        inner.appendParts!(
          (function* () {
            for (const part of all) {
              parts.push(part.events.length);
              yield part;
            }
          })(),
        ),
    });
    await new SealedEventRepository(counting, storage.lifecycle, keyring).append(events);
    expect(parts).toEqual([256, 256, 88]);
    const opened = await new SealedEventRepository(storage.events, storage.lifecycle, keyring).range(from, from + 600);
    expect(opened.map((e) => e.leaf)).toEqual(events.map((e) => e.leaf));
    expect((await storage.lifecycle.get('dataKey', events.map((e) => e.id))).size).toBe(600);
    for (const f of await readdir(dir)) expect((await readFile(path.join(dir, f))).includes(marker)).toBe(false);
  });

  describe('an append in parts is all or nothing', () => {
    const part = (events: StoredEvent[], id: string): AppendPart => ({ events, companions: { kind: 'dataKey', records: events.map((e) => ({ id: e.id, value: id })) } });

    async function nothingStoredOf(events: StoredEvent[]): Promise<void> {
      for (const e of events) expect(await storage.events.byLeafIndex(e.leafIndex)).toBeUndefined();
      expect(await storage.lifecycle.get('dataKey', events.map((e) => e.id))).toEqual(new Map());
    }

    it('a later part that fails takes the earlier parts with it', async () => {
      const from = await storage.events.estimatedCount();
      const a = [makeEvent(from), makeEvent(from + 1)];
      // Its second event repeats a stored event id: refused by the table, in the second part.
      const b = [makeEvent(from + 2), { ...makeEvent(from + 3), id: (await storage.events.byLeafIndex(0))!.id }];
      const err = await storage.events.appendParts!([part(a, 'a'), part(b, 'b')]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DuplicateKeyError);
      await nothingStoredOf([...a, b[0]!]);
      expect(await storage.events.byLeafIndex(from + 3)).toBeUndefined();
    });

    it('parts that do not follow each other are refused, keeping nothing', async () => {
      const from = await storage.events.estimatedCount();
      const a = [makeEvent(from)];
      const gap = [makeEvent(from + 2)];
      const err = await storage.events.appendParts!([part(a, 'a'), part(gap, 'gap')]).catch((e: unknown) => e);
      expect((err as Error).message).toMatch(/does not follow/);
      await nothingStoredOf([...a, ...gap]);
    });

    it('a caller that fails to make a part gets its own error, and the worker keeps nothing and goes on', async () => {
      const from = await storage.events.estimatedCount();
      const a = [makeEvent(from), makeEvent(from + 1)];
      const failing = (function* (): Generator<AppendPart> {
        yield part(a, 'a');
        throw new Error('sealing failed');
      })();
      await expect(storage.events.appendParts!(failing)).rejects.toThrow('sealing failed');
      await nothingStoredOf(a);
      // The next append, whole or in parts, is committed as usual.
      const next = [makeEvent(from), makeEvent(from + 1), makeEvent(from + 2)];
      await storage.events.appendParts!([part(next.slice(0, 1), 'n'), part(next.slice(1), 'n')]);
      expect((await storage.events.range(from, from + 3)).map((e) => e.id)).toEqual(next.map((e) => e.id));
      expect((await storage.lifecycle.get('dataKey', next.map((e) => e.id))).size).toBe(3);
    });

    it('no parts at all is an empty append', async () => {
      const size = await storage.events.estimatedCount();
      await storage.events.appendParts!([]);
      expect(await storage.events.estimatedCount()).toBe(size);
    });
  });
});
