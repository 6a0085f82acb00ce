/**
 * The SQLite ledger database: its tables, its format marker and the connection settings.
 *
 * One file holds everything. Every secondary index on `events` ends in the leaf index, so a
 * filter on its leading columns is a range already in leaf order: a page is a bounded range
 * scan and never a sort (see eventQueryPlan.ts). Counts per key are maintained in
 * `event_counts` and `group_counts` by the same transaction that appends the events
 * (counts.ts), because an aggregate over millions of rows would stall the server.
 */
import type Database from 'better-sqlite3';
import { WrongDatabaseError } from '../errors';

export const FORMAT = 'audit-ledger';
/** 2: `event_groups.action` (schemaUpgrade.ts upgrades a version 1 file when it is opened for writing). */
export const SCHEMA_VERSION = 2;

/** Milliseconds a connection waits for another one's write lock (a CLI command beside the server). */
export const BUSY_TIMEOUT_MS = 5000;

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
  leaf_index INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  action TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_type TEXT NOT NULL,
  actor_name TEXT,
  target_type TEXT,
  target_id TEXT,
  target_name TEXT,
  outcome TEXT NOT NULL,
  reason TEXT,
  occurred_at INTEGER,
  source TEXT,
  metadata TEXT,
  groups TEXT NOT NULL,
  recorded_at INTEGER NOT NULL,
  salt TEXT NOT NULL,
  submitter_key_id TEXT,
  submitter_user_id TEXT,
  leaf TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  idempotency_key TEXT,
  content_digest TEXT
);
CREATE INDEX IF NOT EXISTS events_actor ON events (actor_id, leaf_index);
CREATE INDEX IF NOT EXISTS events_action ON events (action, leaf_index);
CREATE INDEX IF NOT EXISTS events_target ON events (target_type, target_id, leaf_index);
CREATE INDEX IF NOT EXISTS events_outcome ON events (outcome, leaf_index);
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at, leaf_index);

-- A group's rows are adjacent (WITHOUT ROWID, keyed by group then leaf), so a group's page
-- reads a few pages of this table; the event's action rides along so that a page filtered
-- by group and action tests it here and joins only the matching events. NULL (a row written
-- before schema version 2 and not yet filled by the upgrade) is "unknown": the joined event
-- decides (eventQueryPlan.ts).
CREATE TABLE IF NOT EXISTS event_groups (
  group_id TEXT NOT NULL,
  leaf_index INTEGER NOT NULL,
  action TEXT,
  PRIMARY KEY (group_id, leaf_index)
) WITHOUT ROWID;

-- Events per value of a count key (dim: groups, action, actor.id, outcome; and target.type,
-- for the query planner), over all stored events.
CREATE TABLE IF NOT EXISTS event_counts (
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (dim, key)
) WITHOUT ROWID;

-- The same within each group (dims action, actor.id, outcome: a group's own count is in event_counts).
CREATE TABLE IF NOT EXISTS group_counts (
  group_id TEXT NOT NULL,
  dim TEXT NOT NULL,
  key TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (group_id, dim, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS idempotency (
  key TEXT PRIMARY KEY,
  leaf_index INTEGER NOT NULL,
  event_id TEXT NOT NULL,
  leaf_hash BLOB NOT NULL,
  content_digest TEXT NOT NULL
) WITHOUT ROWID;

-- A rowid table: tiles are up to 8 KiB, too large for a WITHOUT ROWID b-tree's cells.
CREATE TABLE IF NOT EXISTS tiles (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (level, idx)
);

CREATE TABLE IF NOT EXISTS checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root_hash TEXT NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
-- The size history (CheckpointRepository.latestAt): the last checkpoint signed by an instant.
-- The rowid (tree_size) rides along in the index, so ties are ordered by size too.
CREATE INDEX IF NOT EXISTS checkpoints_created_at ON checkpoints (created_at);

CREATE TABLE IF NOT EXISTS log_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  size INTEGER NOT NULL,
  root_hash TEXT NOT NULL,
  note TEXT NOT NULL,
  signed_at INTEGER NOT NULL,
  last_recorded_at INTEGER NOT NULL,
  pending_from INTEGER,
  pending_to INTEGER
);

-- Each witness's newest cosignature (src/witness/): published with the checkpoint of its size.
CREATE TABLE IF NOT EXISTS cosignatures (
  witness TEXT PRIMARY KEY,
  tree_size INTEGER NOT NULL,
  line TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS lease (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  token INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  wanted_by TEXT
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  external_id TEXT,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS users_external_id ON users (external_id);

CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  name_key TEXT NOT NULL UNIQUE,
  description TEXT,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS group_members (
  group_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (group_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS group_members_user ON group_members (user_id, group_id);

CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  roles TEXT NOT NULL,
  user_id TEXT NOT NULL,
  group_ids TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL,
  created_by TEXT,
  revoked_at INTEGER
);

-- Streaming (src/stream/): webhook subscriptions, alert rules, worker cursors, the delivery lease.
CREATE TABLE IF NOT EXISTS stream_records (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  value TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- Data lifecycle (src/lifecycle/): wrapped data keys, redactions, holds, policies, job cursors.
CREATE TABLE IF NOT EXISTS lifecycle (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (kind, id)
) WITHOUT ROWID;
`;

/**
 * Connection settings. WAL lets the background worker and CLI commands read beside the writer;
 * synchronous=FULL syncs the WAL on every commit, so an acknowledged event survives a power
 * loss (NORMAL would only keep the database consistent, not durable). No foreign keys: no
 * row is ever deleted, and the repositories keep their references themselves.
 */
export function applyPragmas(db: Database.Database, options: { readonly: boolean }): void {
  if (!db.memory && !options.readonly) db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = OFF');
  // Deleted content (a destroyed data key) is overwritten with zeros, not just unlinked.
  db.pragma('secure_delete = ON');
  // 16 MiB of page cache per connection (the serving one and the append worker's alike). It
  // holds the upper levels of the indexes, so a page or a point read misses mostly at the
  // leaves, which the operating system's file cache (not counted in the server's memory) serves
  // in microseconds; the five event indexes are written at random places once the log
  // outgrows any cache, and in WAL mode a connection drops its cache whenever another commits
  // (every batch). 32 MiB bought nothing measurable: side by side at 10^6, read latencies were
  // the same and the server's resident memory 25 MB higher.
  db.pragma('cache_size = -16384');
  if (!options.readonly) {
    // A batch of appends dirties pages all over five indexes: checkpointing after every
    // batch (the default threshold is 1000 pages) writes the same hot pages back again and
    // again. Every 10000 pages (40 MiB) writes each once per many batches.
    db.pragma('wal_autocheckpoint = 10000');
    // A checkpointed WAL is reused, not shrunk: keep what stays on disk after a burst bounded.
    db.pragma('journal_size_limit = 67108864');
  }
}

/** What a database file holds, as far as the ledger is concerned. */
export type DatabaseState =
  | { readonly kind: 'ledger'; readonly schemaVersion: number }
  | { readonly kind: 'empty' }
  | { readonly kind: 'other' };

export function inspectDatabase(db: Database.Database): DatabaseState {
  const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE type = 'table'").all();
  if (!tables.some((t) => t.name === 'meta')) return tables.length === 0 ? { kind: 'empty' } : { kind: 'other' };
  const rows = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM meta').all();
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get('format') !== FORMAT) return rows.length === 0 && tables.length === 1 ? { kind: 'empty' } : { kind: 'other' };
  const version = Number(meta.get('schema_version'));
  return { kind: 'ledger', schemaVersion: Number.isSafeInteger(version) ? version : Number.NaN };
}

/** The oldest schema version this release upgrades (schemaUpgrade.ts). */
const OLDEST_UPGRADABLE = 1;

/**
 * Refuses a schema this code does not know (written by a newer release, or damaged), and an
 * older one it would have to upgrade when it may not write.
 */
export function assertKnownSchema(state: { readonly schemaVersion: number }, file: string, options: { readonly writable: boolean }): void {
  const version = state.schemaVersion;
  if (version === SCHEMA_VERSION) return;
  if (version > SCHEMA_VERSION) {
    throw new WrongDatabaseError(`${file} has ledger schema version ${version}, newer than this release understands (${SCHEMA_VERSION}); upgrade audit-ledger`);
  }
  if (Number.isSafeInteger(version) && version >= OLDEST_UPGRADABLE) {
    if (options.writable) return;
    throw new WrongDatabaseError(
      `${file} has ledger schema version ${version}, older than this release's (${SCHEMA_VERSION}), and is open read-only: ` +
        'start the server on it once (it upgrades the file), then retry',
    );
  }
  throw new WrongDatabaseError(`${file} has an unknown ledger schema version (${String(version)})`);
}

/** Creates the schema and its format marker; running it again changes nothing. */
export function createSchema(db: Database.Database): void {
  db.transaction(() => {
    db.exec(DDL);
    const mark = db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)');
    mark.run('format', FORMAT);
    mark.run('schema_version', String(SCHEMA_VERSION));
  }).immediate();
}
