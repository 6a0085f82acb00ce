/**
 * The worker thread that copies the write-ahead log back into the database file (a WAL
 * checkpoint), so that the append worker does not have to. SQLite's automatic checkpoint
 * runs inside the commit that crosses the threshold: every fifteenth or so batch of appends
 * paid for copying 40 MiB and an fsync of the database file, about a third of the append
 * worker's commit time. Here a PASSIVE checkpoint runs beside the writer (WAL allows one
 * checkpointer beside one writer) whenever the server asks (walCheckpointer.ts; the request loop is connectionWorker.ts); the writer's
 * own automatic checkpoint then finds the log already copied, does next to nothing, and lets
 * the log start over from its beginning.
 */
import Database from 'better-sqlite3';
import { serveOnConnection } from './connectionWorker';
import { BUSY_TIMEOUT_MS } from './schema';

export interface CheckpointRequest {
  readonly id: number;
}

/** What `PRAGMA wal_checkpoint(PASSIVE)` answered: frames in the log, and how many are now in the database file. */
export interface WalCheckpoint {
  readonly busy: boolean;
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

interface PragmaRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

serveOnConnection<CheckpointRequest, WalCheckpoint>(
  (file) => {
    const db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    // The checkpoint reads log frames into the file directly: no page cache needed.
    db.pragma('cache_size = -256');
    // Copied pages reach the disk before the log may start over (the database file's fsync).
    db.pragma('synchronous = FULL');
    return db;
  },
  (db) => {
    const r = (db.pragma('wal_checkpoint(PASSIVE)') as PragmaRow[])[0]!;
    return { busy: r.busy !== 0, logFrames: r.log, checkpointedFrames: r.checkpointed };
  },
);
