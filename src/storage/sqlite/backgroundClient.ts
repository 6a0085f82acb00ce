/**
 * The server thread's side of the background worker (backgroundWorker.ts): counts and WAL
 * checkpoints, each answered in the port's terms. Started on first use and again after it
 * is lost (workerClient.ts); whoever opened the storage closes it, after the appends.
 */
import path from 'node:path';
import type { BackgroundReply, BackgroundRequest, BackgroundWorkerData, CountRow, WalCheckpoint } from './backgroundWorker';
import { errorOfWorkerFailure } from './driverErrors';
import type { SqlValue } from './eventRows';
import { type WorkerAnswer, WorkerClient } from './workerClient';

/** What a request answers: rows for a count, the checkpoint's figures for a checkpoint. */
type Answer = CountRow[] | WalCheckpoint;

function answerOf(reply: BackgroundReply): WorkerAnswer<Answer> {
  if ('rows' in reply) return { value: reply.rows };
  if ('checkpoint' in reply) return { value: reply.checkpoint };
  return { error: errorOfWorkerFailure('background worker', reply.error) };
}

export class BackgroundWorker {
  private readonly client: WorkerClient<BackgroundRequest, BackgroundReply, Answer>;

  constructor(file: string) {
    const workerData: BackgroundWorkerData = { backgroundWorkerFile: file };
    this.client = new WorkerClient({ entry: path.join(__dirname, 'backgroundWorker'), workerData, name: 'the background worker', answerOf });
  }

  get closed(): boolean {
    return this.client.closed;
  }

  /** Runs a count statement on the worker's read-only connection. */
  async count(sql: string, params: readonly SqlValue[]): Promise<CountRow[]> {
    // A count request is only ever answered with rows (or fails).
    return (await this.client.request((id) => ({ id, kind: 'count', sql, params }))) as CountRow[];
  }

  /** Copies the write-ahead log into the database file, beside the writer (PASSIVE). */
  async checkpoint(): Promise<WalCheckpoint> {
    return (await this.client.request((id) => ({ id, kind: 'checkpoint' }))) as WalCheckpoint;
  }

  /** Seconds the worker has been busy (WorkerClient.busySeconds). */
  busySeconds(): number {
    return this.client.busySeconds();
  }

  /** Refuses new requests; what is waiting fails UNAVAILABLE. */
  close(): Promise<void> {
    return this.client.close('the storage was closed during a count or checkpoint', 'fail');
  }
}
