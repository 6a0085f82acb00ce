/**
 * Where appends are committed: on the server's own connection (in-memory databases, where no
 * other thread can reach the data), or in the append worker (appendWorker.ts), a thread with
 * its own connection, so that the server's event loop keeps serving while a batch commits.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import type { CompanionRecords, StoredEvent } from '../port';
import type { AppendReply, AppendRequest, AppendWorkerData } from './appendWorker';
import { step, translateError } from './driverErrors';
import type { AppendFailure, SqliteEventWriter } from './eventWriter';

export interface AppendRunner {
  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void>;
  close(): Promise<void>;
}

export class InlineAppendRunner implements AppendRunner {
  constructor(private readonly writer: SqliteEventWriter) {}

  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void> {
    return step(() => this.writer.append(events, companions));
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

function workerEntry(): { readonly file: string; readonly execArgv?: string[] } {
  const compiled = path.join(__dirname, 'appendWorker.js');
  if (existsSync(compiled)) return { file: compiled };
  return { file: path.join(__dirname, 'appendWorker.ts'), execArgv: ['--require', require.resolve('ts-node/register/transpile-only')] };
}

interface Waiting {
  resolve(): void;
  reject(err: Error): void;
}

/**
 * One long-lived worker, started on first append and restarted after a crash (an append it
 * was running fails UNAVAILABLE: the sequencer retries it, and recovery finds whatever it
 * had committed). It keeps the process alive only while an append is pending.
 */
export class WorkerAppendRunner implements AppendRunner {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting>();
  private readonly pending = new Set<Promise<void>>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly file: string) {}

  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): Promise<void> {
    if (this.closed) return Promise.reject(new LedgerError('UNAVAILABLE', 'the storage is closed'));
    if (events.length === 0) return Promise.resolve();
    const worker = this.start();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      const request: AppendRequest = { id, events, companions };
      worker.postMessage(request);
    });
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return done;
  }

  async close(): Promise<void> {
    this.closed = true;
    // Appends already sent finish first (the worker commits them in order), then it stops.
    await Promise.all([...this.pending]);
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new LedgerError('UNAVAILABLE', 'the storage was closed during an append'));
    if (worker) await worker.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const entry = workerEntry();
    const data: AppendWorkerData = { appendWorkerFile: this.file };
    const worker = new Worker(entry.file, { workerData: data, ...(entry.execArgv && { execArgv: entry.execArgv }) });
    worker.on('message', (reply: AppendReply) => {
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if ('failure' in reply) waiting.reject(errorOf(reply.failure));
      else waiting.resolve();
    });
    const lost = (why: string): void => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new LedgerError('UNAVAILABLE', `the append worker ${why}`));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }
}
