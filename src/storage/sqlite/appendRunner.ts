/**
 * Where appends are committed: on the server's own connection (in-memory databases, where no
 * other thread can reach the data), or in the append worker (appendWorker.ts), a thread with
 * its own connection, so that the server's event loop keeps serving while a batch commits.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import type { AppendPart, CompanionRecords, StoredEvent } from '../port';
import type { AppendReply, AppendRequest, AppendWorkerData } from './appendWorker';
import { step, translateError } from './driverErrors';
import type { AppendFailure, SqliteEventWriter } from './eventWriter';
import { WorkerClient } from './workerClient';

export interface AppendRunner {
  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void>;
  /** One append in parts, all or nothing (port.ts: EventRepository.appendParts). */
  appendParts(parts: Iterable<AppendPart>): Promise<void>;
  close(): Promise<void>;
}

export class InlineAppendRunner implements AppendRunner {
  constructor(private readonly writer: SqliteEventWriter) {}

  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void> {
    return step(() => this.writer.append(events, companions));
  }

  /** On one thread nothing overlaps: the parts are written as they come, in one transaction. */
  appendParts(parts: Iterable<AppendPart>): Promise<void> {
    return step(() => {
      const open = this.writer.begin();
      try {
        for (const part of parts) open.write(part);
        open.commit();
      } catch (err) {
        open.rollback();
        throw err;
      }
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The parts as messages, each sent as soon as it is made, and an empty last one that commits. */
function* partMessages(id: number, parts: Iterable<AppendPart>): Generator<AppendRequest> {
  let first = true;
  for (const part of parts) {
    yield { id, part, first, last: false };
    first = false;
  }
  yield { id, part: { events: [] }, first, last: true };
}

/** The failure as the port's typed error, as the inline writer would have thrown it. */
function errorOf(failure: AppendFailure): Error {
  switch (failure.kind) {
    case 'leafIndexTaken':
      return new LeafIndexTakenError(failure.leafIndex);
    case 'duplicateKey':
      return new DuplicateKeyError(failure.field, failure.message);
    case 'rejected':
      return new EventRejectedError(failure.message);
    case 'ledger':
      return new LedgerError(failure.code, failure.message);
    case 'sqlite':
      return translateError(new Database.SqliteError(failure.message, failure.code));
    case 'other':
      return new LedgerError('INTERNAL', `append worker: ${failure.message}`);
  }
}

/**
 * One long-lived worker, started on first append and restarted after a crash (an append it
 * was running fails UNAVAILABLE: the sequencer retries it, and recovery finds whatever it
 * had committed). It keeps the process alive only while an append is pending.
 */
export class WorkerAppendRunner implements AppendRunner {
  private readonly client: WorkerClient<AppendRequest, AppendReply, void>;

  /** `committed`: told how many events each append committed (the background WAL checkpoints). */
  constructor(
    file: string,
    private readonly committed: (events: number) => void = () => undefined,
  ) {
    const workerData: AppendWorkerData = { appendWorkerFile: file };
    this.client = new WorkerClient({
      entry: path.join(__dirname, 'appendWorker'),
      workerData,
      name: 'the append worker',
      answerOf: (reply) => ('failure' in reply ? { error: errorOf(reply.failure) } : { value: undefined }),
    });
  }

  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void> {
    // Nothing to commit: no worker needed (but a closed storage still refuses).
    if (events.length === 0 && !this.client.closed) return Promise.resolve();
    return this.client
      .request((id) => ({ id, part: { events, ...(companions && { companions }) }, first: true, last: true }))
      .then(() => this.committed(events.length));
  }

  /** Each part is posted as soon as it is produced: the worker writes it while the next is made. */
  appendParts(parts: Iterable<AppendPart>): Promise<void> {
    let events = 0;
    const counted = function* (): Generator<AppendPart> {
      for (const part of parts) {
        events += part.events.length;
        yield part;
      }
    };
    return this.client
      .requestInParts(
        (id) => partMessages(id, counted()),
        (id) => ({ id, abort: 'the rest of the append could not be made' }),
      )
      .then(() => this.committed(events));
  }

  /** Seconds the worker has been busy (WorkerClient.busySeconds). */
  busySeconds(): number {
    return this.client.busySeconds();
  }

  close(): Promise<void> {
    // Appends already sent finish first (the worker commits them in order), then it stops.
    return this.client.close('the storage was closed during an append', 'finish');
  }
}
