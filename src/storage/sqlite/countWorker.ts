/**
 * The worker thread that runs count aggregates the maintained counts cannot answer. It
 * holds its own read-only connection to the database file: WAL lets it read beside the
 * server's writer, and an aggregate over millions of rows then costs the server's event
 * loop nothing. It runs whatever statement it is sent (built by eventQueryPlan.ts), one at a
 * time, in order.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type WorkerFailure, workerFailureOf } from './driverErrors';
import type { SqlValue } from './eventRows';
import { BUSY_TIMEOUT_MS } from './schema';

export interface CountWorkerData {
  readonly countWorkerFile: string;
}

export interface CountRequest {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export interface CountRow {
  readonly key: unknown;
  readonly n: number;
}

export type CountReply =
  | { readonly id: number; readonly rows: CountRow[] }
  | { readonly id: number; readonly error: WorkerFailure };

function serve(port: MessagePort, file: string): void {
  let db: Database.Database | undefined;
  const statements = new Map<string, Database.Statement<SqlValue[], CountRow>>();
  port.on('message', (request: CountRequest) => {
    let reply: CountReply;
    try {
      db ??= new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
      let statement = statements.get(request.sql);
      if (!statement) {
        statement = db.prepare<SqlValue[], CountRow>(request.sql);
        statements.set(request.sql, statement);
      }
      reply = { id: request.id, rows: statement.all(...request.params) };
    } catch (err) {
      reply = { id: request.id, error: workerFailureOf(err) };
    }
    port.postMessage(reply);
  });
  port.on('close', () => db?.close());
}

function isCountWorkerData(data: unknown): data is CountWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { countWorkerFile?: unknown }).countWorkerFile === 'string';
}

if (!isMainThread && parentPort && isCountWorkerData(workerData)) serve(parentPort, workerData.countWorkerFile);
