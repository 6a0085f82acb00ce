/**
 * The log's bookkeeping beside the events: hash tiles, the checkpoint archive, the log head,
 * idempotency records and the sequencer lease. Each is a handful of primary-key reads and
 * writes; the compare-and-set ones (head, lease) are single statements or IMMEDIATE
 * transactions, so another process on the same file sees them whole.
 */
import type Database from 'better-sqlite3';
import type {
  CheckpointMark,
  CheckpointRepository,
  CosignatureRepository,
  HeldLease,
  IdempotencyRecord,
  IdempotencyRepository,
  LeaseRepository,
  LogHeadRecord,
  LogHeadRepository,
  SignedCheckpoint,
  StoredCosignature,
  StoredTile,
  TileId,
  TileRepository,
} from '../port';
import { step } from './driverErrors';

export class SqliteTileRepository implements TileRepository {
  private readonly readOne: Database.Statement<[number, number], { level: number; idx: number; hashes: Uint8Array }>;
  private readonly writeAll: (tiles: readonly StoredTile[]) => void;

  constructor(db: Database.Database) {
    this.readOne = db.prepare('SELECT level, idx, hashes FROM tiles WHERE level = ? AND idx = ?');
    const upsert = db.prepare<[number, number, Uint8Array]>(
      'INSERT INTO tiles (level, idx, hashes) VALUES (?, ?, ?) ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes',
    );
    this.writeAll = db.transaction((tiles: readonly StoredTile[]) => {
      for (const t of tiles) upsert.run(t.level, t.index, t.hashes);
    }).immediate;
  }

  read(ids: readonly TileId[]): Promise<StoredTile[]> {
    return step(() =>
      ids.flatMap((id) => {
        const row = this.readOne.get(id.level, id.index);
        return row ? [{ level: row.level, index: row.idx, hashes: new Uint8Array(row.hashes) }] : [];
      }),
    );
  }

  write(tiles: readonly StoredTile[]): Promise<void> {
    return step(() => {
      if (tiles.length > 0) this.writeAll(tiles);
    });
  }
}

/**
 * The size history's look-ups, exported for the query-plan test: each reads one entry at an
 * end of checkpoints_created_at (covering: tree_size is the rowid), never the archive.
 */
export const CHECKPOINT_HISTORY_SQL = {
  latestAt: 'SELECT tree_size, created_at FROM checkpoints WHERE created_at <= ? ORDER BY created_at DESC, tree_size DESC LIMIT 1',
  earliest: 'SELECT tree_size, created_at FROM checkpoints ORDER BY created_at, tree_size LIMIT 1',
} as const;

export class SqliteCheckpointRepository implements CheckpointRepository {
  private readonly insert: Database.Statement<[number, string, string, number]>;
  private readonly latestBy: Database.Statement<[number], MarkRow>;
  private readonly first: Database.Statement<[], MarkRow>;

  constructor(db: Database.Database) {
    // Signatures are deterministic: a checkpoint saved twice is the same checkpoint.
    this.insert = db.prepare('INSERT OR IGNORE INTO checkpoints (tree_size, root_hash, note, created_at) VALUES (?, ?, ?, ?)');
    this.latestBy = db.prepare(CHECKPOINT_HISTORY_SQL.latestAt);
    this.first = db.prepare(CHECKPOINT_HISTORY_SQL.earliest);
  }

  save(c: SignedCheckpoint): Promise<void> {
    return step(() => {
      this.insert.run(c.treeSize, c.rootHash, c.note, c.createdAt.getTime());
    });
  }

  latestAt(instants: readonly Date[]): Promise<(CheckpointMark | undefined)[]> {
    return step(() => instants.map((at) => markOf(this.latestBy.get(at.getTime()))));
  }

  earliest(): Promise<CheckpointMark | undefined> {
    return step(() => markOf(this.first.get()));
  }
}

interface MarkRow {
  readonly tree_size: number;
  readonly created_at: number;
}

function markOf(row: MarkRow | undefined): CheckpointMark | undefined {
  return row && { treeSize: row.tree_size, createdAt: new Date(row.created_at) };
}

interface HeadRow {
  readonly size: number;
  readonly root_hash: string;
  readonly note: string;
  readonly signed_at: number;
  readonly last_recorded_at: number;
  readonly pending_from: number | null;
  readonly pending_to: number | null;
}

export class SqliteLogHeadRepository implements LogHeadRepository {
  private readonly select: Database.Statement<[], HeadRow>;
  private readonly mark: Database.Statement<[number, number, number]>;
  private readonly upsert: Database.Statement<[number, string, string, number, number]>;

  constructor(db: Database.Database) {
    this.select = db.prepare('SELECT size, root_hash, note, signed_at, last_recorded_at, pending_from, pending_to FROM log_head WHERE id = 1');
    this.mark = db.prepare('UPDATE log_head SET pending_from = ?, pending_to = ? WHERE id = 1 AND size = ?');
    // The WHERE of the upsert keeps the head from moving back: a slower process's older
    // checkpoint changes nothing.
    this.upsert = db.prepare(`
      INSERT INTO log_head (id, size, root_hash, note, signed_at, last_recorded_at, pending_from, pending_to)
      VALUES (1, ?, ?, ?, ?, ?, NULL, NULL)
      ON CONFLICT (id) DO UPDATE SET
        size = excluded.size, root_hash = excluded.root_hash, note = excluded.note, signed_at = excluded.signed_at,
        last_recorded_at = excluded.last_recorded_at, pending_from = NULL, pending_to = NULL
      WHERE excluded.size >= log_head.size`);
  }

  read(): Promise<LogHeadRecord | undefined> {
    return step(() => {
      const row = this.select.get();
      if (!row) return undefined;
      return {
        checkpoint: { treeSize: row.size, rootHash: row.root_hash, note: row.note, createdAt: new Date(row.signed_at) },
        lastRecordedAt: row.last_recorded_at,
        pending: row.pending_from !== null && row.pending_to !== null ? { from: row.pending_from, to: row.pending_to } : null,
      };
    });
  }

  markPending(from: number, to: number): Promise<boolean> {
    return step(() => this.mark.run(from, to, from).changes === 1);
  }

  advance(checkpoint: SignedCheckpoint, lastRecordedAt: number): Promise<void> {
    return step(() => {
      this.upsert.run(checkpoint.treeSize, checkpoint.rootHash, checkpoint.note, checkpoint.createdAt.getTime(), lastRecordedAt);
    });
  }
}

export class SqliteCosignatureRepository implements CosignatureRepository {
  private statements:
    | { upsert: Database.Statement<[string, number, string]>; select: Database.Statement<[number], { witness: string; tree_size: number; line: string }> }
    | undefined;

  constructor(private readonly db: Database.Database) {}

  /**
   * Prepared on first use: a database written before cosignatures existed gets the table
   * when the server opens it, but the command-line tools open it as it is and never ask.
   */
  private prepared(): NonNullable<SqliteCosignatureRepository['statements']> {
    return (this.statements ??= {
      // The WHERE keeps a late answer about an older checkpoint from replacing a newer one.
      upsert: this.db.prepare(`
        INSERT INTO cosignatures (witness, tree_size, line) VALUES (?, ?, ?)
        ON CONFLICT (witness) DO UPDATE SET tree_size = excluded.tree_size, line = excluded.line
        WHERE excluded.tree_size >= cosignatures.tree_size`),
      select: this.db.prepare('SELECT witness, tree_size, line FROM cosignatures WHERE tree_size = ? ORDER BY witness'),
    });
  }

  save(c: StoredCosignature): Promise<void> {
    return step(() => {
      this.prepared().upsert.run(c.witness, c.treeSize, c.line);
    });
  }

  forTreeSize(treeSize: number): Promise<StoredCosignature[]> {
    return step(() => this.prepared().select.all(treeSize).map((r) => ({ witness: r.witness, treeSize: r.tree_size, line: r.line })));
  }
}

export class SqliteIdempotencyRepository implements IdempotencyRepository {
  private readonly select: Database.Statement<[string], { key: string; leaf_index: number; event_id: string; leaf_hash: Uint8Array; content_digest: string }>;
  private readonly rememberAll: (records: readonly IdempotencyRecord[]) => void;

  constructor(db: Database.Database) {
    this.select = db.prepare('SELECT key, leaf_index, event_id, leaf_hash, content_digest FROM idempotency WHERE key = ?');
    const insert = db.prepare<[string, number, string, Uint8Array, string]>(
      'INSERT OR IGNORE INTO idempotency (key, leaf_index, event_id, leaf_hash, content_digest) VALUES (?, ?, ?, ?, ?)',
    );
    this.rememberAll = db.transaction((records: readonly IdempotencyRecord[]) => {
      for (const r of records) insert.run(r.key, r.leafIndex, r.eventId, r.leafHash, r.contentDigest);
    }).immediate;
  }

  lookup(keys: readonly string[]): Promise<Map<string, IdempotencyRecord>> {
    return step(() => {
      const found = new Map<string, IdempotencyRecord>();
      for (const key of keys) {
        const row = this.select.get(key);
        if (row) {
          found.set(key, { key: row.key, leafIndex: row.leaf_index, eventId: row.event_id, leafHash: new Uint8Array(row.leaf_hash), contentDigest: row.content_digest });
        }
      }
      return found;
    });
  }

  remember(records: readonly IdempotencyRecord[]): Promise<void> {
    return step(() => {
      if (records.length > 0) this.rememberAll(records);
    });
  }
}

const LEASE_NAME = 'sequencer';

interface LeaseRow {
  readonly owner: string;
  readonly token: number;
  readonly expires_at: number;
  readonly wanted_by: string | null;
}

/**
 * The same protocol as the MongoDB lease (src/log/lease.ts), each step one IMMEDIATE
 * transaction: the write lock is taken before the row is read, so two processes cannot both
 * see it free.
 */
export class SqliteLeaseRepository implements LeaseRepository {
  private readonly acquireTx: (owner: string, ttlMs: number) => HeldLease | undefined;
  private readonly releaseTx: (owner: string, ttlMs: number, handTo: string | undefined) => void;

  constructor(db: Database.Database) {
    const select = db.prepare<[string], LeaseRow>('SELECT owner, token, expires_at, wanted_by FROM lease WHERE name = ?');
    const insert = db.prepare<[string, string, number]>('INSERT INTO lease (name, owner, token, expires_at, wanted_by) VALUES (?, ?, 1, ?, NULL)');
    const renew = db.prepare<[number, string]>('UPDATE lease SET expires_at = ? WHERE name = ?');
    const take = db.prepare<[string, number, string]>('UPDATE lease SET owner = ?, expires_at = ?, wanted_by = NULL, token = token + 1 WHERE name = ?');
    const want = db.prepare<[string, string]>('UPDATE lease SET wanted_by = ? WHERE name = ?');
    const expire = db.prepare<[string, string]>('UPDATE lease SET expires_at = 0 WHERE name = ? AND owner = ?');
    const handOver = db.prepare<[string, number, string, string]>(
      'UPDATE lease SET owner = ?, expires_at = ?, wanted_by = NULL, token = token + 1 WHERE name = ? AND owner = ?',
    );

    this.acquireTx = db.transaction((owner: string, ttlMs: number): HeldLease | undefined => {
      const now = Date.now();
      const expiresAt = now + ttlMs;
      const row = select.get(LEASE_NAME);
      if (!row) {
        insert.run(LEASE_NAME, owner, expiresAt);
        return { token: 1, wantedBy: undefined };
      }
      if (row.owner === owner) {
        // A write here costs a WAL sync per batch: renew only once half the lease has run out.
        const fresh = row.expires_at >= now + ttlMs / 2 && row.expires_at <= expiresAt;
        if (!fresh) renew.run(expiresAt, LEASE_NAME);
        return { token: row.token, wantedBy: row.wanted_by !== null && row.wanted_by !== owner ? row.wanted_by : undefined };
      }
      if (row.expires_at < now) {
        take.run(owner, expiresAt, LEASE_NAME);
        return { token: row.token + 1, wantedBy: undefined };
      }
      want.run(owner, LEASE_NAME);
      return undefined;
    }).immediate;

    this.releaseTx = db.transaction((owner: string, ttlMs: number, handTo: string | undefined): void => {
      if (handTo) handOver.run(handTo, Date.now() + ttlMs, LEASE_NAME, owner);
      else expire.run(LEASE_NAME, owner);
    }).immediate;
  }

  acquire(owner: string, ttlMs: number): Promise<HeldLease | undefined> {
    return step(() => this.acquireTx(owner, ttlMs));
  }

  release(owner: string, ttlMs: number, handTo?: string): Promise<void> {
    return step(() => this.releaseTx(owner, ttlMs, handTo));
  }
}
