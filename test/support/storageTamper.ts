/**
 * What an operator with database access could do to a stored ledger, on either adapter:
 * the edits the verify-db and audit suites must catch. Test-only; reaches past the port on
 * purpose (the port has no way to edit a leaf, and must not).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Binary, type Db, type MongoClient } from 'mongodb';
import { leafOfFields } from '../../src/event/storedEvent';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { connectClient } from '../../src/storage/mongodb/client';
import { sqliteFile } from '../../src/storage/open';
import type { EventFields } from '../../src/storage/port';
import type { AdapterName } from './adapters';
import { openEnvStorage } from './ledgerFixture';

const utf8 = new TextEncoder();

export interface LedgerTamper {
  /** Changes one stored field and nothing else (the leaf text and hash stay). */
  setActorId(leafIndex: number, actorId: string): Promise<void>;
  /** Rewrites an event consistently: fields, leaf text and leaf hash. */
  rewriteEvent(leafIndex: number, edit: (fields: EventFields) => EventFields): Promise<void>;
  deleteEvents(leafIndices: readonly number[]): Promise<void>;
  /** Inserts a forged event at `leafIndex`, moving every later event up by one. */
  insertForgedAt(leafIndex: number): Promise<void>;
  swapEvents(a: number, b: number): Promise<void>;
  /** Flips the first byte of one hash in a stored tile. */
  flipTileHash(level: number, index: number, entry: number): Promise<void>;
  /** Changes one character of the latest stored checkpoint's signature. */
  corruptLatestSignature(): Promise<void>;
  close(): Promise<void>;
}

/** The database a ledger env names, opened for tampering. */
export async function tamperWith(adapter: AdapterName, env: NodeJS.ProcessEnv): Promise<LedgerTamper> {
  return adapter === 'sqlite' ? sqliteTamper(sqliteFile(String(env.LEDGER_DATA_DIR))) : mongoTamper(String(env.MONGODB_URI), String(env.LEDGER_DB_NAME));
}

/** A private copy of a stopped ledger's database: the env to point commands at it. */
export async function copyLedger(adapter: AdapterName, env: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  if (adapter === 'sqlite') {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-copy-'));
    const source = new Database(sqliteFile(String(env.LEDGER_DATA_DIR)), { readonly: true });
    try {
      source.exec(`VACUUM INTO '${sqliteFile(dir).replaceAll("'", "''")}'`);
    } finally {
      source.close();
    }
    return { ...env, LEDGER_DATA_DIR: dir, LEDGER_SIGNING_KEY_FILE: path.join(String(env.LEDGER_DATA_DIR), 'signing.key') };
  }
  const name = `copy_${randomBytes(4).toString('hex')}`;
  const client = connectClient(String(env.MONGODB_URI));
  await client.connect();
  try {
    const source = client.db(String(env.LEDGER_DB_NAME));
    for (const c of await source.listCollections().toArray()) {
      const docs = await source.collection(c.name).find({}).toArray();
      if (docs.length > 0) await client.db(name).collection(c.name).insertMany(docs);
    }
  } finally {
    await client.close();
  }
  return { ...env, LEDGER_DB_NAME: name, LEDGER_SIGNING_KEY_FILE: path.join(String(env.LEDGER_DATA_DIR), 'signing.key') };
}

async function storedFields(env: NodeJS.ProcessEnv, leafIndex: number): Promise<EventFields> {
  const storage = await openEnvStorage(env);
  try {
    const event = await storage.events.byLeafIndex(leafIndex);
    if (!event) throw new Error(`no event at ${leafIndex}`);
    const { leaf: _leaf, leafHash: _hash, leafIndex: _index, idempotencyKey: _key, contentDigest: _digest, ...fields } = event;
    return fields;
  } finally {
    await storage.close();
  }
}

function sqliteTamper(file: string): LedgerTamper {
  const db = new Database(file);
  const env = { MONGODB_URI: '', LEDGER_DATA_DIR: path.dirname(file) };
  const setLeaf = (leafIndex: number, fields: EventFields, outcomeColumn: string): void => {
    const leaf = leafOfFields(fields);
    db.prepare(`UPDATE events SET ${outcomeColumn} = ?, action = ?, id = ?, salt = ?, leaf = ?, leaf_hash = ? WHERE leaf_index = ?`).run(
      fields.outcome,
      fields.action,
      fields.id,
      fields.salt,
      leaf,
      Buffer.from(nodeCryptoRfc6962.leafHash(utf8.encode(leaf))),
      leafIndex,
    );
  };
  return {
    async setActorId(leafIndex, actorId) {
      db.prepare('UPDATE events SET actor_id = ? WHERE leaf_index = ?').run(actorId, leafIndex);
    },
    async rewriteEvent(leafIndex, edit) {
      setLeaf(leafIndex, edit(await storedFields(env, leafIndex)), 'outcome');
    },
    async deleteEvents(leafIndices) {
      const del = db.prepare('DELETE FROM events WHERE leaf_index = ?');
      for (const i of leafIndices) del.run(i);
    },
    async insertForgedAt(leafIndex) {
      const template = await storedFields(env, leafIndex);
      const row = db.prepare('SELECT * FROM events WHERE leaf_index = ?').get(leafIndex) as Record<string, unknown>;
      const last = (db.prepare('SELECT max(leaf_index) AS m FROM events').get() as { m: number }).m;
      const move = db.prepare('UPDATE events SET leaf_index = leaf_index + 1 WHERE leaf_index = ?');
      for (let i = last; i >= leafIndex; i--) move.run(i);
      const forged = { ...template, id: randomUUID(), salt: randomBytes(16).toString('hex'), action: 'forged.entry' };
      const columns = Object.keys(row);
      db.prepare(`INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`).run(
        ...columns.map((c) => (c === 'id' ? forged.id : c === 'idempotency_key' ? null : row[c])),
      );
      setLeaf(leafIndex, forged, 'outcome');
    },
    async swapEvents(a, b) {
      const move = db.prepare('UPDATE events SET leaf_index = ? WHERE leaf_index = ?');
      db.transaction(() => {
        move.run(-1, a);
        move.run(a, b);
        move.run(b, -1);
      })();
    },
    async flipTileHash(level, index, entry) {
      const row = db.prepare('SELECT hashes FROM tiles WHERE level = ? AND idx = ?').get(level, index) as { hashes: Buffer };
      const hashes = Buffer.from(row.hashes);
      hashes[entry * 32] = hashes[entry * 32]! ^ 0xff;
      db.prepare('UPDATE tiles SET hashes = ? WHERE level = ? AND idx = ?').run(hashes, level, index);
    },
    async corruptLatestSignature() {
      const row = db.prepare('SELECT tree_size, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1').get() as { tree_size: number; note: string };
      db.prepare('UPDATE checkpoints SET note = ? WHERE tree_size = ?').run(corruptSignature(row.note), row.tree_size);
    },
    async close() {
      db.close();
    },
  };
}

async function mongoTamper(uri: string, dbName: string): Promise<LedgerTamper> {
  const client: MongoClient = connectClient(uri);
  await client.connect();
  const db: Db = client.db(dbName);
  const env = { MONGODB_URI: uri, LEDGER_DB_NAME: dbName };
  const events = db.collection<{ _id: number; [key: string]: unknown }>('events');
  const withLeaf = (fields: EventFields) => {
    const leaf = leafOfFields(fields);
    return { leaf, leafHash: new Binary(nodeCryptoRfc6962.leafHash(utf8.encode(leaf))) };
  };
  return {
    async setActorId(leafIndex, actorId) {
      await events.updateOne({ _id: leafIndex }, { $set: { 'actor.id': actorId } });
    },
    async rewriteEvent(leafIndex, edit) {
      const fields = edit(await storedFields(env, leafIndex));
      await events.updateOne({ _id: leafIndex }, { $set: { outcome: fields.outcome, action: fields.action, ...withLeaf(fields) } });
    },
    async deleteEvents(leafIndices) {
      await events.deleteMany({ _id: { $in: [...leafIndices] } });
    },
    async insertForgedAt(leafIndex) {
      const later = await events.find({ _id: { $gte: leafIndex } }).sort({ _id: -1 }).toArray();
      await events.deleteMany({ _id: { $gte: leafIndex } });
      const template = later[later.length - 1]!;
      const fields = await (async () => {
        await events.insertOne(template);
        const f = await storedFields(env, leafIndex);
        await events.deleteOne({ _id: leafIndex });
        return f;
      })();
      const forged = { ...fields, id: randomUUID(), salt: randomBytes(16).toString('hex'), action: 'forged.entry' };
      const inserted = { ...template, _id: leafIndex, id: forged.id, salt: forged.salt, action: forged.action, idem: `id:${forged.id}`, ...withLeaf(forged) };
      await events.insertMany([inserted, ...later.reverse().map((d) => ({ ...d, _id: d._id + 1 }))]);
    },
    async swapEvents(a, b) {
      const [x, y] = await Promise.all([events.findOne({ _id: a }), events.findOne({ _id: b })]);
      await events.deleteMany({ _id: { $in: [a, b] } });
      await events.insertMany([{ ...y!, _id: a }, { ...x!, _id: b }]);
    },
    async flipTileHash(level, index, entry) {
      const tiles = db.collection<{ _id: string; hashes: Binary }>('tiles');
      const tile = (await tiles.findOne({ _id: `${level}/${index}` }))!;
      const hashes = Buffer.from(tile.hashes.buffer);
      hashes[entry * 32] = hashes[entry * 32]! ^ 0xff;
      await tiles.updateOne({ _id: tile._id }, { $set: { hashes: new Binary(hashes) } });
    },
    async corruptLatestSignature() {
      const checkpoints = db.collection<{ _id: number; note: string }>('checkpoints');
      const latest = (await checkpoints.find({}).sort({ _id: -1 }).limit(1).next())!;
      await checkpoints.updateOne({ _id: latest._id }, { $set: { note: corruptSignature(latest.note) } });
    },
    async close() {
      await client.close();
    },
  };
}

function corruptSignature(note: string): string {
  const lines = note.split('\n');
  const sig = lines[lines.length - 2]!;
  lines[lines.length - 2] = sig.slice(0, -6) + (sig.slice(-6, -5) === 'A' ? 'B' : 'A') + sig.slice(-5);
  return lines.join('\n');
}
