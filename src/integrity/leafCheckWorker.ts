/**
 * A worker thread of verify-db's leaf checks (leafCheckPool.ts): re-derives the leaf of each
 * event it is sent, or of each event it reads itself in a range of positions on its own
 * connection to the database (eventCheck.ts, pure), and answers the leaf hashes and problems
 * in order. Reading here, beside the check, keeps the rows off the main thread altogether:
 * it only receives 32 bytes per leaf, in one transferred buffer.
 */
import { hash } from 'node:crypto';
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { directLeafOfValues } from '../event/directLeaf';
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

/**
 * Each event of the range is first checked from its raw values (directLeafOfValues): the leaf
 * they give must be the stored leaf text, and its hash the stored leaf hash. That holds for
 * every event the ledger wrote and builds no record; an event it does not hold for is read
 * again as a record and checked exactly as before (checkEvent), so the verdict is the same.
 */
async function checkRange(reader: EventRangeReader, from: number, to: number): Promise<CheckedRange> {
  const rows = await reader.eventValuesRange(from, to);
  // Buffer.alloc, never the shared pool of allocUnsafe: this buffer is transferred.
  const hashes = Buffer.alloc(rows.length * HASH);
  const problems: [number, string][] = [];
  const hashless: number[] = [];
  const positions: unknown[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i]!;
    const position = v[0];
    positions[i] = position;
    const leaf = v[19];
    const storedHex = v[20];
    if (typeof leaf === 'string' && typeof storedHex === 'string' && directLeafOfValues(v) === leaf) {
      const hex = hash('sha256', `\u0000${leaf}`, 'hex');
      if (hex === storedHex) {
        hashes.write(hex, i * HASH, HASH, 'hex');
        continue;
      }
    }
    const check = await checkOne(reader, position);
    if (check.leafHash) hashes.set(check.leafHash, i * HASH);
    else hashless.push(i);
    if (check.problem !== undefined) problems.push([i, check.problem]);
  }
  return { positions, hashes: new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength), problems, hashless };
}

/** The reference check of the event stored at `position`, read as a record. */
async function checkOne(reader: EventRangeReader, position: unknown): Promise<EventCheck> {
  const [doc] = typeof position === 'number' && Number.isSafeInteger(position) ? await reader.eventRange(position, position + 1) : [];
  if (!doc) throw new Error(`the event at position ${JSON.stringify(position)} could not be read again`);
  return checkEvent(doc.fields as unknown as CheckedEvent);
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
