/**
 * The sequencer and the ledger's write path against the SQLite adapter in memory: group
 * commit, idempotency (replay and conflict), a refused event failing only its own
 * submission, and recovery of a batch interrupted after its events were stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { generateSignerKey, parseSignerKey } from '../../src/checkpoint/signer';
import type { EventContent } from '../../src/event/eventRecord';
import { Ledger } from '../../src/ledger/ledger';
import { buildEvent } from '../../src/log/eventBuilder';
import { contentDigest, IdempotencyConflictError, scopedKey } from '../../src/log/idempotency';
import { Lease } from '../../src/log/lease';
import { AppendQueueTimeoutError, type AppendResult, Sequencer, type SequencerDeps } from '../../src/log/sequencer';
import { TileCache } from '../../src/log/tileCache';
import { nodeCryptoRfc6962 as hasher } from '../../src/merkle/nodeHasher';
import { EventRejectedError } from '../../src/storage/errors';
import type { EventRepository, LedgerStorage } from '../../src/storage/port';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { verifyCheckpoint, verifyInclusion } from '../../src/verify';

const logger = pino({ level: 'silent' });
const { signerKey, verifierKey } = generateSignerKey('test.example/log');
const signer = parseSignerKey(signerKey);

const content = (i: number, extra: Partial<EventContent> = {}): EventContent => ({
  action: 'doc.read',
  actor: { id: `u${i}`, type: 'USER' },
  outcome: 'SUCCESS',
  groups: [],
  ...extra,
});

function verifyResult(r: AppendResult): void {
  const cp = verifyCheckpoint(r.checkpoint.note, verifierKey);
  verifyInclusion({ leafHash: r.leafHash, leafIndex: r.leafIndex, treeSize: cp.treeSize, proof: r.proof, rootHash: cp.rootHash });
}

function sequencerOn(storage: LedgerStorage, events: EventRepository = storage.events, more: Partial<SequencerDeps> = {}): Sequencer {
  return new Sequencer({
    events,
    tiles: new TileCache(storage.tiles, hasher),
    checkpoints: storage.checkpoints,
    head: storage.head,
    idempotency: storage.idempotency,
    lease: new Lease(storage.lease, 'test', 3000),
    signer,
    origin: 'test.example/log',
    hasher,
    logger,
    ...more,
  });
}

/** A lease whose round trips fail while `down` says so, as through a database that is gone. */
function leaseThrough(storage: LedgerStorage, down: () => boolean): Lease {
  const real = new Lease(storage.lease, 'test', 3000);
  return new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => (down() ? Promise.reject(new Error('connection refused')) : (value as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
}

describe('the sequencer on SQLite in memory', () => {
  let storage: LedgerStorage;
  beforeEach(async () => {
    storage = await openSqliteStorage({ file: ':memory:', create: true });
  });
  afterEach(async () => storage.close());

  it('commits concurrent submissions as consecutive leaves, each provable under a signed checkpoint', async () => {
    const seq = sequencerOn(storage);
    await seq.initialise();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => seq.append([{ content: content(i) }, { content: content(i + 100) }])));
    const indices = results.flat().map((r) => r.leafIndex).sort((a, b) => a - b);
    expect(indices).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // A submission's events stay together, in order.
    for (const [a, b] of results) expect(b!.leafIndex).toBe(a!.leafIndex + 1);
    results.flat().forEach(verifyResult);
    await seq.stop();
  });

  it('replays a retried idempotency key and refuses its reuse for other content', async () => {
    const seq = sequencerOn(storage);
    await seq.initialise();
    const key = scopedKey('key-1', 'retry-me');
    const request = { content: content(1), idempotencyKey: key, contentDigest: 'd1' };
    const [first] = await seq.append([request]);
    const [again] = await seq.append([request]);
    expect(again).toMatchObject({ leafIndex: first!.leafIndex, eventId: first!.eventId, replayed: true });
    verifyResult(again!);
    await expect(seq.append([{ ...request, contentDigest: 'd2' }])).rejects.toThrow(IdempotencyConflictError);
    // Inside one submission, a repeated key is the same event.
    const [x, y] = await seq.append([
      { content: content(2), idempotencyKey: scopedKey('key-1', 'twice'), contentDigest: 'e' },
      { content: content(2), idempotencyKey: scopedKey('key-1', 'twice'), contentDigest: 'e' },
    ]);
    expect(y!.leafIndex).toBe(x!.leafIndex);
    await seq.stop();
  });

  it('fails appends that waited out a database outage in the queue, UNAVAILABLE and unrecorded, and commits again once it answers', async () => {
    let down = false;
    const seq = sequencerOn(storage, storage.events, { lease: leaseThrough(storage, () => down), queueTimeoutMs: 50 });
    await seq.initialise();
    await seq.append([{ content: content(1) }]);
    down = true;
    const err = await seq.append([{ content: content(2) }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppendQueueTimeoutError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/not recorded; retry it/) });
    expect(seq.queuedEvents).toBe(0);
    down = false;
    const [next] = await seq.append([{ content: content(3) }]);
    expect(next!.leafIndex).toBe(1);
    verifyResult(next!);
    expect((await storage.head.read())!.checkpoint.treeSize).toBe(2);
    await seq.stop();
  });

  it('fails only the submission the database refuses; the others of its batch are committed', async () => {
    // An adapter that refuses any batch holding a "poison" event, as an engine refuses an oversized document.
    let refusals = 0;
    const picky: EventRepository = Object.assign(Object.create(storage.events) as EventRepository, {
      append: async (events: Parameters<EventRepository['append']>[0]) => {
        if (events.some((e) => e.action === 'poison.event')) {
          refusals++;
          throw new EventRejectedError('refused by the engine');
        }
        return storage.events.append(events);
      },
    });
    const seq = sequencerOn(storage, picky);
    await seq.initialise();
    const good = Array.from({ length: 6 }, (_, i) => seq.append([{ content: content(i) }]));
    const bad = seq.append([{ content: content(99, { action: 'poison.event' }) }]);
    await expect(bad).rejects.toThrow(EventRejectedError);
    const committed = (await Promise.all(good)).flat();
    expect(committed).toHaveLength(6);
    committed.forEach(verifyResult);
    expect(refusals).toBeGreaterThanOrEqual(1);
    expect((await storage.head.read())!.checkpoint.treeSize).toBe(6);
    await seq.stop();
  });

  it('rejects an event too large for the engine before writing anything', async () => {
    const small: EventRepository = Object.assign(Object.create(storage.events) as EventRepository, { maxEventBytes: 4096 });
    const seq = sequencerOn(storage, small);
    await seq.initialise();
    const ok = seq.append([{ content: content(1) }]);
    const big = seq.append([{ content: content(2, { reason: 'x'.repeat(5000) }) }]);
    await expect(big).rejects.toThrow(EventRejectedError);
    expect(await ok).toHaveLength(1);
    expect((await storage.head.read())!.checkpoint.treeSize).toBe(1);
    await seq.stop();
  });

  it('recovers a batch whose events were stored but never checkpointed', async () => {
    const first = sequencerOn(storage);
    await first.initialise();
    await first.append([{ content: content(0) }, { content: content(1) }]);
    await first.stop();
    // A crash after step 1 of a batch: the head records it as pending, its events are stored.
    const stranded = [2, 3, 4].map((i) => buildEvent({ content: content(i), leafIndex: i, recordedAt: Date.now() }, hasher));
    expect(await storage.head.markPending(2, 5)).toBe(true);
    await storage.events.append(stranded);
    const second = sequencerOn(storage);
    const [next] = await second.append([{ content: content(5) }]);
    expect(next!.leafIndex).toBe(5);
    expect(next!.checkpoint.treeSize).toBe(6);
    verifyResult(next!);
    expect((await storage.head.read())!.pending).toBeNull();
    await second.stop();
  });
});

describe('the ledger write path', () => {
  let storage: LedgerStorage;
  let dir: string;
  let ledger: Ledger;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-unit-'));
    storage = await openSqliteStorage({ file: ':memory:', create: true });
    ledger = await Ledger.open({ storage, logger, signingKeyFile: path.join(dir, 'signing.key'), origin: 'unit.example/log' });
  });
  afterAll(async () => {
    await ledger.close();
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  const recorder = { keyId: 'k1', userId: 'u-svc', groupIds: [] as string[] };

  it('answers a retry from the idempotency record, and names the key and leaf on a conflicting reuse', async () => {
    const request = { content: { action: 'invoice.paid', actor: { id: 'x', type: 'USER' as const }, outcome: 'SUCCESS' as const }, idempotencyKey: 'pay-1' };
    const [first] = await ledger.record([request], recorder);
    const [retry] = await ledger.record([request], recorder);
    expect(retry).toMatchObject({ leafIndex: first!.leafIndex, eventId: first!.eventId, replayed: true });
    const conflict = ledger.record([{ ...request, content: { ...request.content, action: 'invoice.void' } }], recorder);
    await expect(conflict).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'pay-1', leafIndex: first!.leafIndex });
    // Another key's holder may use the same client key independently.
    const [other] = await ledger.record([request], { ...recorder, keyId: 'k2' });
    expect(other!.leafIndex).not.toBe(first!.leafIndex);
    expect(contentDigest(request.content)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('stamps provenance, and only the groups within a scoped appender key', async () => {
    const user = await ledger.directory.createUser({ name: 'Ann', type: 'HUMAN', externalId: 'hr-42' });
    const a = await ledger.directory.createGroup({ name: 'Team A' });
    const b = await ledger.directory.createGroup({ name: 'Team B' });
    await ledger.directory.addMember(a.id, user.id);
    await ledger.directory.addMember(b.id, user.id);
    const act = (actorId: string, groupIds: string[]) =>
      ledger.record([{ content: { action: 'doc.open', actor: { id: actorId, type: 'USER' }, outcome: 'SUCCESS' } }], { ...recorder, groupIds });
    const [unscoped] = await act(user.id, []);
    const [scoped] = await act(user.id, [a.id]);
    const [byExternalId] = await act('hr-42', [b.id]);
    const read = async (r: AppendResult | undefined) => (await ledger.eventByLeafIndex(r!.leafIndex))!;
    expect((await read(unscoped)).groups).toEqual([a.id, b.id].sort());
    expect((await read(scoped)).groups).toEqual([a.id]);
    expect((await read(byExternalId)).groups).toEqual([b.id]);
    expect((await read(scoped)).submitter).toEqual({ keyId: 'k1', userId: 'u-svc' });
    expect(JSON.parse((await read(scoped)).leaf)).toMatchObject({ submitter: { keyId: 'k1', userId: 'u-svc' } });
  });

  it('keeps the latest checkpoint as it signs them (SQLite: no other server moves the head), read from storage once', async () => {
    const reads = jest.spyOn(storage.head, 'read');
    try {
      const before = await ledger.latestCheckpoint();
      const [r] = await ledger.record([{ content: { action: 'doc.open', actor: { id: 'x', type: 'USER' }, outcome: 'SUCCESS' } }], recorder);
      const after = await ledger.latestCheckpoint();
      expect(after.treeSize).toBe(r!.leafIndex + 1);
      expect(after.treeSize).toBeGreaterThan(before.treeSize);
      expect(after.note).toBe(r!.checkpoint.note);
      expect(after).toEqual((await storage.head.read())!.checkpoint);
      expect(reads).toHaveBeenCalledTimes(1); // the comparison just above, not the ledger
    } finally {
      reads.mockRestore();
    }
  });
});
