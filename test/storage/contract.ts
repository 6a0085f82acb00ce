/**
 * The storage port's contract, run against every adapter (sqlite.test.ts, mongodb.test.ts).
 * Each adapter test file calls `describeStorageContract` with a factory that opens a fresh,
 * empty ledger database per call.
 *
 * Queries and counts are checked against a plain in-memory reference (filter, sort by leaf
 * index, take the limit), on a fixed data set for every filter and on random ones
 * (fast-check). Nothing here sleeps or measures time: the lease's expiry is exercised with
 * a lease that is already expired when taken (a negative time to live).
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { directLeafOfValues } from '../../src/event/directLeaf';
import { leafOfFields } from '../../src/event/storedEvent';
import type { Outcome } from '../../src/event/eventRecord';
import { DuplicateKeyError, LeafIndexTakenError } from '../../src/storage/errors';
import { flatEvent } from '../../src/storage/flatEvent';
import { matchesFilter } from '../../src/stream/eventFilter';
import type {
  ApiKeyRecord,
  EventCount,
  EventCountKey,
  EventFields,
  EventPageQuery,
  EventQuery,
  FlatEvent,
  GroupRecord,
  LedgerStorage,
  RawStoredEvent,
  SignedCheckpoint,
  StoredEvent,
  UserRecord,
} from '../../src/storage/port';

export interface StorageFactory {
  /** A fresh, empty storage (schema created). The suite closes every storage it opens. */
  open(): Promise<LedgerStorage>;
  /** A second connection to the database `storage` uses (as another server process would open it). */
  reopen?(storage: LedgerStorage): Promise<LedgerStorage>;
}

// ---------------------------------------------------------------------------------------
// Events and the reference the adapters are compared with

const BASE_TIME = Date.UTC(2026, 0, 1);
let serial = 0;

type EventSpec = { -readonly [K in keyof EventFields]?: EventFields[K] | undefined } & {
  idempotencyKey?: string | undefined;
  contentDigest?: string | undefined;
};

/** An event at `leafIndex` with a real canonical leaf; `spec` keys holding undefined are left out. */
export function makeEvent(leafIndex: number, spec: EventSpec = {}): StoredEvent {
  const { idempotencyKey, contentDigest, ...change } = spec;
  serial++;
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) as Partial<EventFields>;
  const fields: EventFields = {
    id: `evt-${serial}-${leafIndex}`,
    action: 'user.login',
    actor: { id: 'alice', type: 'USER' },
    outcome: 'SUCCESS',
    groups: [],
    recordedAt: new Date(BASE_TIME + leafIndex),
    salt: serial.toString(16).padStart(32, '0'),
    ...defined,
  };
  const leaf = leafOfFields(fields);
  const leafHash = new Uint8Array(createHash('sha256').update(Buffer.from([0])).update(leaf, 'utf8').digest());
  return {
    ...fields,
    leafIndex,
    leaf,
    leafHash,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
    ...(contentDigest !== undefined && { contentDigest }),
  };
}

/** An event with every optional field present. */
function fullEvent(leafIndex: number, change: EventSpec = {}): StoredEvent {
  return makeEvent(leafIndex, {
    actor: { id: 'svc-1', type: 'SERVICE', name: 'Billing' },
    target: { type: 'document', id: 'doc-1', name: 'Q3 report' },
    outcome: 'DENIED',
    reason: 'outside business hours',
    occurredAt: new Date(BASE_TIME - 5123),
    source: { ip: '10.0.0.1', userAgent: 'curl/8.5', requestId: 'req-1' },
    metadata: '{"amount":12.5,"tags":["a","ü"]}',
    groups: ['g-a', 'g-b'],
    submitter: { keyId: 'key-1', userId: 'user-1' },
    idempotencyKey: `k:key-1:${leafIndex}`,
    contentDigest: 'd'.repeat(64),
    ...change,
  });
}

// The reference pages and counts filter with the in-memory test of stream/eventFilter.ts (prefixes
// by code points, as startsWith), so the suite also holds it to what both stores answer.
export function referencePage(events: readonly StoredEvent[], q: EventPageQuery): StoredEvent[] {
  const after = q.afterLeafIndex;
  return events
    .filter((e) => e.leafIndex < q.treeSize && matchesFilter(e, q))
    .filter((e) => after === undefined || (q.newestFirst ? e.leafIndex < after : e.leafIndex > after))
    .sort((a, b) => (q.newestFirst ? b.leafIndex - a.leafIndex : a.leafIndex - b.leafIndex))
    .slice(0, Math.max(0, q.limit));
}

export function referenceCounts(events: readonly StoredEvent[], key: EventCountKey, q: EventQuery, treeSize: number): EventCount[] {
  const counts = new Map<string, number>();
  for (const e of events) {
    if (e.leafIndex >= treeSize || !matchesFilter(e, q)) continue;
    const keys =
      key === 'groups' ? e.groups.filter((g) => q.groupIds === undefined || q.groupIds.includes(g)) : [key === 'action' ? e.action : key === 'outcome' ? e.outcome : e.actor.id];
    for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts]
    .map(([k, count]) => ({ key: k, count }))
    .sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const leafIndices = (events: readonly StoredEvent[]): number[] => events.map((e) => e.leafIndex);
const hex = (bytes: unknown): string => (bytes instanceof Uint8Array ? Buffer.from(bytes).toString('hex') : `not bytes: ${String(bytes)}`);

/** Comparable form of a stored event: bytes as hex, so Buffer and Uint8Array compare alike. */
function comparable(e: StoredEvent | undefined): unknown {
  return e && { ...e, leafHash: hex(e.leafHash) };
}

/** Comparable form of a flat event: bytes as hex. */
function comparableFlat(e: FlatEvent): unknown {
  return { ...e, leafHash: hex(e.leafHash) };
}

/** Whether any (nested) key holds undefined: absent optionals must be absent. */
function undefinedKeys(value: unknown, at = ''): string[] {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return [];
  return Object.entries(value).flatMap(([k, v]) => (v === undefined ? [`${at}${k}`] : undefinedKeys(v, `${at}${k}.`)));
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

// ---------------------------------------------------------------------------------------
// A fixed data set for queries and counts

const ACTIONS = ['user.login', 'user.logout', 'user.role.grant', 'user.role.revoke', 'doc.read', 'doc.write', 'a', 'a\u{1F600}', 'a\u{1F600}b', 'é.x'];
const ACTORS = ['u0', 'u1', 'u2', 'u3', 'u4'];
const TARGETS = [undefined, { type: 'doc', id: 'd0' }, { type: 'doc', id: 'd1', name: 'D1' }, { type: 'user', id: 'd0' }, { type: '', id: 'd1' }];
const OUTCOMES: Outcome[] = ['SUCCESS', 'FAILURE', 'DENIED'];
const GROUPS = ['g0', 'g1', 'g2', 'g3'];
const DATASET_SIZE = 150;
const at = (second: number): Date => new Date(BASE_TIME + second * 1000);

/** Deterministic (a small LCG), with recordedAt non-decreasing and repeated, as the sequencer stamps it. */
function dataset(): StoredEvent[] {
  let seed = 12345;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    // The high bits: an LCG's low bits repeat with a short period.
    return Math.floor((seed / 2 ** 31) * n);
  };
  return Array.from({ length: DATASET_SIZE }, (_, i) => {
    const groups = GROUPS.filter(() => next(3) === 0);
    return makeEvent(i, {
      action: ACTIONS[next(ACTIONS.length)]!,
      actor: { id: ACTORS[next(ACTORS.length)]!, type: 'USER' },
      target: TARGETS[next(TARGETS.length)],
      outcome: OUTCOMES[next(OUTCOMES.length)]!,
      groups,
      recordedAt: at(Math.floor(i / 3)),
    });
  });
}

const QUERIES: readonly (readonly [string, EventQuery])[] = [
  ['no filter', {}],
  ['actor', { actorId: 'u1' }],
  ['action', { action: 'doc.read' }],
  ['action prefix', { actionPrefix: 'user.' }],
  ['narrow action prefix', { actionPrefix: 'user.role.' }],
  ['prefix of other actions and an action itself', { actionPrefix: 'a' }],
  ['prefix ending outside the BMP', { actionPrefix: 'a\u{1F600}' }],
  ['empty prefix', { actionPrefix: '' }],
  ['prefix matching nothing', { actionPrefix: 'zzz' }],
  ['target', { targetType: 'doc', targetId: 'd0' }],
  ['target type', { targetType: 'doc' }],
  ['target id', { targetId: 'd1' }],
  ['empty target type', { targetType: '', targetId: 'd1' }],
  ['outcome', { outcome: 'FAILURE' }],
  ['from', { from: at(10) }],
  ['to', { to: at(20) }],
  ['time range', { from: at(5), to: at(30) }],
  ['time range between stamps', { from: new Date(BASE_TIME + 5500), to: new Date(BASE_TIME + 30_500) }],
  ['time range after the log', { from: at(1000) }],
  ['empty time range', { from: at(9), to: at(9) }],
  ['one group', { groupIds: ['g1'] }],
  ['two groups', { groupIds: ['g1', 'g2'] }],
  ['three groups, unsorted', { groupIds: ['g3', 'g0', 'g2'] }],
  ['no groups', { groupIds: [] }],
  ['an unknown group', { groupIds: ['nope'] }],
  ['group and actor', { groupIds: ['g1'], actorId: 'u2' }],
  ['groups and action', { groupIds: ['g0', 'g1'], action: 'doc.read' }],
  ['group and time range', { groupIds: ['g2'], from: at(5), to: at(40) }],
  ['actor and outcome', { actorId: 'u0', outcome: 'SUCCESS' }],
  ['target id and actor', { targetId: 'd0', actorId: 'u3' }],
  ['action and prefix', { action: 'user.login', actionPrefix: 'user.' }],
  ['everything', { groupIds: ['g1', 'g3'], actionPrefix: 'user.', outcome: 'SUCCESS', from: at(3), to: at(45), actorId: 'u1' }],
  ['target, groups and time', { targetType: 'doc', targetId: 'd1', groupIds: ['g0', 'g2'], to: at(40) }],
];

// ---------------------------------------------------------------------------------------
// Random data sets and queries (fast-check)

const arbitraryEvents = fc
  .array(
    fc.record({
      action: fc.constantFrom(...ACTIONS),
      actor: fc.constantFrom(...ACTORS),
      target: fc.constantFrom(...TARGETS),
      outcome: fc.constantFrom(...OUTCOMES),
      groups: fc.subarray(GROUPS),
      step: fc.nat(2),
    }),
    { maxLength: 40 },
  )
  .map((specs) => {
    let second = 0;
    return specs.map((s, i) => {
      second += s.step;
      return makeEvent(i, { action: s.action, actor: { id: s.actor, type: 'USER' }, target: s.target, outcome: s.outcome, groups: s.groups, recordedAt: at(second) });
    });
  });

const arbitraryQuery: fc.Arbitrary<EventQuery> = fc
  .record(
    {
      actorId: fc.constantFrom(...ACTORS),
      action: fc.constantFrom(...ACTIONS),
      actionPrefix: fc.constantFrom('user.', 'user.role.', 'a', 'a\u{1F600}', 'doc', '', 'é'),
      targetType: fc.constantFrom('doc', 'user', ''),
      targetId: fc.constantFrom('d0', 'd1'),
      outcome: fc.constantFrom(...OUTCOMES),
      from: fc.integer({ min: 0, max: 50 }).map(at),
      to: fc.integer({ min: 0, max: 60 }).map(at),
      groupIds: fc.subarray([...GROUPS, 'nope']),
    },
    { requiredKeys: [] },
  )
  .map((q) => q as EventQuery);

const arbitraryPage = (size: number): fc.Arbitrary<EventPageQuery> =>
  fc
    .record({
      query: arbitraryQuery,
      treeSize: fc.integer({ min: 0, max: size + 2 }),
      after: fc.option(fc.integer({ min: -1, max: size + 2 }), { nil: undefined }),
      newestFirst: fc.boolean(),
      limit: fc.integer({ min: 1, max: 12 }),
    })
    .map(({ query, treeSize, after, newestFirst, limit }) => ({
      ...query,
      treeSize,
      newestFirst,
      limit,
      ...(after !== undefined && { afterLeafIndex: after }),
    }));

// ---------------------------------------------------------------------------------------

export function describeStorageContract(name: string, factory: StorageFactory): void {
  describe(`storage contract: ${name}`, () => {
    /** Storages opened by the running test, closed after it. */
    let opened: LedgerStorage[] = [];
    const fresh = async (): Promise<LedgerStorage> => {
      const storage = await factory.open();
      opened.push(storage);
      return storage;
    };
    afterEach(async () => {
      const closing = opened;
      opened = [];
      await Promise.all(closing.map((s) => s.close()));
    });

    describe('events: append and read', () => {
      it('reads back exactly what was appended, with every optional field present or absent', async () => {
        const s = await fresh();
        const full = fullEvent(0);
        const bare = makeEvent(1);
        await s.events.append([full, bare]);
        for (const e of [full, bare]) {
          const byIndex = await s.events.byLeafIndex(e.leafIndex);
          expect(comparable(byIndex)).toEqual(comparable(e));
          expect(Object.keys(byIndex!).sort()).toEqual(Object.keys(e).sort());
          expect(Object.keys(byIndex!.actor).sort()).toEqual(Object.keys(e.actor).sort());
          expect(undefinedKeys(byIndex)).toEqual([]);
          expect(byIndex!.leafHash).toBeInstanceOf(Uint8Array);
          expect(byIndex!.recordedAt).toBeInstanceOf(Date);
          expect(comparable(await s.events.byId(e.id))).toEqual(comparable(e));
        }
        const readFull = (await s.events.byLeafIndex(0))!;
        expect(readFull.occurredAt).toBeInstanceOf(Date);
        expect(readFull.occurredAt!.getTime()).toBe(full.occurredAt!.getTime());
        expect(readFull.source).toEqual(full.source);
        expect(readFull.metadata).toBe(full.metadata);
        expect((await s.events.range(0, 2)).map(comparable)).toEqual([full, bare].map(comparable));
        expect(await s.events.byLeafIndex(2)).toBeUndefined();
        expect(await s.events.byId('no-such-event')).toBeUndefined();
      });

      it('keeps optional target and actor names absent or present independently, and empty strings as values', async () => {
        const s = await fresh();
        const events = [
          makeEvent(0, { target: { type: 'doc', id: 'x' }, reason: '' }),
          makeEvent(1, { actor: { id: 'sys', type: 'SYSTEM', name: '' }, source: {}, metadata: '{}' }),
          makeEvent(2, { source: { requestId: 'only' }, groups: ['z', 'a'] }),
        ];
        await s.events.append(events);
        expect((await s.events.range(0, 3)).map(comparable)).toEqual(events.map(comparable));
        for (const e of await s.events.range(0, 3)) expect(undefinedKeys(e)).toEqual([]);
      });

      it('hands out a fresh leaf hash each read', async () => {
        const s = await fresh();
        await s.events.append([makeEvent(0)]);
        const a = (await s.events.byLeafIndex(0))!;
        const b = (await s.events.byLeafIndex(0))!;
        expect(a.leafHash).not.toBe(b.leafHash);
        a.leafHash.fill(0);
        expect(hex(b.leafHash)).not.toBe(hex(a.leafHash));
      });

      it('stores consecutive appends at consecutive indices and reads ranges of them', async () => {
        const s = await fresh();
        const events = Array.from({ length: 23 }, (_, i) => makeEvent(i));
        await s.events.append(events.slice(0, 10));
        await s.events.append(events.slice(10, 11));
        await s.events.append(events.slice(11));
        await s.events.append([]);
        expect(leafIndices(await s.events.range(0, 100))).toEqual(leafIndices(events));
        expect(leafIndices(await s.events.range(5, 12))).toEqual([5, 6, 7, 8, 9, 10, 11]);
        expect(await s.events.range(23, 30)).toEqual([]);
        expect(await s.events.range(7, 7)).toEqual([]);
        // An estimate is all the port promises (progress bars): something, not more than twice over.
        const estimate = await s.events.estimatedCount();
        expect(estimate).toBeGreaterThan(0);
        expect(estimate).toBeLessThanOrEqual(46);
        expect(s.events.maxEventBytes).toBeGreaterThanOrEqual(1024 * 1024);
      });

      it('refuses a taken leaf index with LeafIndexTakenError and stores nothing of that call', async () => {
        const s = await fresh();
        await s.events.append([makeEvent(0, { action: 'kept' }), makeEvent(1, { action: 'kept' })]);
        const first = await rejection(s.events.append([makeEvent(1)]));
        expect(first).toBeInstanceOf(LeafIndexTakenError);
        expect((first as LeafIndexTakenError).leafIndex).toBe(1);
        expect((first as LeafIndexTakenError).code).toBe('LEAF_INDEX_TAKEN');

        // Another sequencer got ahead to leaf 3: a batch 2…4 collides in its middle.
        await s.events.append([makeEvent(3, { action: 'kept' })]);
        const lost = makeEvent(2, { action: 'lost', groups: ['g-lost'], idempotencyKey: 'k:key-1:lost', contentDigest: 'c'.repeat(64) });
        const err = await rejection(s.events.append([lost, makeEvent(3, { action: 'lost' }), makeEvent(4, { action: 'lost' })]));
        expect(err).toBeInstanceOf(LeafIndexTakenError);
        expect((err as LeafIndexTakenError).leafIndex).toBe(3);
        const stored = leafIndices(await s.events.range(0, 10));
        expect((await s.events.byLeafIndex(3))!.action).toBe('kept');
        if (s.kind === 'mongodb') {
          // No transactions there: a contiguous prefix of the call may remain (recovery replays it).
          expect([
            [0, 1, 3],
            [0, 1, 2, 3],
          ]).toContainEqual(stored);
          return;
        }
        expect(stored).toEqual([0, 1, 3]);
        expect(await s.idempotency.lookup(['k:key-1:lost'])).toEqual(new Map());
        expect(await s.events.countBy('action', {}, 10)).toEqual([{ key: 'kept', count: 3 }]);
        expect(await s.events.countBy('groups', {}, 10)).toEqual([]);
        expect(await s.events.page({ treeSize: 10, limit: 10, groupIds: ['g-lost'] })).toEqual([]);
        // And the index is still free for the right writer.
        await s.events.append([makeEvent(2)]);
        expect(leafIndices(await s.events.range(0, 10))).toEqual([0, 1, 2, 3]);
      });

      it('remembers the idempotency record of an appended event that carries a key, keeping an earlier one', async () => {
        const s = await fresh();
        const keyed = makeEvent(0, { idempotencyKey: 'k:key-1:a', contentDigest: 'a'.repeat(64) });
        await s.events.append([keyed, makeEvent(1)]);
        const found = await s.idempotency.lookup(['k:key-1:a', 'k:key-1:b']);
        expect([...found.keys()]).toEqual(['k:key-1:a']);
        const record = found.get('k:key-1:a')!;
        expect({ ...record, leafHash: hex(record.leafHash) }).toEqual({
          key: 'k:key-1:a',
          leafIndex: 0,
          eventId: keyed.id,
          leafHash: hex(keyed.leafHash),
          contentDigest: 'a'.repeat(64),
        });
      });
    });

    describe('events: companion records', () => {
      it('stores the companion records of an append, so every stored event has them', async () => {
        const s = await fresh();
        const a = makeEvent(0);
        const b = makeEvent(1);
        await s.events.append([a, b], { kind: 'dataKey', records: [{ id: a.id, value: 'key-a' }, { id: b.id, value: 'key-b' }] });
        expect(await s.lifecycle.get('dataKey', [a.id, b.id])).toEqual(new Map([[a.id, 'key-a'], [b.id, 'key-b']]));
        expect(leafIndices(await s.events.range(0, 5))).toEqual([0, 1]);
      });

      it('reads an event with its own record of a kind and the kind\'s change count, where the adapter offers it', async () => {
        const s = await fresh();
        if (!s.events.withCompanion) return; // optional: MongoDB reads the two apart
        const a = makeEvent(0);
        const b = makeEvent(1);
        await s.events.append([a, b], { kind: 'dataKey', records: [{ id: a.id, value: 'key-a' }] });
        const before = (await s.lifecycle.snapshot('dataKey', [])).changeCount;
        const byIndex = await s.events.withCompanion({ leafIndex: 0 }, 'dataKey');
        expect(byIndex).toEqual({ event: await s.events.byLeafIndex(0), companion: { records: new Map([[a.id, 'key-a']]), changeCount: before } });
        expect(await s.events.withCompanion({ id: a.id }, 'dataKey')).toEqual(byIndex);
        // No record of that kind (or of that event): an empty snapshot, still with the count.
        expect((await s.events.withCompanion({ leafIndex: 1 }, 'dataKey'))!.companion).toEqual({ records: new Map(), changeCount: before });
        expect((await s.events.withCompanion({ leafIndex: 0 }, 'redaction'))!.companion).toEqual({ records: new Map(), changeCount: 0 });
        // The count moves with a replacement or a deletion, and the record with it.
        await s.lifecycle.put('dataKey', [{ id: a.id, value: 'key-a2' }]);
        expect((await s.events.withCompanion({ id: a.id }, 'dataKey'))!.companion).toEqual({ records: new Map([[a.id, 'key-a2']]), changeCount: before + 1 });
        await s.lifecycle.delete('dataKey', [a.id]);
        expect((await s.events.withCompanion({ leafIndex: 0 }, 'dataKey'))!.companion).toEqual({ records: new Map(), changeCount: before + 2 });
        expect(await s.events.withCompanion({ leafIndex: 2 }, 'dataKey')).toBeUndefined();
        expect(await s.events.withCompanion({ id: 'no-such-event' }, 'dataKey')).toBeUndefined();
      });

      it('on SQLite, stores neither the events nor their companions when the append fails', async () => {
        const s = await fresh();
        await s.events.append([makeEvent(0)]);
        const late = makeEvent(0, { action: 'lost' });
        const err = await rejection(s.events.append([late], { kind: 'dataKey', records: [{ id: late.id, value: 'key-lost' }] }));
        expect(err).toBeInstanceOf(LeafIndexTakenError);
        // MongoDB has no transaction here: the companions go first and may stay (harmless: a key with no event).
        if (s.kind === 'sqlite') expect(await s.lifecycle.get('dataKey', [late.id])).toEqual(new Map());
      });
    });

    describe('events: pages', () => {
      const events = dataset();
      let s: LedgerStorage;
      beforeAll(async () => {
        s = await factory.open();
        for (let i = 0; i < events.length; i += 40) await s.events.append(events.slice(i, i + 40));
      });
      afterAll(async () => s.close());

      const shapes: readonly (readonly [string, Partial<EventPageQuery>])[] = [
        ['whole log', { treeSize: DATASET_SIZE }],
        ['beyond the log', { treeSize: DATASET_SIZE + 10 }],
        ['a smaller tree', { treeSize: 61 }],
        ['after a leaf', { treeSize: DATASET_SIZE, afterLeafIndex: 70 }],
        ['after a leaf, smaller tree', { treeSize: 90, afterLeafIndex: 40 }],
        ['after the first leaf', { treeSize: DATASET_SIZE, afterLeafIndex: 0 }],
        ['empty tree', { treeSize: 0 }],
      ];

      it.each(QUERIES)('answers %s as the reference does, in both directions, with keyset, tree size and limit', async (_title, filter) => {
        for (const [, shape] of shapes) {
          for (const newestFirst of [false, true]) {
            for (const limit of [1, 4, 1000]) {
              const q: EventPageQuery = { ...filter, treeSize: DATASET_SIZE, ...shape, newestFirst, limit };
              const page = await s.events.page(q);
              expect({ q, page: leafIndices(page) }).toEqual({ q, page: leafIndices(referencePage(events, q)) });
            }
          }
        }
      });

      it.each(QUERIES)('answers %s as flat events too: the page\'s events, flattened', async (_title, filter) => {
        for (const [, shape] of shapes) {
          for (const newestFirst of [false, true]) {
            const q: EventPageQuery = { ...filter, treeSize: DATASET_SIZE, ...shape, newestFirst, limit: 7 };
            const flat = await s.events.flatPage(q);
            expect({ q, flat: flat.map(comparableFlat) }).toEqual({ q, flat: referencePage(events, q).map((e) => comparableFlat(flatEvent(e))) });
            for (const f of flat) expect(f.leafHash).toBeInstanceOf(Uint8Array);
          }
        }
      });

      it('answers flat pages of random events as their events flattened', async () => {
        await fc.assert(
          fc.asyncProperty(
            arbitraryEvents.chain((evs) => fc.tuple(fc.constant(evs), fc.array(arbitraryPage(evs.length), { minLength: 1, maxLength: 4 }))),
            async ([evs, queries]) => {
              const r = await fresh();
              try {
                if (evs.length > 0) await r.events.append(evs);
                for (const q of queries) {
                  expect({ q, flat: (await r.events.flatPage(q)).map(comparableFlat) }).toEqual({ q, flat: referencePage(evs, q).map((e) => comparableFlat(flatEvent(e))) });
                }
              } finally {
                opened = opened.filter((o) => o !== r);
                await r.close();
              }
            },
          ),
          { numRuns: 10 },
        );
      });

      it('returns whole events, each once, even when it is in several of the groups asked for', async () => {
        const inTwo = events.filter((e) => e.groups.includes('g1') && e.groups.includes('g2'));
        expect(inTwo.length).toBeGreaterThan(0);
        const page = await s.events.page({ treeSize: DATASET_SIZE, limit: 1000, groupIds: ['g1', 'g2'] });
        expect(new Set(leafIndices(page)).size).toBe(page.length);
        const e = page.find((p) => p.leafIndex === inTwo[0]!.leafIndex);
        expect(comparable(e)).toEqual(comparable(inTwo[0]));
      });

      it('pages through a query with the keyset bound, newest first, meeting every match once', async () => {
        const q = { groupIds: ['g0', 'g3'], actionPrefix: 'user.' };
        const seen: number[] = [];
        let after: number | undefined;
        for (;;) {
          const page = await s.events.page({ ...q, treeSize: DATASET_SIZE, newestFirst: true, limit: 3, ...(after !== undefined && { afterLeafIndex: after }) });
          if (page.length === 0) break;
          seen.push(...leafIndices(page));
          after = page[page.length - 1]!.leafIndex;
        }
        expect(seen).toEqual(leafIndices(referencePage(events, { ...q, treeSize: DATASET_SIZE, newestFirst: true, limit: 1000 })));
      });

      it('answers prefixes over many stored actions, and target ids or types over many stored types', async () => {
        const r = await fresh();
        const many = Array.from({ length: 160 }, (_, i) =>
          makeEvent(i, {
            action: `bulk.${i % 41}`,
            target: i % 5 === 0 ? undefined : { type: `type-${i % 37}`, id: `x${i % 3}` },
            groups: i % 2 ? ['g1'] : [],
          }),
        );
        await r.events.append(many);
        const filters: EventQuery[] = [
          { actionPrefix: 'bulk.' },
          { actionPrefix: 'bulk.1' },
          { actionPrefix: 'bulk.', groupIds: ['g1'] },
          { targetId: 'x1' },
          { targetId: 'x2', actionPrefix: 'bulk.2' },
          { targetType: 'type-7' },
          { targetType: 'type-7', targetId: 'x1' },
          { targetType: 'nope' },
        ];
        for (const filter of filters) {
          for (const newestFirst of [false, true]) {
            for (const q of [
              { ...filter, treeSize: 150, newestFirst, limit: 5 },
              { ...filter, treeSize: 160, newestFirst, limit: 500, afterLeafIndex: 80 },
            ]) {
              expect({ q, page: leafIndices(await r.events.page(q)) }).toEqual({ q, page: leafIndices(referencePage(many, q)) });
            }
          }
          for (const key of ['action', 'groups'] as const) {
            expect({ filter, counts: await r.events.countBy(key, filter, 150) }).toEqual({ filter, counts: referenceCounts(many, key, filter, 150) });
          }
        }
      });

      it('matches random queries over random events as the reference does', async () => {
        await fc.assert(
          fc.asyncProperty(
            arbitraryEvents.chain((evs) => fc.tuple(fc.constant(evs), fc.array(arbitraryPage(evs.length), { minLength: 1, maxLength: 8 }))),
            async ([evs, queries]) => {
              const r = await fresh();
              try {
                if (evs.length > 0) await r.events.append(evs);
                for (const q of queries) expect({ q, page: leafIndices(await r.events.page(q)) }).toEqual({ q, page: leafIndices(referencePage(evs, q)) });
              } finally {
                opened = opened.filter((o) => o !== r);
                await r.close();
              }
            },
          ),
          { numRuns: 20 },
        );
      });

      it('matches random queries over the fixed data set as the reference does', async () => {
        await fc.assert(
          fc.asyncProperty(arbitraryPage(DATASET_SIZE), async (q) => {
            expect({ q, page: leafIndices(await s.events.page(q)) }).toEqual({ q, page: leafIndices(referencePage(events, q)) });
          }),
          { numRuns: 150 },
        );
      });
    });

    describe('events: counts', () => {
      const events = dataset();
      /** Past the tree size: stored, not yet signed, so never counted. */
      const treeSize = 120;
      let s: LedgerStorage;
      beforeAll(async () => {
        s = await factory.open();
        await s.events.append(events);
      });
      afterAll(async () => s.close());

      const keys: EventCountKey[] = ['groups', 'action', 'actor.id', 'outcome'];

      it.each(QUERIES)('counts %s by every key as the reference does, leaving out leaves at or past the tree size', async (_title, filter) => {
        for (const key of keys) {
          for (const size of [treeSize, DATASET_SIZE, 37, 0]) {
            expect({ key, size, counts: await s.events.countBy(key, filter, size) }).toEqual({ key, size, counts: referenceCounts(events, key, filter, size) });
          }
        }
      });

      it('counts an event once under each of its groups, and only the groups asked for', async () => {
        const counts = await s.events.countBy('groups', { groupIds: ['g1', 'g2'] }, treeSize);
        expect(counts.map((c) => c.key).sort()).toEqual(['g1', 'g2']);
        const byAction = await s.events.countBy('action', { groupIds: ['g1', 'g2'] }, treeSize);
        const inEither = events.filter((e) => e.leafIndex < treeSize && (e.groups.includes('g1') || e.groups.includes('g2'))).length;
        expect(byAction.reduce((n, c) => n + c.count, 0)).toBe(inEither);
      });

      it('sees appends past the tree size only once the tree size covers them', async () => {
        const r = await fresh();
        await r.events.append(events.slice(0, 50));
        const before = await r.events.countBy('actor.id', {}, 50);
        await r.events.append([makeEvent(50, { actor: { id: 'late', type: 'USER' }, groups: ['g1'] })]);
        expect(await r.events.countBy('actor.id', {}, 50)).toEqual(before);
        expect(await r.events.countBy('actor.id', { groupIds: ['g1'] }, 50)).toEqual(referenceCounts(events, 'actor.id', { groupIds: ['g1'] }, 50));
        expect((await r.events.countBy('actor.id', {}, 51)).find((c) => c.key === 'late')).toEqual({ key: 'late', count: 1 });
      });

      it('matches random count queries as the reference does', async () => {
        await fc.assert(
          fc.asyncProperty(fc.constantFrom(...keys), arbitraryQuery, fc.integer({ min: 0, max: DATASET_SIZE + 1 }), async (key, q, size) => {
            expect({ key, q, size, counts: await s.events.countBy(key, q, size) }).toEqual({ key, q, size, counts: referenceCounts(events, key, q, size) });
          }),
          { numRuns: 120 },
        );
      });
    });

    describe('tiles', () => {
      const hashes = (width: number, fill: number): Uint8Array => new Uint8Array(width * 32).fill(fill);

      it('writes, reads, and replaces whole tiles; absent ones are left out', async () => {
        const s = await fresh();
        await s.tiles.write([
          { level: 0, index: 0, hashes: hashes(256, 1) },
          { level: 0, index: 1, hashes: hashes(3, 2) },
          { level: 1, index: 0, hashes: hashes(1, 3) },
        ]);
        const read = await s.tiles.read([
          { level: 0, index: 1 },
          { level: 0, index: 2 },
          { level: 1, index: 0 },
          { level: 2, index: 0 },
        ]);
        expect(read.map((t) => [t.level, t.index, hex(t.hashes)]).sort()).toEqual(
          [
            [0, 1, hex(hashes(3, 2))],
            [1, 0, hex(hashes(1, 3))],
          ].sort(),
        );
        await s.tiles.write([{ level: 0, index: 1, hashes: hashes(5, 4) }]);
        const [grown] = await s.tiles.read([{ level: 0, index: 1 }]);
        expect(hex(grown!.hashes)).toBe(hex(hashes(5, 4)));
        expect(grown!.hashes).toBeInstanceOf(Uint8Array);
        await s.tiles.write([]);
        expect(await s.tiles.read([])).toEqual([]);
      });
    });

    describe('checkpoints', () => {
      const checkpoint = (treeSize: number, note: string): SignedCheckpoint => ({
        treeSize,
        rootHash: (treeSize % 256).toString(16).padStart(2, '0').repeat(32),
        note,
        createdAt: new Date(BASE_TIME + treeSize),
      });

      it('archives checkpoints; saving one already stored keeps the first', async () => {
        const s = await fresh();
        expect(await s.integrity.latestCheckpoint()).toBeUndefined();
        for (const size of [3, 1, 2, 10]) await s.checkpoints.save(checkpoint(size, `note ${size}`));
        await s.checkpoints.save(checkpoint(2, 'again'));
        expect(await s.integrity.latestCheckpoint()).toEqual({ treeSize: 10, rootHash: checkpoint(10, '').rootHash, note: 'note 10' });
        expect(await collect(s.integrity.checkpoints(3))).toEqual([1, 2, 3].map((n) => ({ treeSize: n, rootHash: checkpoint(n, '').rootHash, note: `note ${n}` })));
        expect(await collect(s.integrity.checkpoints(0))).toEqual([]);
      });

      it('finds the last checkpoint signed at or before each instant, and the first one signed', async () => {
        const s = await fresh();
        const at = (ms: number): Date => new Date(BASE_TIME + ms);
        expect(await s.checkpoints.earliest()).toBeUndefined();
        expect(await s.checkpoints.latestAt([at(0), at(1000)])).toEqual([undefined, undefined]);
        // Sizes saved out of order; sizes 5 and 6 signed in the same millisecond (the larger wins).
        const signed: [number, number][] = [[4, 400], [0, 100], [2, 200], [6, 500], [5, 500], [9, 900]];
        for (const [size, ms] of signed) await s.checkpoints.save({ ...checkpoint(size, `note ${size}`), createdAt: at(ms) });
        expect(await s.checkpoints.earliest()).toEqual({ treeSize: 0, createdAt: at(100) });
        const instants = [99, 100, 150, 200, 399, 400, 499, 500, 899, 900, 5000].map(at);
        const marks = await s.checkpoints.latestAt(instants);
        expect(marks).toEqual([
          undefined,
          { treeSize: 0, createdAt: at(100) },
          { treeSize: 0, createdAt: at(100) },
          { treeSize: 2, createdAt: at(200) },
          { treeSize: 2, createdAt: at(200) },
          { treeSize: 4, createdAt: at(400) },
          { treeSize: 4, createdAt: at(400) },
          { treeSize: 6, createdAt: at(500) },
          { treeSize: 6, createdAt: at(500) },
          { treeSize: 9, createdAt: at(900) },
          { treeSize: 9, createdAt: at(900) },
        ]);
        expect(await s.checkpoints.latestAt([])).toEqual([]);
      });
    });

    describe('the log head', () => {
      const checkpoint = (treeSize: number): SignedCheckpoint => ({ treeSize, rootHash: 'ab'.repeat(32), note: `note ${treeSize}`, createdAt: new Date(BASE_TIME + treeSize) });

      it('starts absent, marks a pending batch only at its size, and only moves forward', async () => {
        const s = await fresh();
        expect(await s.head.read()).toBeUndefined();
        await s.head.advance(checkpoint(0), 0);
        expect(await s.head.read()).toEqual({ checkpoint: checkpoint(0), lastRecordedAt: 0, pending: null });

        expect(await s.head.markPending(0, 3)).toBe(true);
        expect((await s.head.read())!.pending).toEqual({ from: 0, to: 3 });
        // Marking again at the same size is the same sequencer's retry: allowed.
        expect(await s.head.markPending(0, 4)).toBe(true);
        expect((await s.head.read())!.pending).toEqual({ from: 0, to: 4 });
        expect(await s.head.markPending(1, 4)).toBe(false);

        await s.head.advance(checkpoint(4), 1234);
        expect(await s.head.read()).toEqual({ checkpoint: checkpoint(4), lastRecordedAt: 1234, pending: null });
        // Another sequencer still at size 0 is fenced off.
        expect(await s.head.markPending(0, 2)).toBe(false);
        expect((await s.head.read())!.pending).toBeNull();

        await s.head.advance(checkpoint(2), 99);
        expect(await s.head.read()).toEqual({ checkpoint: checkpoint(4), lastRecordedAt: 1234, pending: null });

        expect(await s.head.markPending(4, 6)).toBe(true);
        await s.head.advance(checkpoint(4), 1234);
        expect((await s.head.read())!.pending).toBeNull();
        await s.head.advance(checkpoint(6), 2000);
        expect((await s.head.read())!.checkpoint.treeSize).toBe(6);
      });
    });

    describe('witness cosignatures', () => {
      const line = (witness: string, size: number, t: number) => `\u2014 witness-${witness} size-${size}-time-${t}\n`;
      const cosig = (witness: string, treeSize: number, t = 0) => ({ witness, treeSize, line: line(witness, treeSize, t) });

      it('keeps each witness\'s newest cosignature, answers those of one tree size, and never goes back', async () => {
        const s = await fresh();
        expect(await s.cosignatures.forTreeSize(0)).toEqual([]);
        await s.cosignatures.save(cosig('0000000b', 5));
        await s.cosignatures.save(cosig('0000000a', 5));
        expect(await s.cosignatures.forTreeSize(5)).toEqual([cosig('0000000a', 5), cosig('0000000b', 5)]);
        expect(await s.cosignatures.forTreeSize(4)).toEqual([]);

        // The same size again: a fresher timestamp replaces the line.
        await s.cosignatures.save(cosig('0000000a', 5, 1));
        // A newer checkpoint replaces the witness's older one; a late older answer changes nothing.
        await s.cosignatures.save(cosig('0000000b', 9));
        await s.cosignatures.save(cosig('0000000b', 7));
        expect(await s.cosignatures.forTreeSize(5)).toEqual([cosig('0000000a', 5, 1)]);
        expect(await s.cosignatures.forTreeSize(9)).toEqual([cosig('0000000b', 9)]);
        expect(await s.cosignatures.forTreeSize(7)).toEqual([]);
      });

      it('are seen by another connection to the same database (several servers, restarts)', async () => {
        if (!factory.reopen) return;
        const s = await fresh();
        await s.cosignatures.save(cosig('0000000c', 3));
        const other = await factory.reopen(s);
        opened.push(other);
        expect(await other.cosignatures.forTreeSize(3)).toEqual([cosig('0000000c', 3)]);
      });
    });

    describe('idempotency records', () => {
      it('looks up by key and keeps a record already stored', async () => {
        const s = await fresh();
        const record = (key: string, leafIndex: number) => ({ key, leafIndex, eventId: `e-${leafIndex}`, leafHash: new Uint8Array(32).fill(leafIndex), contentDigest: `${leafIndex}`.repeat(64) });
        expect(await s.idempotency.lookup([])).toEqual(new Map());
        await s.idempotency.remember([record('k:a:1', 1), record('k:a:2', 2)]);
        await s.idempotency.remember([record('k:a:1', 7), record('k:a:3', 3)]);
        await s.idempotency.remember([]);
        const found = await s.idempotency.lookup(['k:a:1', 'k:a:3', 'k:a:9']);
        expect([...found.keys()].sort()).toEqual(['k:a:1', 'k:a:3']);
        const one = found.get('k:a:1')!;
        expect({ ...one, leafHash: hex(one.leafHash) }).toEqual({ ...record('k:a:1', 1), leafHash: hex(record('k:a:1', 1).leafHash) });
        expect(found.get('k:a:3')!.leafIndex).toBe(3);
      });
    });

    describe('the sequencer lease', () => {
      it('is taken, renewed with the same token, and refused to another owner while live', async () => {
        const s = await fresh();
        const a = await s.lease.acquire('a', 60_000);
        expect(a).toEqual({ token: expect.any(Number), wantedBy: undefined });
        expect(await s.lease.acquire('a', 60_000)).toEqual({ token: a!.token, wantedBy: undefined });
        expect(await s.lease.acquire('b', 60_000)).toBeUndefined();
        // The holder learns who waits.
        expect(await s.lease.acquire('a', 60_000)).toEqual({ token: a!.token, wantedBy: 'b' });
      });

      it('is taken over once expired, with a bigger token', async () => {
        const s = await fresh();
        const a = (await s.lease.acquire('a', 60_000))!;
        // A renewal whose time to live has already run out.
        expect((await s.lease.acquire('a', -60_000))!.token).toBe(a.token);
        const b = (await s.lease.acquire('b', 60_000))!;
        expect(b.token).toBeGreaterThan(a.token);
        expect(b.wantedBy).toBeUndefined();
        expect(await s.lease.acquire('a', 60_000)).toBeUndefined();
      });

      it('is handed over on release to a waiting owner, or expired for anyone (same token) otherwise', async () => {
        const s = await fresh();
        const a = (await s.lease.acquire('a', 60_000))!;
        expect(await s.lease.acquire('b', 60_000)).toBeUndefined();
        await s.lease.release('a', 60_000, 'b');
        const b = (await s.lease.acquire('b', 60_000))!;
        expect(b.token).toBeGreaterThan(a.token);
        expect(b.wantedBy).toBeUndefined();
        expect(await s.lease.acquire('a', 60_000)).toBeUndefined();

        // Released without a successor: the same owner comes back to the same token…
        await s.lease.release('b', 60_000);
        expect((await s.lease.acquire('b', 60_000))!.token).toBe(b.token);
        // …and anyone else may take it at once.
        await s.lease.release('b', 60_000);
        const c = (await s.lease.acquire('c', 60_000))!;
        expect(c.token).toBeGreaterThan(b.token);
        // Releasing a lease one does not hold changes nothing.
        await s.lease.release('b', 60_000, 'd');
        expect((await s.lease.acquire('c', 60_000))!.token).toBe(c.token);
      });
    });

    describe('the directory', () => {
      const t0 = new Date(BASE_TIME);
      const user = (id: string, minutes: number, externalId: string | null = null): UserRecord => ({
        id,
        name: `User ${id}`,
        type: 'HUMAN',
        externalId,
        status: 'ACTIVE',
        createdAt: new Date(t0.getTime() + minutes * 60_000),
        updatedAt: new Date(t0.getTime() + minutes * 60_000),
      });
      const group = (id: string, name: string, minutes: number, members: string[] = []): GroupRecord => ({
        id,
        name,
        nameKey: name.toLowerCase(),
        description: minutes % 2 ? `about ${name}` : null,
        members,
        createdAt: new Date(t0.getTime() + minutes * 60_000),
      });
      const apiKey = (id: string, minutes: number, change: Partial<ApiKeyRecord> = {}): ApiKeyRecord => ({
        id,
        name: `key ${id}`,
        roles: ['READER'],
        userId: 'u1',
        groupIds: [],
        tokenHash: createHash('sha256').update(id).digest('hex'),
        createdAt: new Date(t0.getTime() + minutes * 60_000),
        createdBy: null,
        revokedAt: null,
        ...change,
      });
      const sortById = <T extends { id: string }>(items: T[]): T[] => [...items].sort((a, b) => (a.id < b.id ? -1 : 1));

      it('stores users, refuses a duplicate id, finds them by ids and external ids, updates and lists them oldest first', async () => {
        const s = await fresh();
        await s.users.insert(user('u2', 2, 'ext-2'));
        await s.users.insert(user('u1', 1, 'ext-1'));
        await s.users.insert({ ...user('u3', 3), type: 'SERVICE' });
        const dup = await rejection(s.users.insert({ ...user('u1', 9), name: 'Other' }));
        expect(dup).toBeInstanceOf(DuplicateKeyError);
        expect((dup as DuplicateKeyError).field).toBe('id');
        expect((dup as DuplicateKeyError).code).toBe('DUPLICATE_KEY');

        expect(await s.users.byId('u1')).toEqual(user('u1', 1, 'ext-1'));
        expect(await s.users.byId('nobody')).toBeUndefined();
        expect(sortById(await s.users.byIds(['u3', 'u1', 'nobody']))).toEqual([user('u1', 1, 'ext-1'), { ...user('u3', 3), type: 'SERVICE' }]);
        expect(await s.users.byIds([])).toEqual([]);
        expect(sortById(await s.users.byExternalIds(['ext-2', 'ext-9', 'ext-1']))).toEqual([user('u1', 1, 'ext-1'), user('u2', 2, 'ext-2')]);
        expect(await s.users.byExternalIds([])).toEqual([]);

        const later = new Date(t0.getTime() + 3_600_000);
        await s.users.update('u2', { name: 'Renamed', status: 'DISABLED', updatedAt: later });
        expect(await s.users.byId('u2')).toEqual({ ...user('u2', 2, 'ext-2'), name: 'Renamed', status: 'DISABLED', updatedAt: later });
        expect((await s.users.list()).map((u) => u.id)).toEqual(['u1', 'u2', 'u3']);
      });

      it('stores groups with ordered members, refuses a taken id or name, and tracks membership', async () => {
        const s = await fresh();
        await s.groups.insert(group('g2', 'Ops', 2, ['u2', 'u1']));
        await s.groups.insert(group('g1', 'Sales', 1));
        await s.groups.insert(group('g3', 'Audit', 3, ['u1']));
        const byName = await rejection(s.groups.insert(group('g9', 'OPS', 9)));
        expect(byName).toBeInstanceOf(DuplicateKeyError);
        expect((byName as DuplicateKeyError).field).toBe('nameKey');
        const byId = await rejection(s.groups.insert(group('g1', 'Other', 9)));
        expect(byId).toBeInstanceOf(DuplicateKeyError);
        expect((byId as DuplicateKeyError).field).toBe('id');

        expect(await s.groups.byId('g2')).toEqual(group('g2', 'Ops', 2, ['u2', 'u1']));
        expect(await s.groups.byId('nope')).toBeUndefined();
        expect(await s.groups.byNameKey('sales')).toEqual(group('g1', 'Sales', 1));
        expect(await s.groups.byNameKey('Sales')).toBeUndefined();
        expect(sortById(await s.groups.byIds(['g3', 'g1', 'nope']))).toEqual([group('g1', 'Sales', 1), group('g3', 'Audit', 3, ['u1'])]);
        expect(await s.groups.byIds([])).toEqual([]);

        await s.groups.addMember('g1', 'u3');
        await s.groups.addMember('g1', 'u3');
        await s.groups.addMember('g1', 'u1');
        expect((await s.groups.byId('g1'))!.members).toEqual(['u3', 'u1']);
        await s.groups.removeMember('g1', 'u3');
        await s.groups.removeMember('g1', 'nobody');
        await s.groups.addMember('g1', 'u3');
        expect((await s.groups.byId('g1'))!.members).toEqual(['u1', 'u3']);

        const of = await s.groups.groupIdsOf(['u1', 'u2', 'u9']);
        expect(of).toEqual(
          new Map([
            ['u1', ['g1', 'g2', 'g3']],
            ['u2', ['g2']],
            ['u9', []],
          ]),
        );
        expect(await s.groups.groupIdsOf([])).toEqual(new Map());
        expect((await s.groups.list()).map((g) => g.id)).toEqual(['g1', 'g2', 'g3']);
        expect((await s.groups.list()).find((g) => g.id === 'g2')!.members).toEqual(['u2', 'u1']);
      });

      it('stores API keys, refuses a taken id or token hash, revokes once, and lists active admins', async () => {
        const s = await fresh();
        const admin = apiKey('k-admin', 1, { roles: ['ADMIN'], userId: 'u-admin', createdBy: 'bootstrap' });
        const auditor = apiKey('k-auditor', 2, { roles: ['AUDITOR', 'READER'], groupIds: ['g1', 'g2'] });
        const oldAdmin = apiKey('k-old', 0, { roles: ['ADMIN', 'AUDITOR'] });
        for (const k of [admin, auditor, oldAdmin]) await s.apiKeys.insert(k);
        const byToken = await rejection(s.apiKeys.insert({ ...apiKey('k-new', 5), tokenHash: admin.tokenHash }));
        expect(byToken).toBeInstanceOf(DuplicateKeyError);
        expect((byToken as DuplicateKeyError).field).toBe('tokenHash');
        const byId = await rejection(s.apiKeys.insert({ ...apiKey('k-admin', 5), tokenHash: 'f'.repeat(64) }));
        expect(byId).toBeInstanceOf(DuplicateKeyError);
        expect((byId as DuplicateKeyError).field).toBe('id');

        expect(await s.apiKeys.byId('k-auditor')).toEqual(auditor);
        expect(await s.apiKeys.byId('nope')).toBeUndefined();
        expect(await s.apiKeys.byTokenHash(admin.tokenHash)).toEqual(admin);
        expect(await s.apiKeys.byTokenHash('0'.repeat(64))).toBeUndefined();
        expect(sortById(await s.apiKeys.activeAdmins())).toEqual([admin, oldAdmin]);

        const first = new Date(t0.getTime() + 10_000);
        await s.apiKeys.revoke('k-old', first);
        await s.apiKeys.revoke('k-old', new Date(t0.getTime() + 20_000));
        await s.apiKeys.revoke('nope', first);
        expect((await s.apiKeys.byId('k-old'))!.revokedAt).toEqual(first);
        expect(await s.apiKeys.activeAdmins()).toEqual([admin]);
        expect((await s.apiKeys.list()).map((k) => k.id)).toEqual(['k-old', 'k-admin', 'k-auditor']);
      });
    });

    describe('the integrity reader', () => {
      it('streams every stored event in order, in batches, with the fields a leaf is derived from', async () => {
        const s = await fresh();
        const events = Array.from({ length: 25 }, (_, i) => (i % 3 === 0 ? fullEvent(i) : makeEvent(i, { groups: i % 2 ? ['g1'] : [] })));
        await s.events.append(events.slice(0, 12));
        await s.events.append(events.slice(12));
        const batches = await collect(s.integrity.events(7));
        expect(batches.length).toBeGreaterThan(1);
        for (const b of batches) expect(b.length).toBeLessThanOrEqual(7);
        const raw: RawStoredEvent[] = batches.flat();
        expect(raw.map((r) => r.position)).toEqual(leafIndices(events));
        raw.forEach((r, i) => {
          const { leafIndex: _index, idempotencyKey: _key, contentDigest: _digest, ...fields } = events[i]!;
          expect({ ...r.fields, leafHash: hex(r.fields.leafHash) }).toEqual({ ...fields, leafHash: hex(fields.leafHash) });
          expect(undefinedKeys(r.fields)).toEqual([]);
          expect(r.fields.leafHash).toBeInstanceOf(Uint8Array);
          // verify-db re-derives each leaf from exactly these fields.
          expect(leafOfFields(r.fields as unknown as EventFields)).toBe(events[i]!.leaf);
        });
        expect(await collect(s.integrity.events(1000))).toHaveLength(1);
      });

      it('reads ranges as value rows that give each leaf, and spans the stored positions (where it serves range reads)', async () => {
        const s = await fresh();
        const reader = s.integrity;
        if (!reader.eventValuesRange || !reader.eventRange || !reader.positionSpan) return;
        const positionSpan = () => reader.positionSpan!();
        expect(await positionSpan()).toBeUndefined();
        const events = Array.from({ length: 25 }, (_, i) => (i % 3 === 0 ? fullEvent(i) : makeEvent(i, { groups: i % 2 ? ['g1'] : [] })));
        await s.events.append(events);
        expect(await positionSpan()).toEqual({ count: 25, first: 0, last: 24 });
        const rows = await reader.eventValuesRange(3, 20);
        expect(rows.map((r) => r[0])).toEqual(leafIndices(events).slice(3, 20));
        for (const row of rows) {
          const event = events[row[0] as number]!;
          // verify-db's workers re-derive each leaf from exactly these values.
          expect([row[0], directLeafOfValues(row), row[20]]).toEqual([event.leafIndex, event.leaf, hex(event.leafHash)]);
          expect((await reader.eventRange(event.leafIndex, event.leafIndex + 1)).map((r) => r.position)).toEqual([event.leafIndex]);
        }
      });

      it('finds nothing in an empty ledger, and the stored tiles among the ids asked for', async () => {
        const s = await fresh();
        expect(await collect(s.integrity.events(10))).toEqual([]);
        await s.tiles.write([
          { level: 0, index: 0, hashes: new Uint8Array(64).fill(1) },
          { level: 1, index: 0, hashes: new Uint8Array(32).fill(2) },
        ]);
        const tiles = await s.integrity.tiles(['0/0', '0/1', '1/0']);
        expect(tiles.map((t) => ({ ...t, hashes: hex(t.hashes) })).sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual([
          { id: '0/0', level: 0, index: 0, hashes: hex(new Uint8Array(64).fill(1)) },
          { id: '1/0', level: 1, index: 0, hashes: hex(new Uint8Array(32).fill(2)) },
        ]);
      });
    });
  });
}
