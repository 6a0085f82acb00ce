/**
 * verify-db against a real log: events recorded through the server process, then the
 * database tampered with in each way an operator could, and the CLI run as a child process.
 * Every case works on its own copy of the recorded database.
 */
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { Binary, type Db, type MongoClient } from 'mongodb';
import { connectClient } from '../../src/db/database';
import { type EventDoc, leafOfDoc } from '../../src/log/eventStore';
import type { TileDoc } from '../../src/log/tileStore';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type LedgerEnv, ledgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import { engineUri } from '../support/testDatabase';

const COLLECTIONS = ['events', 'tiles', 'checkpoints'] as const;
const utf8 = new TextEncoder();

function input(i: number): Record<string, unknown> {
  return { action: 'document.update', actor: { id: `user-${i % 7}`, type: 'USER' }, target: { type: 'doc', id: `d${i}` }, metadata: { n: i } };
}

describe('verify-db', () => {
  let ledger: LedgerEnv;
  let client: MongoClient;
  let size: number;
  const copies: string[] = [];

  beforeAll(async () => {
    ledger = await ledgerEnv('vdb');
    const server = await startLedger(ledger.env);
    try {
      const keys = await bootstrapKeys(server.url, ledger.env);
      // 300 leaves: one full level-0 tile, so that a level-1 tile entry (leaves 0-255) exists too.
      const batch = Array.from({ length: 300 }, (_, i) => input(i));
      await gqlOk(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: batch }, keys.appender);
      for (let i = 300; i < 303; i++) {
        await gqlOk(server.url, 'mutation($i: EventInput!) { recordEvent(input: $i) { leafIndex } }', { i: input(i) }, keys.appender);
      }
      size = 303;
    } finally {
      await server.stop();
    }
    client = connectClient(engineUri());
    await client.connect();
  });

  afterAll(async () => {
    for (const name of copies) await client.db(name).dropDatabase().catch(() => undefined);
    await client.db(String(ledger.env.LEDGER_DB_NAME)).dropDatabase().catch(() => undefined);
    await client.close();
    await ledger.dispose();
  });

  /** A private copy of the recorded ledger to tamper with. */
  async function copy(): Promise<{ db: Db; name: string }> {
    const name = `vdbcopy_${randomBytes(4).toString('hex')}`;
    copies.push(name);
    const source = client.db(String(ledger.env.LEDGER_DB_NAME));
    const target = client.db(name);
    for (const c of COLLECTIONS) {
      const docs = await source.collection(c).find({}).toArray();
      if (docs.length > 0) await target.collection(c).insertMany(docs);
    }
    return { db: target, name };
  }

  function verifyDb(name: string, args: string[] = []): ReturnType<typeof runCli> {
    return runCli(['verify-db', ...args], {
      ...ledger.env,
      LEDGER_DB_NAME: name,
      LEDGER_SIGNING_KEY_FILE: path.join(ledger.dataDir, 'signing.key'),
    });
  }

  function affected(stdout: string): string | undefined {
    return /affected leaf indices: (.*)/.exec(stdout)?.[1];
  }

  const events = (db: Db) => db.collection<EventDoc>('events');

  it('passes an untouched database', async () => {
    const { name } = await copy();
    const res = await verifyDb(name, ['--progress']);
    expect(res.stdout).toContain('INTACT');
    expect(res.stderr).toContain(`verify-db [`);
    expect(res.stdout).toContain(`${size} recomputed`);
    expect(res.code).toBe(0);
  });

  it('names an event whose field was edited', async () => {
    const { db, name } = await copy();
    await events(db).updateOne({ _id: 7 }, { $set: { 'actor.id': 'someone-else' } });
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('7');
    expect(res.stdout).toContain('leaf 7: the event document is inconsistent: its fields do not match its stored leaf text');
  });

  it('names an event edited together with its leaf and leaf hash', async () => {
    const { db, name } = await copy();
    const doc = (await events(db).findOne({ _id: 9 }))!;
    const edited = { ...doc, outcome: 'DENIED' as const };
    const leaf = leafOfDoc(edited);
    await events(db).replaceOne({ _id: 9 }, { ...edited, leaf, leafHash: new Binary(nodeCryptoRfc6962.leafHash(utf8.encode(leaf))) });
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('9');
    expect(res.stdout).toContain('leaf 9: the event does not match the stored leaf hash (tile 0/0 entry 9)');
  });

  it('names deleted events, in the middle and at the end', async () => {
    const { db, name } = await copy();
    await events(db).deleteMany({ _id: { $in: [12, 13, size - 1] } });
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe(`12-13, ${size - 1}`);
    expect(res.stdout).toContain('leaf 12: missing from the events collection');
  });

  it('names every leaf displaced by an inserted event', async () => {
    const { db, name } = await copy();
    const later = await events(db).find({ _id: { $gte: 295 } }).sort({ _id: -1 }).toArray();
    await events(db).deleteMany({ _id: { $gte: 295 } });
    const template = later[later.length - 1]!;
    const forged = { ...template, id: randomUUID(), salt: randomBytes(16).toString('hex'), action: 'forged.entry' };
    const leaf = leafOfDoc(forged);
    const inserted: EventDoc = { ...forged, _id: 295, leaf, leafHash: new Binary(nodeCryptoRfc6962.leafHash(utf8.encode(leaf))), idem: `id:${forged.id}` };
    await events(db).insertMany([inserted, ...later.reverse().map((d) => ({ ...d, _id: d._id + 1 }))]);
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    // Leaves 295..302 now hold other events than the signed tree; leaf 303 is beyond the last checkpoint.
    expect(affected(res.stdout)).toBe(`295-${size - 1}`);
    expect(res.stdout).toContain('1 after the latest checkpoint');
  });

  it('names both events of a swapped pair', async () => {
    const { db, name } = await copy();
    const [a, b] = await Promise.all([events(db).findOne({ _id: 3 }), events(db).findOne({ _id: 4 })]);
    await events(db).deleteMany({ _id: { $in: [3, 4] } });
    await events(db).insertMany([{ ...b!, _id: 3 }, { ...a!, _id: 4 }]);
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('3-4');
  });

  it('names the leaf under an edited level-0 tile hash', async () => {
    const { db, name } = await copy();
    await editTileEntry(db, '0/1', 5);
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('261');
  });

  it('names every leaf under an edited level-1 tile hash', async () => {
    const { db, name } = await copy();
    await editTileEntry(db, '1/0', 0);
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('0-255');
    expect(res.stdout).toContain('stored subtree hash tile 1/0 entry 0 (height 8) differs');
  });

  it('rejects a checkpoint whose signature does not verify, and accepts --vkey', async () => {
    const { db, name } = await copy();
    const latest = (await db.collection<{ _id: number; note: string }>('checkpoints').find({}).sort({ _id: -1 }).limit(1).next())!;
    const lines = latest.note.split('\n');
    const sig = lines[lines.length - 2]!;
    lines[lines.length - 2] = sig.slice(0, -6) + (sig.slice(-6, -5) === 'A' ? 'B' : 'A') + sig.slice(-5);
    await db.collection<{ _id: number; note: string }>('checkpoints').updateOne({ _id: latest._id }, { $set: { note: lines.join('\n') } });
    const res = await verifyDb(name);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('signature INVALID');
    const bad = await verifyDb(name, ['--vkey', 'not-a-key']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--vkey is not a verifier key');
  });

  async function editTileEntry(db: Db, id: string, entry: number): Promise<void> {
    const tiles = db.collection<TileDoc>('tiles');
    const tile = (await tiles.findOne({ _id: id }))!;
    const hashes = Buffer.from(tile.hashes.buffer);
    hashes[entry * 32] = hashes[entry * 32]! ^ 0xff;
    await tiles.updateOne({ _id: id }, { $set: { hashes: new Binary(hashes) } });
  }
});
