/**
 * The request loop of a worker thread that answers on a database connection of its own (the
 * count and checkpoint workers): one request at a time, in order, on a connection opened on
 * first use and closed with the port; a failure is answered, never thrown, and reaches the
 * server thread in the port's terms (driverErrors.ts). The append worker, which keeps a
 * transaction open across messages, has a loop of its own.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { errorOfWorkerFailure, type WorkerFailure, workerFailureOf } from './driverErrors';
import type { WorkerAnswer } from './workerClient';

/** The database file a connection worker is started on (its workerData). */
export interface ConnectionWorkerData {
  readonly connectionWorkerFile: string;
}

export type ConnectionReply<T> = { readonly id: number; readonly value: T } | { readonly id: number; readonly error: WorkerFailure };

function isConnectionWorkerData(data: unknown): data is ConnectionWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { connectionWorkerFile?: unknown }).connectionWorkerFile === 'string';
}

/**
 * In a worker thread started with ConnectionWorkerData, answers each request with
 * `answer(db, request)`; elsewhere (the module imported on the server thread) does nothing.
 */
export function serveOnConnection<Request extends { readonly id: number }, T>(
  open: (file: string) => Database.Database,
  answer: (db: Database.Database, request: Request) => T,
): void {
  if (isMainThread || !parentPort || !isConnectionWorkerData(workerData)) return;
  const port = parentPort;
  const file = workerData.connectionWorkerFile;
  let db: Database.Database | undefined;
  port.on('message', (request: Request) => {
    let reply: ConnectionReply<T>;
    try {
      db ??= open(file);
      reply = { id: request.id, value: answer(db, request) };
    } catch (err) {
      reply = { id: request.id, error: workerFailureOf(err) };
    }
    port.postMessage(reply);
  });
  port.on('close', () => db?.close());
}

/** A connection worker's reply as the WorkerClient's answer; `worker` names it in errors. */
export function answerOfConnectionReply<T>(worker: string): (reply: ConnectionReply<T>) => WorkerAnswer<T> {
  return (reply) => ('value' in reply ? { value: reply.value } : { error: errorOfWorkerFailure(worker, reply.error) });
}
