/**
 * The worker thread that commits appends. It holds its own read-write connection to the
 * database file and runs each append transaction there (eventWriter.ts), so that the commit,
 * whose fsync under `synchronous=FULL` is most of a batch's time on a real disk, does not
 * stop the server's event loop: requests keep being read and validated meanwhile, and join
 * the next batch. One append at a time, in the order sent. A sealed ledger's batch comes in
 * parts (port.ts: appendParts): the first is sealed here (lifecycle/sealBatch.ts) while the
 * server seals the rest, each part arriving while the one before is being stored.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import type { AppendPart } from '../port';
import { type AppendFailure, appendFailureOf, type OpenAppend, SqliteEventWriter } from './eventWriter';
import { applyPragmas, BUSY_TIMEOUT_MS } from './schema';

export interface AppendWorkerData {
  readonly appendWorkerFile: string;
}

/**
 * One part of an append (port.ts: AppendPart); an append sent whole is one part that is both
 * first and last. The parts of an append come one after another, none of another append's
 * between them (the sender posts them in one synchronous run), so the worker keeps one
 * transaction open from the first to the last. `abort`: the sender could not produce the
 * rest, so nothing of the append is kept.
 */
export type AppendRequest =
  | { readonly id: number; readonly part: AppendPart; readonly first: boolean; readonly last: boolean }
  | { readonly id: number; readonly abort: string };

export type AppendReply = { readonly id: number } | { readonly id: number; readonly failure: AppendFailure };

/** The append whose parts are arriving: its open transaction, or why it failed. */
interface Current {
  readonly id: number;
  open: OpenAppend | undefined;
  failure: AppendFailure | undefined;
}

function serve(port: MessagePort, file: string): void {
  let writer: SqliteEventWriter | undefined;
  let db: Database.Database | undefined;
  let current: Current | undefined;
  const fail = (c: Current, failure: AppendFailure): void => {
    c.open?.rollback();
    c.open = undefined;
    c.failure ??= failure;
  };
  port.on('message', (request: AppendRequest) => {
    if (current === undefined || current.id !== request.id || ('first' in request && request.first)) {
      // An append left unfinished (its sender lost between parts) keeps nothing.
      if (current) fail(current, { kind: 'other', message: 'the append was left unfinished' });
      current = { id: request.id, open: undefined, failure: undefined };
      try {
        if (!('first' in request) || !request.first) throw new LedgerError('INTERNAL', 'a part of an append arrived without its start');
        if (!writer) {
          db = new Database(file, { fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
          // Its page cache is the pragmas' 16 MiB, as on the serving connection: in WAL mode a
          // connection drops its page cache once another has committed, and the sequencer's
          // bookkeeping commits after every batch, so this one only ever holds a batch's pages
          // (about one per distinct actor plus the new rows: under 16 MiB for batches of a few
          // thousand events). A larger batch spills some of its pages to the WAL before its
          // commit, which writes them anyway.
          applyPragmas(db, { readonly: false });
          writer = new SqliteEventWriter(db);
        }
        current.open = writer.begin();
      } catch (err) {
        fail(current, appendFailureOf(err));
      }
    }
    const c = current;
    if ('abort' in request) fail(c, { kind: 'other', message: request.abort });
    else if (c.open) {
      try {
        c.open.write(request.part);
        if (request.last) c.open.commit();
      } catch (err) {
        fail(c, appendFailureOf(err));
      }
    }
    if ('abort' in request || request.last) {
      current = undefined;
      port.postMessage(c.failure ? { id: c.id, failure: c.failure } : { id: c.id });
    }
  });
  port.on('close', () => {
    current?.open?.rollback();
    db?.close();
  });
}

function isAppendWorkerData(data: unknown): data is AppendWorkerData {
  return typeof data === 'object' && data !== null && typeof (data as { appendWorkerFile?: unknown }).appendWorkerFile === 'string';
}

if (!isMainThread && parentPort && isAppendWorkerData(workerData)) serve(parentPort, workerData.appendWorkerFile);
