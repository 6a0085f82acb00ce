/**
 * Where appends are committed: on the server's own connection (in-memory databases, where no
 * other thread can reach the data), or in the append worker (appendWorker.ts), a thread with
 * its own connection, so that the server's event loop keeps serving while a batch commits.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import { Sealer } from '../../lifecycle/sealBatch';
import type { CompanionRecords, SealingKeys, StoredEvent } from '../port';
import type { AppendReply, AppendRequest, AppendWorkerData } from './appendWorker';
import { step, translateError } from './driverErrors';
import type { AppendFailure, SqliteEventWriter } from './eventWriter';
import { WorkerClient } from './workerClient';

export interface AppendRunner {
  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void>;
  /** Seals the events (lifecycle/sealBatch.ts) and appends the skeletons with their data-key records. */
  appendSealed(events: readonly StoredEvent[], sealing: SealingKeys): Promise<void>;
  close(): Promise<void>;
}

export class InlineAppendRunner implements AppendRunner {
  private readonly sealer = new Sealer();

  constructor(private readonly writer: SqliteEventWriter) {}

  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void> {
    return step(() => this.writer.append(events, companions));
  }

  appendSealed(events: readonly StoredEvent[], sealing: SealingKeys): Promise<void> {
    return step(() => {
      const { skeletons, records } = this.sealer.seal(events, sealing);
      this.writer.append(skeletons, { kind: 'dataKey', records });
    });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
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

  constructor(file: string) {
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
    return this.client.request((id) => ({ id, events, companions }));
  }

  appendSealed(events: readonly StoredEvent[], sealing: SealingKeys): Promise<void> {
    if (events.length === 0 && !this.client.closed) return Promise.resolve();
    return this.client.request((id) => ({ id, events, sealing }));
  }

  close(): Promise<void> {
    // Appends already sent finish first (the worker commits them in order), then it stops.
    return this.client.close('the storage was closed during an append', 'finish');
  }
}
