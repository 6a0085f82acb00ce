/**
 * The worker thread that commits appends. It holds its own read-write connection to the
 * database file and runs each append transaction there (eventWriter.ts), so that the commit,
 * whose fsync under `synchronous=FULL` is most of a batch's time on a real disk, does not
 * stop the server's event loop: requests keep being read and validated meanwhile, and join
 * the next batch. One append at a time, in the order sent. Sealed ledgers' batches are sealed
 * here too (lifecycle/sealBatch.ts), for the same reason: it is per-event CPU the event loop
 * need not spend.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Sealer } from '../../lifecycle/sealBatch';
import type { CompanionRecords, SealingKeys, StoredEvent } from '../port';
import { type AppendFailure, appendFailureOf, SqliteEventWriter } from './eventWriter';
import { applyPragmas, BUSY_TIMEOUT_MS } from './schema';

export interface AppendWorkerData {
  readonly appendWorkerFile: string;
}

/** Events with their companions, or events to seal first (the skeletons then go with their data-key records). */
export type AppendRequest =
  | { readonly id: number; readonly events: readonly StoredEvent[]; readonly companions: CompanionRecords | undefined }
  | { readonly id: number; readonly events: readonly StoredEvent[]; readonly sealing: SealingKeys };

export type AppendReply = { readonly id: number } | { readonly id: number; readonly failure: AppendFailure };

function serve(port: MessagePort, file: string): void {
  let writer: SqliteEventWriter | undefined;
  let db: Database.Database | undefined;
  const sealer = new Sealer();
  port.on('message', (request: AppendRequest) => {
    let reply: AppendReply;
    try {
      if (!writer) {
        db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
        applyPragmas(db, { readonly: false });
        writer = new SqliteEventWriter(db);
      }
      if ('sealing' in request) {
        const { skeletons, records } = sealer.seal(request.events, request.sealing);
        writer.append(skeletons, { kind: 'dataKey', records });
      } else {
        writer.append(request.events, request.companions);
      }
      reply = { id: request.id };
    } catch (err) {
      reply = { id: request.id, failure: appendFailureOf(err) };
    }
    port.postMessage(reply);
  });
  port.on('close', () => db?.close());
}

function isAppendWorkerData(data: unknown): data is AppendWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { appendWorkerFile?: unknown }).appendWorkerFile === 'string';
}

if (!isMainThread && parentPort && isAppendWorkerData(workerData)) serve(parentPort, workerData.appendWorkerFile);
