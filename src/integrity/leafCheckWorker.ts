/**
 * A worker thread of verify-db's leaf checks (leafCheckPool.ts): re-derives the leaf of each
 * event it is sent (eventCheck.ts, pure) and answers the leaf hashes and problems, in order.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { type CheckedEvent, checkEvent, type EventCheck } from './eventCheck';

export interface LeafCheckWorkerData {
  readonly leafCheckWorker: true;
}

export interface LeafCheckRequest {
  readonly id: number;
  /** Undefined: no check wanted at this position (answered undefined). */
  readonly events: readonly (CheckedEvent | undefined)[];
}

export interface LeafCheckReply {
  readonly id: number;
  readonly checks?: readonly (EventCheck | undefined)[];
  readonly error?: string;
}

function serve(port: MessagePort): void {
  port.on('message', (request: LeafCheckRequest) => {
    let reply: LeafCheckReply;
    try {
      reply = { id: request.id, checks: request.events.map((e) => (e === undefined ? undefined : checkEvent(e))) };
    } catch (err) {
      reply = { id: request.id, error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply);
  });
}

function isLeafCheckWorkerData(data: unknown): data is LeafCheckWorkerData {
  return typeof data === 'object' && data !== null && (data as { leafCheckWorker?: unknown }).leafCheckWorker === true;
}

if (!isMainThread && parentPort && isLeafCheckWorkerData(workerData)) serve(parentPort);
