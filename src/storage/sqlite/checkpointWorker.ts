/**
 * The worker thread that copies the write-ahead log back into the database file (a WAL
 * checkpoint), so that the append worker does not have to. SQLite's automatic checkpoint
 * runs inside the commit that crosses the threshold: every fifteenth or so batch of appends
 * paid for copying 40 MiB and an fsync of the database file, about a third of the append
 * worker's commit time. Here a PASSIVE checkpoint runs beside the writer (WAL allows one
 * checkpointer beside one writer) whenever the server asks (walCheckpointer.ts); the writer's
 * own automatic checkpoint then finds the log already copied, does next to nothing, and lets
 * the log start over from its beginning.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type WorkerFailure, workerFailureOf } from './driverErrors';
import { BUSY_TIMEOUT_MS } from './schema';

export interface CheckpointWorkerData {
  readonly checkpointWorkerFile: string;
}

export interface CheckpointRequest {
  readonly id: number;
}

/** What `PRAGMA wal_checkpoint(PASSIVE)` answered: frames in the log, and how many are now in the database file. */
export interface WalCheckpoint {
  readonly busy: boolean;
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

export type CheckpointReply =
  | { readonly id: number; readonly checkpoint: WalCheckpoint }
  | { readonly id: number; readonly error: WorkerFailure };

interface PragmaRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

function serve(port: MessagePort, file: string): void {
  let db: Database.Database | undefined;
  port.on('message', (request: CheckpointRequest) => {
    let reply: CheckpointReply;
    try {
      if (!db) {
        db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
        // The checkpoint reads log frames into the file directly: no page cache needed.
        db.pragma('cache_size = -256');
        // Copied pages reach the disk before the log may start over (the database file's fsync).
        db.pragma('synchronous = FULL');
      }
      const row = db.pragma('wal_checkpoint(PASSIVE)') as PragmaRow[];
      const r = row[0]!;
      reply = { id: request.id, checkpoint: { busy: r.busy !== 0, logFrames: r.log, checkpointedFrames: r.checkpointed } };
    } catch (err) {
      reply = { id: request.id, error: workerFailureOf(err) };
    }
    port.postMessage(reply);
  });
  port.on('close', () => db?.close());
}

function isCheckpointWorkerData(data: unknown): data is CheckpointWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { checkpointWorkerFile?: unknown }).checkpointWorkerFile === 'string';
}

if (!isMainThread && parentPort && isCheckpointWorkerData(workerData)) serve(parentPort, workerData.checkpointWorkerFile);
