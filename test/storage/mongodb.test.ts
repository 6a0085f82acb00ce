/**
 * The mongodb adapter: the shared storage contract, then what only this adapter has (its
 * database marker, engine error shapes, document size limit, credentials in the URI). Runs on
 * the integration run's engine (support/globalSetup.ts): the embedded FerretDB, or the MongoDB
 * that LEDGER_TEST_MONGODB_URI names. Every storage gets a fresh database, dropped on close.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Binary, type Db } from 'mongodb';
import { leafOfFields } from '../../src/event/storedEvent';
import { LedgerError } from '../../src/errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError, WrongDatabaseError } from '../../src/storage/errors';
import { connectClient, describeDatabase } from '../../src/storage/mongodb/client';
import { mongoUriWithoutCredentials, openMongoStorage } from '../../src/storage/mongodb/mongoStorage';
import type { EventFields, LedgerStorage, RawStoredEvent, StoredEvent } from '../../src/storage/port';
import { mongoUnavailable } from '../support/adapters';
import { describeStorageContract } from './contract';

const uri = process.env.MONGODB_URI;
const engineName = process.env.LEDGER_TEST_MONGODB_URI ? 'MongoDB' : 'FerretDB';

function freshName(): string {
  return `storage_${randomBytes(6).toString('hex')}`;
}

/** Runs `use` on a client of the engine, for reaching past the adapter. */
async function withDb<T>(dbName: string, use: (db: Db) => Promise<T>): Promise<T> {
  const client = connectClient(String(uri));
  await client.connect();
  try {
    return await use(client.db(dbName));
  } finally {
    await client.close();
  }
}

interface OpenedStorage extends LedgerStorage {
  readonly dbName: string;
}

/** A storage on a fresh database that is dropped when the storage closes. */
async function openFresh(): Promise<OpenedStorage> {
  const dbName = freshName();
  const storage = await openMongoStorage({ uri: String(uri), dbName, create: true });
  return {
    ...storage,
    dbName,
    async close() {
      await storage.close();
      await withDb(dbName, (db) => db.dropDatabase());
    },
  };
}

if (!uri) {
  const why =
    `the mongodb adapter's suite needs its test engine: ${mongoUnavailable() ?? 'MONGODB_URI is unset'}. ` +
    'Install Go (at /usr/local/go, or any go on PATH) so that FerretDB can be built through the Go module proxy, ' +
    'or set LEDGER_TEST_MONGODB_URI to a MongoDB replica set.';
  if (process.env.CI === 'true') {
    describe('mongodb adapter', () => {
      it('has its test engine (required under CI=true)', () => {
        throw new Error(why);
      });
    });
  } else {
    describe('mongodb adapter', () => {
      it('is skipped: no test engine', () => {
        console.info(`skipped: ${why}`);
      });
    });
  }
} else {
  describeStorageContract(`mongodb (${engineName})`, {
    open: openFresh,
    reopen: (storage) => openMongoStorage({ uri: String(uri), dbName: (storage as OpenedStorage).dbName, create: false }),
  });
  describeAdapterSpecifics();
}

// ---------------------------------------------------------------------------------------

let salts = 0;
function eventAt(leafIndex: number, change: Partial<EventFields> & Partial<Pick<StoredEvent, 'idempotencyKey' | 'contentDigest'>> = {}): StoredEvent {
  const { idempotencyKey, contentDigest, ...fieldChange } = change;
  const fields: EventFields = {
    id: randomUUID(),
    action: 'user.login',
    actor: { id: 'alice', type: 'USER' },
    outcome: 'SUCCESS',
    groups: ['g1'],
    recordedAt: new Date(1_767_225_600_000 + leafIndex),
    salt: (salts++).toString(16).padStart(32, '0'),
    ...fieldChange,
  };
  const leaf = leafOfFields(fields);
  const leafHash = new Uint8Array(createHash('sha256').update(Buffer.concat([Buffer.from([0]), Buffer.from(leaf, 'utf8')])).digest());
  return {
    ...fields,
    leafIndex,
    leaf,
    leafHash,
    ...(idempotencyKey !== undefined && { idempotencyKey }),
    ...(contentDigest !== undefined && { contentDigest }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

function hasUndefinedValue(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || value instanceof Date || value instanceof Uint8Array) return false;
  return Object.values(value).some((v) => v === undefined || hasUndefinedValue(v));
}

function describeAdapterSpecifics(): void {
  describe('mongodb adapter specifics', () => {
    describe('which databases it opens', () => {
      it('refuses an empty database without create, naming it, and leaves it empty', async () => {
        const dbName = freshName();
        const err = await rejection(openMongoStorage({ uri: String(uri), dbName, create: false }));
        expect(err).toBeInstanceOf(WrongDatabaseError);
        expect((err as WrongDatabaseError).code).toBe('WRONG_DATABASE');
        expect((err as Error).message).toContain(dbName);
        expect(await withDb(dbName, async (db) => (await db.listCollections().toArray()).length)).toBe(0);
      });

      it("refuses a database holding someone else's collections without create", async () => {
        const dbName = freshName();
        await withDb(dbName, (db) => db.collection('orders').insertOne({ _id: 'o-1' } as never));
        try {
          await expect(openMongoStorage({ uri: String(uri), dbName, create: false })).rejects.toBeInstanceOf(WrongDatabaseError);
        } finally {
          await withDb(dbName, (db) => db.dropDatabase());
        }
      });

      it('refuses a database marked as another format, even with create', async () => {
        const dbName = freshName();
        await withDb(dbName, (db) => db.collection('meta').insertOne({ _id: 'format', value: 'something-else', schemaVersion: 1 } as never));
        try {
          await expect(openMongoStorage({ uri: String(uri), dbName, create: true })).rejects.toBeInstanceOf(WrongDatabaseError);
        } finally {
          await withDb(dbName, (db) => db.dropDatabase());
        }
      });

      it('opens, without create, a ledger it created, and a ledger from before the marker (a log head only)', async () => {
        const created = await openFresh();
        try {
          const again = await openMongoStorage({ uri: String(uri), dbName: created.dbName, create: false });
          await again.close();
        } finally {
          await created.close();
        }
        const dbName = freshName();
        await withDb(dbName, (db) =>
          db.collection('logHead').insertOne({
            _id: 'head',
            size: 0,
            rootHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
            note: 'note',
            signedAt: new Date(),
            lastRecordedAt: 0,
            pending: null,
          } as never),
        );
        try {
          const old = await openMongoStorage({ uri: String(uri), dbName, create: false });
          expect((await old.head.read())?.checkpoint.treeSize).toBe(0);
          await old.close();
        } finally {
          await withDb(dbName, (db) => db.dropDatabase());
        }
      });

      it('fails to open an unreachable server as UNAVAILABLE, not as a driver error', async () => {
        const err = await rejection(openMongoStorage({ uri: 'mongodb://127.0.0.1:9/?serverSelectionTimeoutMS=300', dbName: freshName(), create: false }));
        expect(err).toBeInstanceOf(LedgerError);
        expect((err as LedgerError).code).toBe('UNAVAILABLE');
      }, 20_000);
    });

    describe('its description', () => {
      it('drops credentials and secret options from the URI', () => {
        expect(mongoUriWithoutCredentials('mongodb://alice:s3cr%40t@h1:27017,h2:27018/admin?replicaSet=rs&authMechanismProperties=AWS_SESSION_TOKEN:xyz')).toBe(
          'mongodb://h1:27017,h2:27018/admin?replicaSet=rs&authMechanismProperties=REDACTED',
        );
        // A password with unencoded `/` and `@` must not leak either.
        expect(mongoUriWithoutCredentials('mongodb+srv://u:p/a@ss@cluster.example.net/')).toBe('mongodb+srv://cluster.example.net/');
        expect(mongoUriWithoutCredentials('mongodb://127.0.0.1:27017/')).toBe('mongodb://127.0.0.1:27017/');
        expect(describeDatabase('mongodb://alice:secret@h1,h2/admin?replicaSet=rs', 'audit_ledger')).toBe('mongodb://h1,h2/audit_ledger');
      });

      it('names the database, without credentials', async () => {
        const storage = await openFresh();
        try {
          expect(storage.kind).toBe('mongodb');
          expect(storage.sharedByProcesses).toBe(true);
          expect(storage.description).toBe(`${describeDatabase(String(uri), storage.dbName)}`);
          expect(storage.description.endsWith(`/${storage.dbName}`)).toBe(true);
          expect(storage.description).not.toContain('@');
          await storage.ping();
        } finally {
          await storage.close();
        }
      });
    });

    describe('with a fresh ledger', () => {
      let storage: OpenedStorage;
      beforeEach(async () => {
        storage = await openFresh();
      });
      afterEach(async () => storage.close());

      it('reads an event back as appended, with absent optionals absent (no undefined values)', async () => {
        const full = eventAt(0, {
          actor: { id: 'svc', type: 'SERVICE', name: 'Service' },
          target: { type: 'document', id: 'doc-1', name: 'Doc' },
          reason: 'because',
          occurredAt: new Date('2026-01-01T00:00:00.000Z'),
          source: { ip: '10.0.0.1', requestId: 'r-1' },
          metadata: '{"a":1}',
          submitter: { keyId: 'key-1', userId: 'user-1' },
          idempotencyKey: 'k:key-1:retry-1',
          contentDigest: 'd'.repeat(64),
        });
        const bare = eventAt(1);
        await storage.events.append([full, bare]);
        expect(await storage.events.byLeafIndex(0)).toEqual(full);
        const readBare = await storage.events.byLeafIndex(1);
        expect(readBare).toEqual(bare);
        expect(Object.keys(readBare!).sort()).toEqual(Object.keys(bare).sort());
        expect(readBare!.leafHash).toBeInstanceOf(Uint8Array);
        expect(Buffer.isBuffer(readBare!.leafHash)).toBe(false);
        for (const e of await storage.events.range(0, 2)) expect(hasUndefinedValue(e)).toBe(false);
        expect(await storage.events.byId(full.id)).toEqual(full);
        const remembered = await storage.idempotency.lookup(['k:key-1:retry-1', 'k:key-1:other']);
        expect([...remembered.keys()]).toEqual(['k:key-1:retry-1']);
        expect(remembered.get('k:key-1:retry-1')).toEqual({
          key: 'k:key-1:retry-1',
          leafIndex: 0,
          eventId: full.id,
          leafHash: full.leafHash,
          contentDigest: 'd'.repeat(64),
        });
      });

      it('refuses a taken leaf index with LeafIndexTakenError naming it, keeping the stored prefix', async () => {
        await storage.events.append([eventAt(0), eventAt(1)]);
        await storage.events.append([eventAt(3, { action: 'kept' })]);
        const err = await rejection(storage.events.append([eventAt(2), eventAt(3), eventAt(4)]));
        expect(err).toBeInstanceOf(LeafIndexTakenError);
        expect((err as LeafIndexTakenError).leafIndex).toBe(3);
        // No transactions on this engine: the prefix before the collision is stored, nothing after it.
        expect((await storage.events.range(0, 10)).map((e) => e.leafIndex)).toEqual([0, 1, 2, 3]);
        expect((await storage.events.byLeafIndex(3))!.action).toBe('kept');
      });

      it('refuses a batch whose leaf indices are not consecutive, writing none of it', async () => {
        const err = await rejection(storage.events.append([eventAt(0), eventAt(2)]));
        expect(err).toBeInstanceOf(LedgerError);
        expect((err as LedgerError).code).toBe('INTERNAL');
        expect(await storage.events.range(0, 10)).toEqual([]);
      });

      it('names the duplicate field of an event: its id or its idempotency key', async () => {
        const first = eventAt(0, { idempotencyKey: 'k:key-1:a', contentDigest: 'x' });
        await storage.events.append([first]);
        const sameId = eventAt(1, { id: first.id });
        const byId = await rejection(storage.events.append([sameId]));
        expect(byId).toBeInstanceOf(DuplicateKeyError);
        expect((byId as DuplicateKeyError).field).toBe('id');
        const sameKey = await rejection(storage.events.append([eventAt(1, { idempotencyKey: 'k:key-1:a', contentDigest: 'y' })]));
        expect(sameKey).toBeInstanceOf(DuplicateKeyError);
        expect((sameKey as DuplicateKeyError).field).toBe('idempotencyKey');
      });

      it('rejects an oversized event with EventRejectedError before writing any of its batch', async () => {
        expect(storage.events.maxEventBytes).toBeGreaterThanOrEqual(8 * 1024 * 1024);
        expect(storage.events.maxEventBytes).toBeLessThan(16 * 1024 * 1024);
        const huge = eventAt(1, { metadata: JSON.stringify({ blob: 'x'.repeat(9 * 1024 * 1024) }) });
        const err = await rejection(storage.events.append([eventAt(0), huge]));
        expect(err).toBeInstanceOf(EventRejectedError);
        expect((err as EventRejectedError).code).toBe('EVENT_REJECTED');
        expect(await storage.events.estimatedCount()).toBe(0);
        expect(await storage.events.range(0, 2)).toEqual([]);
      });

      it('rejects an event its schema refuses with EventRejectedError, writing nothing', async () => {
        const bad = { ...eventAt(1), salt: 'not hex' };
        await expect(storage.events.append([eventAt(0), bad])).rejects.toBeInstanceOf(EventRejectedError);
        expect(await storage.events.range(0, 2)).toEqual([]);
      });

      it('matches an action prefix literally, through regular-expression characters', async () => {
        await storage.events.append([
          eventAt(0, { action: 'a.b.c' }),
          eventAt(1, { action: 'axb.c' }),
          eventAt(2, { action: 'a.b' }),
          eventAt(3, { action: 'x.a.b.c' }),
          eventAt(4, { action: 'a+(b' }),
        ]);
        const page = await storage.events.page({ treeSize: 5, limit: 10, actionPrefix: 'a.b' });
        expect(page.map((e) => e.leafIndex)).toEqual([0, 2]);
        expect((await storage.events.page({ treeSize: 5, limit: 10, actionPrefix: 'a+(' })).map((e) => e.leafIndex)).toEqual([4]);
        const counts = await storage.events.countBy('action', { actionPrefix: 'a.' }, 5);
        expect(counts).toEqual([
          { key: 'a.b', count: 1 },
          { key: 'a.b.c', count: 1 },
        ]);
      });

      it('names the duplicate field of directory records: id, nameKey, tokenHash', async () => {
        const now = new Date();
        const user = { id: 'u-1', name: 'Ann', type: 'HUMAN', externalId: 'ext-1', status: 'ACTIVE', createdAt: now, updatedAt: now } as const;
        await storage.users.insert(user);
        const userErr = await rejection(storage.users.insert({ ...user, name: 'Other' }));
        expect(userErr).toBeInstanceOf(DuplicateKeyError);
        expect((userErr as DuplicateKeyError).field).toBe('id');
        expect(await storage.users.byExternalIds(['ext-1', 'ext-2'])).toEqual([user]);

        const group = { id: 'g-1', name: 'Ops', nameKey: 'ops', description: null, members: [], createdAt: now };
        await storage.groups.insert(group);
        const byName = await rejection(storage.groups.insert({ ...group, id: 'g-2', name: 'OPS' }));
        expect((byName as DuplicateKeyError).field).toBe('nameKey');
        const byId = await rejection(storage.groups.insert({ ...group, name: 'Other', nameKey: 'other' }));
        expect((byId as DuplicateKeyError).field).toBe('id');

        const key = {
          id: 'k-1',
          name: 'key',
          roles: ['ADMIN'],
          userId: 'u-1',
          groupIds: [],
          tokenHash: 'a'.repeat(64),
          createdAt: now,
          createdBy: null,
          revokedAt: null,
        } as const;
        await storage.apiKeys.insert(key);
        const byToken = await rejection(storage.apiKeys.insert({ ...key, id: 'k-2' }));
        expect(byToken).toBeInstanceOf(DuplicateKeyError);
        expect((byToken as DuplicateKeyError).field).toBe('tokenHash');
        const byKeyId = await rejection(storage.apiKeys.insert({ ...key, tokenHash: 'b'.repeat(64) }));
        expect((byKeyId as DuplicateKeyError).field).toBe('id');
      });

      it('answers idempotency records written before the port from the event they point at', async () => {
        const event = eventAt(0, { idempotencyKey: 'k:key-1:old' });
        await withDb(storage.dbName, async (db) => {
          await storage.events.append([event]);
          await db.collection('idempotencyKeys').deleteMany({});
          await db.collection('idempotencyKeys').insertOne({ _id: 'k:key-1:old', leafIndex: 0 } as never);
        });
        expect((await storage.idempotency.lookup(['k:key-1:old'])).get('k:key-1:old')).toEqual({
          key: 'k:key-1:old',
          leafIndex: 0,
          eventId: event.id,
          leafHash: event.leafHash,
          contentDigest: '',
        });
      });

      it('shows verify-db the stored fields as found, edits included', async () => {
        await storage.events.append([eventAt(0, { idempotencyKey: 'k:key-1:z', contentDigest: 'c' }), eventAt(1), eventAt(2)]);
        await withDb(storage.dbName, async (db) => {
          await db.collection('events').updateOne({ _id: 1 } as never, { $set: { 'actor.id': 'mallory', leafHash: 'not bytes' } });
          await db.collection('events').insertOne({ _id: 'stray', id: 'x' } as never);
          await db.collection('tiles').insertMany([
            { _id: '0/0', level: 0, index: 0, width: 1, hashes: new Binary(new Uint8Array(32).fill(7)) },
            { _id: '0/1', level: 'zero', index: 1, width: 1, hashes: 'no' },
          ] as never[]);
        });
        const batches = await collect(storage.integrity.events(2));
        const all: RawStoredEvent[] = batches.flat();
        expect(all.map((e) => e.position)).toEqual([0, 1, 2, 'stray']);
        expect(all[0]!.fields).not.toHaveProperty('idem');
        expect(all[0]!.fields).not.toHaveProperty('contentDigest');
        expect(all[0]!.fields).not.toHaveProperty('_id');
        expect(all[0]!.fields.leafHash).toBeInstanceOf(Uint8Array);
        expect(all[0]!.fields.recordedAt).toBeInstanceOf(Date);
        expect((all[1]!.fields.actor as { id: string }).id).toBe('mallory');
        expect(all[1]!.fields.leafHash).toBe('not bytes');
        const tiles = await storage.integrity.tiles(['0/0', '0/1', '0/2']);
        const byId = new Map(tiles.map((t) => [t.id, t]));
        expect(byId.get('0/0')).toEqual({ id: '0/0', level: 0, index: 0, hashes: new Uint8Array(32).fill(7) });
        // A tile not shaped like one gets an impossible position, so the walk names it damaged.
        expect(byId.get('0/1')?.level).toBe(-1);
        expect(byId.has('0/2')).toBe(false);
      });

      it('reads the latest checkpoint by numeric tree size only, and checkpoints up to a size in order', async () => {
        const note = (n: number) => `note ${n}`;
        for (const size of [3, 1, 2]) {
          await storage.checkpoints.save({ treeSize: size, rootHash: 'ab'.repeat(32), note: note(size), createdAt: new Date() });
        }
        await storage.checkpoints.save({ treeSize: 2, rootHash: 'cd'.repeat(32), note: 'again', createdAt: new Date() });
        await withDb(storage.dbName, (db) => db.collection('checkpoints').insertOne({ _id: 'zzz', rootHash: 'x', note: 'x' } as never));
        expect(await storage.integrity.latestCheckpoint()).toEqual({ treeSize: 3, rootHash: 'ab'.repeat(32), note: note(3) });
        expect((await collect(storage.integrity.checkpoints(2))).map((c) => [c.treeSize, c.note])).toEqual([
          [1, note(1)],
          [2, note(2)],
        ]);
      });

      it('reports failures as LedgerErrors once closed', async () => {
        const closed = await openMongoStorage({ uri: String(uri), dbName: storage.dbName, create: false });
        await closed.close();
        const err = await rejection(closed.events.byLeafIndex(0));
        expect(err).toBeInstanceOf(LedgerError);
        await expect(closed.ping()).rejects.toBeInstanceOf(LedgerError);
      });
    });
  });
}
