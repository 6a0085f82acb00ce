/**
 * A worker thread of verify-db's leaf checks (leafCheckPool.ts): re-derives the leaf of each
 * event it is sent, or of each event it reads itself in a range of positions on its own
 * connection to the database (eventCheck.ts, pure), and answers the leaf hashes and problems
 * in order. Reading here, beside the check, keeps the rows off the main thread altogether:
 * it only receives 32 bytes per leaf, in one transferred buffer.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { openEventRangeReader } from '../storage/open';
import type { EventRangeReader, IntegrityReaderSource } from '../storage/port';
import { type CheckedEvent, checkEvent, type EventCheck } from './eventCheck';

export interface LeafCheckWorkerData {
  readonly leafCheckWorker: true;
  /** The database to read ranges from, when range requests will be sent. */
  readonly source?: IntegrityReaderSource;
}

export interface LeafCheckRequest {
  readonly id: number;
  /** Undefined: no check wanted at this position (answered undefined). */
  readonly events?: readonly (CheckedEvent | undefined)[];
  /** Read and check the stored events with from ≤ position < to. */
  readonly range?: { readonly from: number; readonly to: number };
}

/** The checks of a range, packed: event i has position positions[i] and hash hashes[32i, 32i+32). */
export interface CheckedRange {
  readonly positions: readonly unknown[];
  readonly hashes: Uint8Array;
  /** [i, problem] for the events that disagree with themselves. */
  readonly problems: readonly (readonly [number, string])[];
  /** The events whose fields form no leaf at all (no hash at i). */
  readonly hashless: readonly number[];
}

export interface LeafCheckReply {
  readonly id: number;
  readonly checks?: readonly (EventCheck | undefined)[];
  readonly range?: CheckedRange;
  readonly error?: string;
}

const HASH = 32;

async function checkRange(reader: EventRangeReader, from: number, to: number): Promise<CheckedRange> {
  const docs = await reader.eventRange(from, to);
  const hashes = new Uint8Array(docs.length * HASH);
  const problems: [number, string][] = [];
  const hashless: number[] = [];
  const positions = docs.map((doc, i) => {
    const check = checkEvent(doc.fields as unknown as CheckedEvent);
    if (check.leafHash) hashes.set(check.leafHash, i * HASH);
    else hashless.push(i);
    if (check.problem !== undefined) problems.push([i, check.problem]);
    return doc.position;
  });
  return { positions, hashes, problems, hashless };
}

function serve(port: MessagePort, data: LeafCheckWorkerData): void {
  const reader = data.source ? openEventRangeReader(data.source) : undefined;
  port.on('message', (request: LeafCheckRequest) => {
    const answer = async (): Promise<LeafCheckReply> => {
      if (request.range) {
        if (!reader) throw new Error('this worker was started without a database to read');
        const range = await checkRange(reader, request.range.from, request.range.to);
        return { id: request.id, range };
      }
      return { id: request.id, checks: (request.events ?? []).map((e) => (e === undefined ? undefined : checkEvent(e))) };
    };
    answer().then(
      (reply) => port.postMessage(reply, reply.range ? [reply.range.hashes.buffer as ArrayBuffer] : []),
      (err: unknown) => port.postMessage({ id: request.id, error: err instanceof Error ? err.message : String(err) } satisfies LeafCheckReply),
    );
  });
}

function isLeafCheckWorkerData(data: unknown): data is LeafCheckWorkerData {
  return typeof data === 'object' && data !== null && (data as { leafCheckWorker?: unknown }).leafCheckWorker === true;
}

if (!isMainThread && parentPort && isLeafCheckWorkerData(workerData)) serve(parentPort, workerData);
