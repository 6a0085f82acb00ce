/**
 * Raw reads for `verify-db`. Events come in keyset batches by leaf index (each batch one
 * bounded primary-key range read), so the walk holds one batch at a time however long the
 * log; the rows are mapped without trusting them (eventRows.ts).
 */
import type Database from 'better-sqlite3';
import type { EventRangeReader, IntegrityReader, IntegrityReaderSource, RawCheckpoint, RawEventValues, RawStoredEvent, RawTile } from '../port';
import { step } from './driverErrors';
import { EVENT_COLUMNS, EVENT_SELECT, rawEventOfValues } from './eventRows';

const CHECKPOINT_BATCH = 1000;

/**
 * RawEventValues' select list: the columns up to `leaf` as stored, then the leaf hash as hex
 * text. A BLOB read into JS is a Buffer with an ArrayBuffer of its own, which V8 tracks and
 * frees one by one; a 64-character string is an ordinary young object.
 */
const VALUES_SELECT = [
  ...EVENT_COLUMNS.slice(0, EVENT_COLUMNS.indexOf('leaf') + 1).map((c) => `e.${c}`),
  "CASE WHEN typeof(e.leaf_hash) = 'blob' THEN lower(hex(e.leaf_hash)) END",
].join(', ');

interface CheckpointRow {
  readonly tree_size: unknown;
  readonly root_hash: unknown;
  readonly note: unknown;
}

function rawCheckpoint(r: CheckpointRow): RawCheckpoint {
  return { treeSize: r.tree_size, rootHash: r.root_hash, note: r.note };
}

export class SqliteIntegrityReader implements IntegrityReader, EventRangeReader {
  /** Other threads open the same file (WAL lets readers run beside each other); not `:memory:`. */
  readonly source: IntegrityReaderSource | undefined;
  private readonly eventsAfter: Database.Statement<[number, number], unknown[]>;
  private readonly eventsBetween: Database.Statement<[number, number], unknown[]>;
  private readonly valuesBetween: Database.Statement<[number, number], RawEventValues>;
  private readonly nthAfter: Database.Statement<[number, number], { leaf_index: number }>;
  private readonly span: Database.Statement<[], { count: number; first: number | null; last: number | null }>;
  private readonly latest: Database.Statement<[], CheckpointRow>;
  private readonly checkpointsAfter: Database.Statement<[number, number, number], CheckpointRow>;
  private readonly tile: Database.Statement<[number, number], { level: number; idx: number; hashes: unknown }>;

  constructor(db: Database.Database) {
    this.source = db.memory ? undefined : { kind: 'sqlite', location: db.name };
    // Raw (array) rows: the walk reads every column of every event, and row objects cost twice as much.
    this.eventsBetween = db.prepare<[number, number], unknown[]>(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index >= ? AND e.leaf_index < ? ORDER BY e.leaf_index`).raw(true);
    this.valuesBetween = db.prepare<[number, number], RawEventValues>(`SELECT ${VALUES_SELECT} FROM events e WHERE e.leaf_index >= ? AND e.leaf_index < ? ORDER BY e.leaf_index`).raw(true);
    // Steps over the rowid b-tree's cells without decoding the rows.
    this.nthAfter = db.prepare('SELECT leaf_index FROM events WHERE leaf_index >= ? ORDER BY leaf_index LIMIT 1 OFFSET ?');
    this.span = db.prepare('SELECT count(*) AS count, min(leaf_index) AS first, max(leaf_index) AS last FROM events');
    this.eventsAfter = db.prepare<[number, number], unknown[]>(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index > ? ORDER BY e.leaf_index LIMIT ?`).raw(true);
    this.latest = db.prepare('SELECT tree_size, root_hash, note FROM checkpoints ORDER BY tree_size DESC LIMIT 1');
    this.checkpointsAfter = db.prepare('SELECT tree_size, root_hash, note FROM checkpoints WHERE tree_size > ? AND tree_size <= ? ORDER BY tree_size LIMIT ?');
    this.tile = db.prepare('SELECT level, idx, hashes FROM tiles WHERE level = ? AND idx = ?');
  }

  async *events(batchSize: number): AsyncIterable<RawStoredEvent[]> {
    const size = Math.max(1, Math.floor(batchSize));
    // leaf_index is the rowid: always an integer, so the keyset never skips a row.
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await step(() => this.eventsAfter.all(after, size));
      if (rows.length === 0) return;
      after = rows[rows.length - 1]![0] as number;
      yield rows.map(rawEventOfValues);
      if (rows.length < size) return;
    }
  }

  rangeEnd(from: number, rows: number): Promise<number | undefined> {
    return step(() => this.nthAfter.get(from, Math.max(1, Math.floor(rows)))?.leaf_index);
  }

  positionSpan(): Promise<{ count: number; first: number; last: number } | undefined> {
    return step(() => {
      const { count, first, last } = this.span.get()!;
      return first === null || last === null ? undefined : { count, first, last };
    });
  }

  eventRange(from: number, to: number): Promise<RawStoredEvent[]> {
    return step(() => this.eventsBetween.all(from, to).map(rawEventOfValues));
  }

  eventValuesRange(from: number, to: number): Promise<RawEventValues[]> {
    return step(() => this.valuesBetween.all(from, to));
  }

  latestCheckpoint(): Promise<RawCheckpoint | undefined> {
    return step(() => {
      const row = this.latest.get();
      return row && rawCheckpoint(row);
    });
  }

  async *checkpoints(maxSize: number): AsyncIterable<RawCheckpoint> {
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const rows = await step(() => this.checkpointsAfter.all(after, maxSize, CHECKPOINT_BATCH));
      for (const row of rows) yield rawCheckpoint(row);
      if (rows.length < CHECKPOINT_BATCH) return;
      after = rows[rows.length - 1]!.tree_size as number;
    }
  }

  tiles(ids: readonly string[]): Promise<RawTile[]> {
    return step(() =>
      ids.flatMap((id) => {
        const match = /^(\d+)\/(\d+)$/.exec(id);
        if (!match) return [];
        const row = this.tile.get(Number(match[1]), Number(match[2]));
        if (!row) return [];
        // A value that is not bytes is a damaged tile: an empty one, which holds no hash.
        const hashes = row.hashes instanceof Uint8Array ? new Uint8Array(row.hashes) : new Uint8Array(0);
        return [{ id: `${row.level}/${row.idx}`, level: row.level, index: row.idx, hashes }];
      }),
    );
  }
}
