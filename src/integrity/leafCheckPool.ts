/**
 * Where verify-db re-derives leaves: here (`size` 0), or spread over worker threads, one slice
 * of each batch per worker, answered in order. Re-deriving (parse, compare, canonicalise,
 * hash) is most of the check's CPU; with it in workers, the main thread only reads the
 * database and builds the tree, and the next batch is read while this one is checked. The
 * decisions stay in eventCheck.ts; the verdict is the same whichever thread computed it.
 */
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { IntegrityReaderSource } from '../storage/port';
import { startWorkerThread } from '../workerThread';
import { type CheckedEvent, checkEvent, type EventCheck } from './eventCheck';
import type { CheckedRange, LeafCheckReply, LeafCheckRequest, LeafCheckWorkerData } from './leafCheckWorker';

export type { CheckedRange } from './leafCheckWorker';

interface Waiting {
  resolve(reply: LeafCheckReply): void;
  reject(err: Error): void;
}

/**
 * A worker holds one range or slice at a time (a few MB); without limits V8 lets each
 * isolate's heap grow far beyond that before collecting, which is most of verify-db's memory.
 * The young generation is 32 MiB: at 16 a quarter of a worker's time went to scavenges
 * (measured at 10^5 leaves: 8% less CPU and 10% more leaves/s at 32, for the same peak RSS
 * as 48 and 35 MB more than 16).
 */
const LEAF_WORKER_LIMITS = { maxYoungGenerationSizeMb: 32, maxOldGenerationSizeMb: 256 } as const;

export class LeafCheckPool {
  private readonly workers: Worker[] = [];
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private nextWorker = 0;

  /** `source`: the database each worker opens to serve checkRange. */
  constructor(size: number, source?: IntegrityReaderSource) {
    const entry = path.join(__dirname, 'leafCheckWorker');
    const data: LeafCheckWorkerData = { leafCheckWorker: true, ...(source && { source }) };
    for (let i = 0; i < size; i++) {
      const worker = startWorkerThread(entry, data, LEAF_WORKER_LIMITS);
      worker.on('message', (reply: LeafCheckReply) => {
        const waiting = this.waiting.get(reply.id);
        if (!waiting) return;
        this.waiting.delete(reply.id);
        if (reply.error === undefined) waiting.resolve(reply);
        else waiting.reject(new Error(`leaf check worker: ${reply.error ?? 'no answer'}`));
      });
      const lost = (why: string): void => this.failAll(new Error(`a leaf check worker ${why}`));
      worker.on('error', (err) => lost(`failed: ${err.message}`));
      worker.on('exit', (code) => {
        if (code !== 0) lost(`exited (code ${code})`);
      });
      this.workers.push(worker);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** The check of each event, in order (undefined where none was asked). */
  async check(events: readonly (CheckedEvent | undefined)[]): Promise<(EventCheck | undefined)[]> {
    if (this.workers.length === 0) return events.map((e) => (e === undefined ? undefined : checkEvent(e)));
    const slice = Math.ceil(events.length / this.workers.length);
    const parts = this.workers.map((worker, i) => {
      const part = events.slice(i * slice, (i + 1) * slice);
      if (part.length === 0) return Promise.resolve([]);
      return this.ask(worker, { events: part }).then((reply) => reply.checks ?? []);
    });
    return (await Promise.all(parts)).flat();
  }

  /**
   * Has the next worker (round robin) read and check the stored events with from ≤ position
   * < to. Only for a pool started with a source.
   */
  async checkRange(from: number, to: number): Promise<CheckedRange> {
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    if (!worker) throw new Error('checkRange needs worker threads');
    const reply = await this.ask(worker, { range: { from, to } });
    if (!reply.range) throw new Error('leaf check worker: no range in its answer');
    return reply.range;
  }

  private ask(worker: Worker, request: Omit<LeafCheckRequest, 'id'>): Promise<LeafCheckReply> {
    const id = this.nextId++;
    return new Promise<LeafCheckReply>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies LeafCheckRequest);
    });
  }

  async close(): Promise<void> {
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private failAll(err: Error): void {
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.reject(err);
  }
}
