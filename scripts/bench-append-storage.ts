/**
 * The SQLite append transaction alone: no HTTP, GraphQL, sequencer or worker thread, just
 * SqliteEventWriter on one connection. How many events per second the embedded database itself
 * stores in batches of bench:ledger's size, with the ledger's schema (five event indexes, the
 * group rows, the maintained counts), and how much of that the commit's fsync and the two
 * indexes written at random places (actor, target) cost. It bounds what bench:ledger's batched
 * appends can reach on this machine: the server adds its own per-event work on top.
 *
 *   npm run bench:append-storage -- [--sizes 100000,1000000] [--batch 200] [--batches 150]
 *
 * Each variant gets a database of its own, filled to each size (untimed, 2,000-event
 * transactions) with the same events as bench:ledger's (1000 actors, 100,000 targets, 100
 * groups, 20 actions), then times --batches transactions of --batch events:
 *   - as served: WAL, synchronous=FULL, every index;
 *   - synchronous=OFF: what the commit's fsync costs (the server never runs so: an
 *     acknowledged event must survive a power loss);
 *   - without the actor and target indexes: what the two indexes written at random places
 *     cost (the issue asks for both).
 * The automatic WAL checkpoint runs inside the timed commits here; in the server the background
 * worker does most of that copying beside the appends. Prints one markdown table.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { EventContent } from '../src/event/eventRecord';
import { buildEvent } from '../src/log/eventBuilder';
import { nodeCryptoRfc6962 } from '../src/merkle/nodeHasher';
import type { StoredEvent } from '../src/storage/port';
import { SqliteEventWriter } from '../src/storage/sqlite/eventWriter';
import { applyPragmas, createSchema } from '../src/storage/sqlite/schema';
import { Args, int, loggedRows, makeTempDir, markdownTable, ms, ownCpuCell, randomSource, type Row, runMain, sizeLabel, summarize, withCpu } from './benchSupport';

const args = new Args();
const SIZES = args.list('sizes', [100_000, 1_000_000]);
const BATCH = args.number('batch', 200);
const BATCHES = args.number('batches', 150);
const FILL_BATCH = 2000;

const ACTORS = 1000;
const TARGETS = 100_000;
const GROUPS = Array.from({ length: 100 }, (_, g) => `00000000-0000-4000-8000-${String(g).padStart(12, '0')}`);
const ACTIONS = Array.from({ length: 20 }, (_, a) => `${['document', 'user', 'key', 'group'][a % 4]}.${['read', 'update', 'create', 'delete', 'share'][Math.floor(a / 4)]}`);

interface Variant {
  readonly name: string;
  readonly synchronous: 'FULL' | 'OFF';
  readonly dropIndexes: readonly string[];
}

const VARIANTS: readonly Variant[] = [
  { name: 'as served (synchronous=FULL, every index)', synchronous: 'FULL', dropIndexes: [] },
  { name: 'synchronous=OFF (no fsync per commit)', synchronous: 'OFF', dropIndexes: [] },
  { name: 'without the actor and target indexes', synchronous: 'FULL', dropIndexes: ['events_actor', 'events_target'] },
];

function log(line: string): void {
  process.stderr.write(`[bench-append-storage] ${line}\n`);
}

/** Events from leaf `from` on, the same sequence for every variant. */
class EventSource {
  private readonly rand = randomSource(0xa99e5d);
  private next = 0;

  batch(size: number): StoredEvent[] {
    const events: StoredEvent[] = [];
    const now = Date.now();
    for (let i = 0; i < size; i++, this.next++) {
      const actor = Math.floor(this.rand() * ACTORS);
      const content: EventContent = {
        action: ACTIONS[Math.floor(this.rand() * ACTIONS.length)]!,
        actor: { id: `user-${actor}`, type: 'USER', name: `User ${actor}` },
        target: { type: 'document', id: `doc-${Math.floor(this.rand() * TARGETS)}` },
        outcome: this.rand() < 0.95 ? 'SUCCESS' : 'FAILURE',
        occurredAt: new Date(now).toISOString(),
        source: { ip: `10.0.${actor >> 8}.${actor & 255}`, requestId: `req-${this.next}` },
        metadata: { seq: this.next, client: 'bench-append-storage' },
        groups: [GROUPS[Math.floor(this.rand() * GROUPS.length)]!],
      };
      events.push(buildEvent({ content, leafIndex: this.next, recordedAt: now }, nodeCryptoRfc6962));
    }
    return events;
  }

  get size(): number {
    return this.next;
  }
}

async function measureVariant(variant: Variant, dir: string, rows: Row[]): Promise<void> {
  const file = path.join(dir, `${variant.name.replace(/\W+/g, '-')}.db`);
  const db = new Database(file);
  try {
    applyPragmas(db, { readonly: false });
    createSchema(db);
    for (const index of variant.dropIndexes) db.exec(`DROP INDEX ${index}`);
    db.pragma(`synchronous = ${variant.synchronous}`);
    const writer = new SqliteEventWriter(db);
    const source = new EventSource();
    for (const size of SIZES) {
      log(`${variant.name}: filling to ${int(size)}`);
      while (source.size < size) writer.append(source.batch(Math.min(FILL_BATCH, size - source.size)), undefined);
      // Each size starts from a copied-back log, as the server's background checkpoints keep it.
      db.pragma('wal_checkpoint(TRUNCATE)');
      const batches = Array.from({ length: BATCHES }, () => source.batch(BATCH));
      const times: number[] = [];
      const run = await withCpu(process.pid, async () => {
        for (const events of batches) {
          const start = performance.now();
          writer.append(events, undefined);
          times.push(performance.now() - start);
        }
      });
      const total = times.reduce((a, b) => a + b, 0);
      const s = summarize(times);
      rows.push({
        measure: `${variant.name} @ ${sizeLabel(size)}`,
        result: `${int((BATCH * BATCHES * 1000) / total)} events/s: ${BATCHES} transactions of ${BATCH} events, mean ${ms(s.mean)}, p50 ${ms(s.p50)}, p99 ${ms(s.p99)} each (${int((total * 1000) / (BATCH * BATCHES))} µs per event); ${ownCpuCell(run.cpu)}`,
      });
    }
  } finally {
    db.close();
    await rm(file, { force: true });
    await rm(`${file}-wal`, { force: true });
    await rm(`${file}-shm`, { force: true });
  }
}

runMain(async () => {
  const dir = await makeTempDir('bench-append-storage-');
  const rows = loggedRows();
  for (const variant of VARIANTS) await measureVariant(variant, dir, rows);
  process.stdout.write(
    `\nbench-append-storage: SqliteEventWriter alone on one connection (no server), WAL, transactions of ${BATCH} events; Node ${process.version}; sizes ${SIZES.map(sizeLabel).join(', ')}\n\n${markdownTable(rows)}\n`,
  );
});
