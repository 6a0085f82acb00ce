/**
 * The embedded storage: one SQLite file, opened with better-sqlite3. The database file and
 * its WAL hold every event and key hash, so they are private to the user running the
 * server (0600, in a 0700 folder when we create it).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import { WrongDatabaseError } from '../errors';
import type { EventRangeReader, LedgerStorage, ThreadActivity } from '../port';
import { type AppendRunner, InlineAppendRunner, WorkerAppendRunner } from './appendRunner';
import { BackgroundWorker } from './backgroundClient';
import { type CountRunner, InlineCountRunner, WorkerCountRunner } from './counts';
import { SqliteApiKeyRepository, SqliteGroupRepository, SqliteUserRepository } from './directoryRepositories';
import { sqliteCode, step } from './driverErrors';
import { SqliteEventRepository } from './eventRepository';
import { SqliteEventWriter } from './eventWriter';
import { SqliteIntegrityReader } from './integrityReader';
import { SqliteLifecycleStore } from './lifecycleStore';
import { SqliteStreamStore } from './streamStore';
import {
  SqliteCheckpointRepository,
  SqliteIdempotencyRepository,
  SqliteLeaseRepository,
  SqliteLogHeadRepository,
  SqliteCosignatureRepository,
  SqliteTileRepository,
} from './logRepositories';
import { applyPragmas, assertKnownSchema, BUSY_TIMEOUT_MS, createSchema, inspectDatabase, SCHEMA_VERSION } from './schema';
import { fillGroupActions, upgradeSchema } from './schemaUpgrade';
import { WalCheckpointer } from './walCheckpointer';

export interface SqliteStorageOptions {
  /** The database file, or `:memory:` (a private database that ends with the process). */
  readonly file: string;
  /** Create the file and the schema if missing (the server); else the ledger must exist (CLI commands). */
  readonly create: boolean;
  /** Open for reading only (verify-db beside a running server). */
  readonly readonly?: boolean;
  readonly logger?: { info(obj: object, msg?: string): void };
  /**
   * Commit appends in a worker thread with its own connection (appendWorker.ts), so the
   * commit's fsync does not stop this thread: what the server does. Off by default (tools,
   * tests); ignored for in-memory and read-only databases.
   */
  readonly appendInWorker?: boolean;
}

const MEMORY = ':memory:';
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

function noLedger(file: string): WrongDatabaseError {
  return new WrongDatabaseError(`${file} holds no audit-ledger database; create one by starting the server first (or pass the create flag)`);
}

/** Creates the folder (0700) and an empty file (0600) unless they exist. */
function createPrivateFile(file: string): void {
  const dir = path.dirname(file);
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  try {
    closeSync(openSync(file, 'wx', PRIVATE_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/**
 * SQLite gives `-wal` and `-shm` the database file's mode, but a umask applies at creation
 * and the main file may predate us: make all three private whatever happened before.
 */
function makePrivate(file: string): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      chmodSync(f, PRIVATE_FILE);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function openDatabase(file: string, options: SqliteStorageOptions): Database.Database {
  const memory = file === MEMORY;
  const readonly = options.readonly === true;
  const create = options.create && !readonly;
  if (!memory) {
    if (create) createPrivateFile(file);
    else if (!existsSync(file)) throw noLedger(file);
  }
  let db: Database.Database;
  try {
    db = new Database(file, { readonly, fileMustExist: !memory, timeout: BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new LedgerError('UNAVAILABLE', `cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const state = inspectDatabase(db);
    if (state.kind === 'other') {
      throw new WrongDatabaseError(`${file} is an SQLite database of something else than audit-ledger; point the ledger at its own database file`);
    }
    if (state.kind === 'ledger') assertKnownSchema(state, file, { writable: !readonly });
    else if (!create) throw noLedger(file);
    applyPragmas(db, { readonly });
    if (state.kind === 'ledger' && state.schemaVersion < SCHEMA_VERSION) upgradeSchema(db, state.schemaVersion, options.logger);
    if (create) createSchema(db);
    if (!readonly) fillGroupActions(db, options.logger);
    if (!memory && !readonly) makePrivate(file);
    options.logger?.info({ file, created: state.kind === 'empty' && create, readonly }, 'SQLite ledger database open');
    return db;
  } catch (err) {
    db.close();
    if (err instanceof LedgerError) throw err;
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') throw new WrongDatabaseError(`${file} is not an SQLite database: ${(err as Error).message}`, { cause: err });
    throw new LedgerError('UNAVAILABLE', `cannot open ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export async function openSqliteStorage(options: SqliteStorageOptions): Promise<LedgerStorage> {
  const file = options.file === MEMORY ? MEMORY : path.resolve(options.file);
  const db = openDatabase(file, options);
  const inline = new InlineCountRunner(db);
  // Counts and WAL checkpoints off the event loop; an in-memory database cannot be reached from a worker.
  const background = db.memory ? undefined : new BackgroundWorker(file);
  const countRunner: CountRunner = background ? new WorkerCountRunner(background) : inline;
  // A read-only connection never appends; an in-memory database cannot be reached from a worker.
  const inWorker = options.appendInWorker === true && !db.memory && options.readonly !== true;
  const checkpointer = inWorker && background ? new WalCheckpointer(background) : undefined;
  const appendWorker = inWorker ? new WorkerAppendRunner(file, (events) => checkpointer?.appended(events)) : undefined;
  const appends: AppendRunner = appendWorker ?? new InlineAppendRunner(new SqliteEventWriter(db));
  const logDb = inWorker ? openLogConnection(file, options) : db;
  let closed = false;
  return {
    kind: 'sqlite',
    description: file,
    sharedByProcesses: false,
    events: new SqliteEventRepository(db, inline, countRunner, appends),
    tiles: new SqliteTileRepository(logDb),
    checkpoints: new SqliteCheckpointRepository(logDb),
    head: new SqliteLogHeadRepository(logDb),
    cosignatures: new SqliteCosignatureRepository(db),
    idempotency: new SqliteIdempotencyRepository(db),
    lease: new SqliteLeaseRepository(logDb),
    users: new SqliteUserRepository(db),
    groups: new SqliteGroupRepository(db),
    apiKeys: new SqliteApiKeyRepository(db),
    integrity: new SqliteIntegrityReader(db),
    lifecycle: new SqliteLifecycleStore(db),
    streams: new SqliteStreamStore(db),
    threadActivity() {
      const threads: ThreadActivity[] = [];
      if (appendWorker) threads.push({ thread: 'append', busySeconds: appendWorker.busySeconds() });
      if (background) threads.push({ thread: 'background', busySeconds: background.busySeconds() });
      return threads;
    },
    async ping() {
      if (closed) throw new LedgerError('UNAVAILABLE', `${file} is closed`);
      await step(() => db.prepare('SELECT 1').get());
    },
    async close() {
      if (closed) return;
      closed = true;
      await appends.close();
      await checkpointer?.idle();
      await countRunner.close();
      await background?.close();
      if (logDb !== db) logDb.close();
      db.close();
    },
  };
}

/**
 * The sequencer's bookkeeping (the batch's pending mark, hash tiles, the checkpoint archive,
 * the log head, the lease) on a connection of its own with synchronous=NORMAL: its commits
 * reach the WAL without an fsync each, which would otherwise stop the event loop five or six
 * times a batch. Durability is unchanged. Commits to one WAL survive a power loss as a prefix
 * of their order, and the events' commit (synchronous=FULL, in the append worker) syncs the
 * whole WAL file, so the pending mark written before it is durable with the events; what is
 * written after it (tiles, checkpoint, head) may be lost with the power, exactly as a kill -9
 * between those commits loses it, and start-up recovery re-derives it from the durable
 * events (log/recovery.ts). A checkpoint re-derived for the same size is the same note and,
 * Ed25519 being deterministic, the same signature, so a receipt already handed out stays valid.
 */
function openLogConnection(file: string, options: SqliteStorageOptions): Database.Database {
  const { logger: _quiet, ...quiet } = options;
  const logDb = openDatabase(file, { ...quiet, create: false });
  logDb.pragma('synchronous = NORMAL');
  // Primary-key reads of a few small tables, and tiles that the tile cache mostly answers:
  // a small page cache keeps the third connection from adding to the server's memory.
  logDb.pragma('cache_size = -4096');
  return logDb;
}

/**
 * Range reads of events on a read-only connection of its own, for another thread (verify-db's
 * leaf-check workers): WAL lets it read beside the main connection.
 */
export function openSqliteRangeReader(file: string): EventRangeReader & { close(): Promise<void> } {
  const db = openDatabase(file, { file, create: false, readonly: true });
  // A forward scan touches each page once: a small cache per reading thread keeps verify-db's
  // memory flat (the 64 MiB of a serving connection, times the threads, would not be).
  db.pragma('cache_size = -4096');
  const reader = new SqliteIntegrityReader(db);
  return {
    rangeEnd: (from, rows) => reader.rangeEnd(from, rows),
    positionSpan: () => reader.positionSpan(),
    eventRange: (from, to) => reader.eventRange(from, to),
    eventValuesRange: (from, to) => reader.eventValuesRange(from, to),
    close: async () => {
      db.close();
    },
  };
}
