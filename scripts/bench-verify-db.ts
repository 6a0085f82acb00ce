/**
 * verify-db throughput at 10^6 events: `npm run bench:verify-db`.
 *
 * Seeds a fresh database the fast way, with the modules the server itself uses (event
 * documents built with leafOfDoc, tiles written by TileStore, checkpoints signed by
 * signCheckpoint), then times the full check and, to tell the engine's share from ours,
 * a bare cursor read of the same documents and the check's CPU work on documents already
 * in memory. Uses MONGODB_URI if set, else starts the embedded engine in a temp folder.
 *
 *   BENCH_EVENTS=1000000   events to seed
 *   BENCH_DB=name          database to (re)use; seeded only if it does not hold BENCH_EVENTS events
 *   BENCH_DATA_DIR=dir     embedded engine data folder to keep between runs (with BENCH_DB)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Binary, type Db } from 'mongodb';
import { generateSignerKey, parseSignerKey, signCheckpoint } from '../src/checkpoint/signer';
import { engineCacheDir } from '../src/config';
import { ensureCollection } from '../src/db/collections';
import { connectClient } from '../src/db/database';
import { type EmbeddedEngine, startEmbeddedEngine } from '../src/engine/embeddedEngine';
import { checkEvent, checkEventExactly, type StoredEvent } from '../src/integrity/eventCheck';
import { checkDatabase } from '../src/integrity/databaseCheck';
import { TreeCheck } from '../src/integrity/treeCheck';
import { CHECKPOINTS_COLLECTION, CheckpointStore } from '../src/log/checkpointStore';
import { type EventDoc, EVENTS_COLLECTION, leafOfDoc } from '../src/log/eventStore';
import { TILES_COLLECTION, TileStore } from '../src/log/tileStore';
import { CompactRange } from '../src/merkle/compactRange';
import type { NodeId } from '../src/merkle/nodeId';
import { nodeCryptoRfc6962 } from '../src/merkle/nodeHasher';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const CHUNK = 10_000;
const CHECKPOINT_EVERY = 100_000;
const rows: [string, string, string][] = [];

function row(name: string, count: number, ms: number, note = ''): void {
  const rate = Math.round(count / (ms / 1000));
  rows.push([name, `${rate.toLocaleString('en-US')}/s`, `${(ms / 1000).toFixed(1)} s${note ? `; ${note}` : ''}`]);
  process.stderr.write(`${name}: ${rate}/s (${(ms / 1000).toFixed(1)} s)\n`);
}

function fakeEvent(i: number, recordedAt: Date): Omit<EventDoc, '_id' | 'leaf' | 'leafHash' | 'idem'> {
  return {
    id: randomUUID(),
    action: i % 3 === 0 ? 'user.login' : 'document.update',
    actor: { id: `user-${i % 5000}`, type: 'USER', name: `User ${i % 5000}` },
    target: { type: 'document', id: `doc-${i % 20000}` },
    outcome: i % 50 === 0 ? 'DENIED' : 'SUCCESS',
    source: { ip: '10.0.0.1', requestId: `req-${i}` },
    metadata: JSON.stringify({ attempt: i % 7, reason: 'bench' }),
    groups: ['engineering'],
    recordedAt,
    salt: randomBytes(16).toString('hex'),
  };
}

async function seed(db: Db, signerKey: string): Promise<void> {
  // The events collection without its query indexes: verify-db reads in _id order only, and
  // maintaining seven indexes would make seeding 10^6 events take many times longer.
  await ensureCollection(db, { ...EVENTS_COLLECTION, indexes: [] });
  for (const def of [TILES_COLLECTION, CHECKPOINTS_COLLECTION]) await ensureCollection(db, def);
  const signer = parseSignerKey(signerKey);
  const events = db.collection<EventDoc>(EVENTS_COLLECTION.name);
  const tiles = new TileStore(db.collection(TILES_COLLECTION.name), nodeCryptoRfc6962);
  const checkpoints = new CheckpointStore(db.collection(CHECKPOINTS_COLLECTION.name));
  const range = CompactRange.empty();
  const started = performance.now();
  const base = Date.now() - EVENTS;
  for (let start = 0; start < EVENTS; start += CHUNK) {
    const docs: EventDoc[] = [];
    for (let i = start; i < Math.min(EVENTS, start + CHUNK); i++) {
      const fields = fakeEvent(i, new Date(base + i));
      const leaf = leafOfDoc(fields);
      const leafHash = nodeCryptoRfc6962.leafHash(new TextEncoder().encode(leaf));
      docs.push({ _id: i, ...fields, leaf, leafHash: new Binary(leafHash), idem: `id:${fields.id}` });
    }
    const writing = events.insertMany(docs, { ordered: false });
    const nodes: { id: NodeId; hash: Uint8Array }[] = [];
    range.append(
      docs.map((d) => d.leafHash.buffer),
      nodeCryptoRfc6962,
      (id, hash) => nodes.push({ id, hash }),
    );
    await Promise.all([writing, tiles.write(nodes)]);
    if (range.size % CHECKPOINT_EVERY === 0 || range.size === EVENTS) {
      const root = range.root(nodeCryptoRfc6962);
      const note = signCheckpoint({ origin: signer.name, treeSize: range.size, rootHash: root }, signer);
      await checkpoints.save({ _id: range.size, rootHash: Buffer.from(root).toString('hex'), note, createdAt: new Date() });
    }
    if (start % 100_000 === 0) process.stderr.write(`seeded ${start + CHUNK} events\n`);
  }
  row('seed (insert events, tiles, checkpoints)', EVENTS, performance.now() - started);
}

async function main(): Promise<void> {
  let engine: EmbeddedEngine | undefined;
  let dataDir: string | undefined;
  let uri = process.env.MONGODB_URI;
  const keepDataDir = process.env.BENCH_DATA_DIR;
  if (!uri) {
    dataDir = keepDataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-bench-')));
    engine = await startEmbeddedEngine({ dataDir, cacheDir: engineCacheDir(), onProgress: (l) => process.stderr.write(`${l}\n`) });
    uri = engine.uri;
  }
  const client = connectClient(uri);
  await client.connect();
  const dbName = process.env.BENCH_DB ?? `bench_verify_${randomBytes(4).toString('hex')}`;
  const db = client.db(dbName);
  try {
    const { signerKey, verifierKey } = generateSignerKey('bench.example/log');
    const existing = await db.collection(CHECKPOINTS_COLLECTION.name).findOne({ _id: EVENTS } as object);
    let vkey = verifierKey;
    if (existing) {
      // Reusing a seeded database: its checkpoints were signed by an earlier run's key.
      vkey = (await db.collection<{ _id: string; vkey: string }>('bench_meta').findOne({ _id: 'key' }))?.vkey ?? verifierKey;
      process.stderr.write(`reusing ${dbName}\n`);
    } else {
      await seed(db, signerKey);
      await db.collection<{ _id: string; vkey: string }>('bench_meta').insertOne({ _id: 'key', vkey: verifierKey });
    }

    // 1. The engine alone: the same cursor, no work per document.
    let started = performance.now();
    let n = 0;
    const cursor = db
      .collection<StoredEvent>(EVENTS_COLLECTION.name)
      .find({}, { projection: { idem: 0 } })
      .sort({ _id: 1 })
      .batchSize(20_000);
    while (await cursor.hasNext()) n += cursor.readBufferedDocuments().length;
    row('engine: cursor read of all events', n, performance.now() - started, 'no checking');

    // 2. Our CPU work alone, on documents already in memory.
    const sample = await db
      .collection<StoredEvent>(EVENTS_COLLECTION.name)
      .find({}, { projection: { idem: 0 } })
      .sort({ _id: 1 })
      .limit(Math.min(EVENTS, 100_000))
      .toArray();
    for (const [name, check] of [
      ['cpu: event check + tree, in memory', checkEvent],
      ['cpu: same, leafOfDoc on every event', checkEventExactly],
    ] as const) {
      started = performance.now();
      const tree = new TreeCheck(nodeCryptoRfc6962, { nodeHash: () => undefined }, 0);
      for (const doc of sample) tree.leaf(check(doc).leafHash!);
      row(name, sample.length, performance.now() - started, `${sample.length.toLocaleString('en-US')} documents, no I/O`);
    }

    // 3. The whole check, as `verify-db` runs it.
    const report = await checkDatabase({ db, verifierKey: vkey });
    if (!report.intact) throw new Error(`the seeded database is not intact:\n${report.details.join('\n')}`);
    row('verify-db (checkDatabase), end to end', report.treeSize, report.elapsedMs, `${report.storedHashesChecked} stored hashes, ${report.checkpointsChecked} roots`);

    const widths = [0, 1, 2].map((c) => Math.max(...[['step', 'leaves/s', 'time'], ...rows].map((r) => r[c]!.length)));
    const line = (r: string[]): string => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
    process.stdout.write(
      [
        `verify-db benchmark: ${EVENTS.toLocaleString('en-US')} events, ${os.cpus().length} CPUs, node ${process.version}, engine ${engine ? 'embedded FerretDB' : uri.replace(/\/\/[^@]*@/, '//')}`,
        line(['step', 'leaves/s', 'time']),
        line(widths.map((w) => '-'.repeat(w))),
        ...rows.map(line),
      ].join('\n') + '\n',
    );
  } finally {
    if (!process.env.BENCH_DB) await db.dropDatabase().catch(() => undefined);
    await client.close();
    await engine?.stop();
    if (dataDir && !keepDataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
