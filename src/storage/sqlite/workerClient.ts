/**
 * A client of one long-lived worker thread that answers requests by id (the append worker,
 * the background worker). The worker is started on first use and again after it is lost; whatever
 * was waiting on a lost worker fails UNAVAILABLE. It keeps the process alive only while a
 * request is pending, so an idle server (or a CLI command) can exit.
 */
import type { Worker } from 'node:worker_threads';
import { LedgerError } from '../../errors';
import { startWorkerThread } from '../../workerThread';

/** A worker's answer to one request: its value, or the error the request fails with. */
export type WorkerAnswer<T> = { readonly value: T } | { readonly error: Error };

export interface WorkerClientOptions<Reply, T> {
  /** The worker's module, a path without its extension (see startWorkerThread). */
  readonly entry: string;
  readonly workerData: unknown;
  /** The worker as named in errors, e.g. `the background worker`. */
  readonly name: string;
  answerOf(reply: Reply): WorkerAnswer<T>;
}

interface Waiting<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

/**
 * The server's long-lived workers hold no large state: a young generation of 16 MiB (V8's
 * default is 48) keeps each one's resident memory small after a burst of big batches.
 */
const SERVER_WORKER_LIMITS = { maxYoungGenerationSizeMb: 16 } as const;

export class WorkerClient<Request, Reply extends { readonly id: number }, T> {
  private worker: Worker | undefined;
  private readonly waiting = new Map<number, Waiting<T>>();
  /** Settles (never rejects) with each request sent, for a close that lets them finish. */
  private readonly pending = new Set<Promise<void>>();
  private nextId = 1;
  private isClosed = false;
  /** Busy time (ms) of workers this client ran before the current one, and of the current one when last read. */
  private retiredBusyMs = 0;
  private currentBusyMs = 0;

  constructor(private readonly options: WorkerClientOptions<Reply, T>) {}

  /** Whether close() was called: requests are refused from then on. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends the request `requestOf(id)` builds; settles when the reply with that id comes. */
  request(requestOf: (id: number) => Request): Promise<T> {
    return this.requestInParts((id) => [requestOf(id)], () => {
      throw new Error('unreachable: a single message cannot fail half-way');
    });
  }

  /**
   * Sends one request as the messages `partsOf(id)` yields, all in one synchronous run (so no
   * other request's message comes between them); settles when the reply with that id comes.
   * If producing a part throws, `abortOf(id)` is sent in place of the rest, so that the worker
   * drops what it received and answers, and the request fails with what was thrown.
   */
  requestInParts(partsOf: (id: number) => Iterable<Request>, abortOf: (id: number) => Request): Promise<T> {
    if (this.isClosed) return Promise.reject(new LedgerError('UNAVAILABLE', 'the storage is closed'));
    const worker = this.start();
    const id = this.nextId++;
    const answer = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.ref();
      let sent = 0;
      try {
        for (const part of partsOf(id)) {
          worker.postMessage(part);
          sent++;
        }
      } catch (err) {
        // The worker's answer to the abort (if any part went) settles nothing more: this failed first.
        if (sent > 0) worker.postMessage(abortOf(id));
        else this.forget(id, worker);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
    const settled = answer.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    return answer;
  }

  /**
   * Seconds the event loops of this client's workers have been busy, the current one and those
   * it replaced (a diagnostic for the server's metrics: its rate is the worker's utilisation).
   * A lost worker counts as busy as it was when last read.
   */
  busySeconds(): number {
    this.readBusy(this.worker);
    return (this.retiredBusyMs + this.currentBusyMs) / 1000;
  }

  private readBusy(worker: Worker | undefined): void {
    // Once a worker has exited, its utilisation reads as zero: keep what was last seen.
    if (worker) this.currentBusyMs = Math.max(this.currentBusyMs, worker.performance.eventLoopUtilization().active);
  }

  /** `worker` is gone: what it was busy for stays in the total. */
  private retire(worker: Worker): void {
    this.readBusy(worker);
    this.retiredBusyMs += this.currentBusyMs;
    this.currentBusyMs = 0;
  }

  /**
   * Refuses new requests and stops the worker, after the requests already sent are answered
   * (`pending: 'finish'`) or at once, failing them with `reason` (`'fail'`).
   */
  async close(reason: string, pending: 'finish' | 'fail'): Promise<void> {
    this.isClosed = true;
    if (pending === 'finish') await Promise.all([...this.pending]);
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new LedgerError('UNAVAILABLE', reason));
    if (worker) {
      this.retire(worker);
      await worker.terminate();
    }
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorkerThread(this.options.entry, this.options.workerData, SERVER_WORKER_LIMITS);
    worker.on('message', (reply: Reply) => {
      const waiting = this.waiting.get(reply.id);
      if (!waiting) return;
      this.forget(reply.id, worker);
      const answer = this.options.answerOf(reply);
      if ('error' in answer) waiting.reject(answer.error);
      else waiting.resolve(answer.value);
    });
    const lost = (why: string): void => {
      if (this.worker === worker) {
        this.worker = undefined;
        this.retire(worker);
      }
      this.failAll(new LedgerError('UNAVAILABLE', `${this.options.name} ${why}`));
    };
    worker.on('error', (err) => lost(`failed: ${err.message}`));
    worker.on('exit', (code) => lost(`exited (code ${code})`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  /** No answer will come for `id`: stop waiting for it. */
  private forget(id: number, worker: Worker): void {
    this.waiting.delete(id);
    if (this.waiting.size === 0) worker.unref();
  }

  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }
}
