/**
 * The SQLite adapter's background worker thread: the work that may take long but must not
 * stop the server's event loop, nor (for checkpoints) the append worker's commits. One thread
 * for both, since each thread costs some 8 MB of resident memory; one request at a time, in
 * order, each failure answered (never thrown) and turned into the port's terms on the server
 * thread (driverErrors.ts).
 *
 * - `count`: aggregates the maintained counts cannot answer, run as sent (built by
 *   eventQueryPlan.ts) on a read-only connection: WAL lets it read beside the writer, and an
 *   aggregate over millions of rows costs the event loop nothing.
 * - `checkpoint`: copies the write-ahead log back into the database file (PASSIVE: WAL allows
 *   one checkpointer beside one writer), on a read-write connection of its own, when the
 *   server asks (walCheckpointer.ts). SQLite's automatic checkpoint runs inside the commit that
 *   crosses its threshold: every fifteenth or so batch of appends paid for copying 40 MiB and
 *   an fsync of the database file. With this, the writer's own checkpoint finds the log mostly
 *   copied, does little, and lets the log start over from its beginning.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type WorkerFailure, workerFailureOf } from './driverErrors';
import type { SqlValue } from './eventRows';
import { BUSY_TIMEOUT_MS } from './schema';

export interface BackgroundWorkerData {
  readonly backgroundWorkerFile: string;
}

export interface CountRow {
  readonly key: unknown;
  readonly n: number;
}

/** What `PRAGMA wal_checkpoint(PASSIVE)` answered: frames in the log, and how many are now in the database file. */
export interface WalCheckpoint {
  readonly busy: boolean;
  readonly logFrames: number;
  readonly checkpointedFrames: number;
}

export type BackgroundRequest =
  | { readonly id: number; readonly kind: 'count'; readonly sql: string; readonly params: readonly SqlValue[] }
  | { readonly id: number; readonly kind: 'checkpoint' };

export type BackgroundReply =
  | { readonly id: number; readonly rows: CountRow[] }
  | { readonly id: number; readonly checkpoint: WalCheckpoint }
  | { readonly id: number; readonly error: WorkerFailure };

interface PragmaRow {
  readonly busy: number;
  readonly log: number;
  readonly checkpointed: number;
}

function serve(file: string): { answer(request: BackgroundRequest): BackgroundReply; close(): void } {
  let reader: Database.Database | undefined;
  let checkpointer: Database.Database | undefined;
  const statements = new Map<string, Database.Statement<SqlValue[], CountRow>>();
  const count = (sql: string, params: readonly SqlValue[]): CountRow[] => {
    reader ??= new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
    let statement = statements.get(sql);
    if (!statement) {
      statement = reader.prepare<SqlValue[], CountRow>(sql);
      statements.set(sql, statement);
    }
    return statement.all(...params);
  };
  const checkpoint = (): WalCheckpoint => {
    if (!checkpointer) {
      checkpointer = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      // The checkpoint copies log frames into the file directly: no page cache needed.
      checkpointer.pragma('cache_size = -256');
      // Copied pages reach the disk before the log may start over (the database file's fsync).
      checkpointer.pragma('synchronous = FULL');
    }
    const r = (checkpointer.pragma('wal_checkpoint(PASSIVE)') as PragmaRow[])[0]!;
    return { busy: r.busy !== 0, logFrames: r.log, checkpointedFrames: r.checkpointed };
  };
  return {
    answer: (request) => {
      try {
        return request.kind === 'count' ? { id: request.id, rows: count(request.sql, request.params) } : { id: request.id, checkpoint: checkpoint() };
      } catch (err) {
        return { id: request.id, error: workerFailureOf(err) };
      }
    },
    close: () => {
      reader?.close();
      checkpointer?.close();
    },
  };
}

function isBackgroundWorkerData(data: unknown): data is BackgroundWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { backgroundWorkerFile?: unknown }).backgroundWorkerFile === 'string';
}

if (!isMainThread && parentPort && isBackgroundWorkerData(workerData)) {
  const port = parentPort;
  const { answer, close } = serve(workerData.backgroundWorkerFile);
  port.on('message', (request: BackgroundRequest) => port.postMessage(answer(request)));
  port.on('close', close);
}
