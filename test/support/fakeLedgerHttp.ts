/**
 * For the client's unit tests: a scheduler the test drives (timers fire when told, sleeps
 * are recorded and return at once) and an injected `fetch` answering as a ledger server would,
 * with idempotency, so a test sees every request, every delay, and what the "log" holds.
 */
import type { FetchLike, Receipt, Scheduler } from '../../src/client';

export class ManualScheduler implements Scheduler {
  readonly sleeps: number[] = [];
  private timers: { fn: () => void; ms: number; live: boolean }[] = [];
  nowMs = Date.parse('2026-01-01T00:00:00Z');

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    return Promise.resolve();
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer = { fn, ms, live: true };
    this.timers.push(timer);
    return () => {
      timer.live = false;
    };
  }

  now(): number {
    return this.nowMs;
  }

  /** Live timers set for exactly `ms`. */
  pending(ms: number): number {
    return this.timers.filter((t) => t.live && t.ms === ms).length;
  }

  /** Fires the live timers set for exactly `ms` (the batch window, or a request timeout). */
  fire(ms: number): void {
    const due = this.timers.filter((t) => t.live && t.ms === ms);
    this.timers = this.timers.filter((t) => !due.includes(t));
    for (const t of due) {
      t.live = false;
      t.fn();
    }
  }
}

export interface SentRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Record<string, string>;
  readonly body: { query: string; variables: Record<string, unknown> } | undefined;
  readonly signal: AbortSignal | undefined;
}

export type Answer = (req: SentRequest) => Response | Promise<Response>;

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function graphqlError(code: string, message: string, status = 200, extensions: Record<string, unknown> = {}): Response {
  return json({ errors: [{ message, extensions: { code, ...extensions } }], data: null }, status);
}

/** A fetch that answers each request with the next scripted answer, or `fallback` once they are used up. */
export function scriptedFetch(fallback: Answer, ...script: Answer[]): FetchLike & { requests: SentRequest[] } {
  const requests: SentRequest[] = [];
  const fn = async (url: string, init: RequestInit): Promise<Response> => {
    const req: SentRequest = {
      url,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? (JSON.parse(init.body) as SentRequest['body']) : undefined,
      signal: init.signal ?? undefined,
    };
    requests.push(req);
    return (script.shift() ?? fallback)(req);
  };
  return Object.assign(fn, { requests });
}

type Input = Record<string, unknown> & { idempotencyKey?: string };

/** The ledger's recordEvents as the server answers it: all or nothing, idempotent per key, conflicts refused. */
export class FakeLedger {
  readonly leaves: Input[] = [];
  private readonly byKey = new Map<string, { content: string; receipt: Receipt }>();

  readonly answer: Answer = (req) => {
    const inputs = req.body?.variables.inputs as Input[] | undefined;
    if (!inputs) return graphqlError('BAD_USER_INPUT', 'not a recordEvents call');
    for (const input of inputs) {
      const bad = input.action === 'bad';
      if (bad) return graphqlError('BAD_USER_INPUT', 'action is not valid', 200, { field: 'inputs[?].action' });
      const earlier = input.idempotencyKey !== undefined ? this.byKey.get(input.idempotencyKey) : undefined;
      if (earlier && earlier.content !== contentOf(input)) {
        return graphqlError('IDEMPOTENCY_CONFLICT', 'used for different content', 409, { idempotencyKey: input.idempotencyKey, leafIndex: earlier.receipt.leafIndex });
      }
    }
    const receipts = inputs.map((input) => {
      const earlier = input.idempotencyKey !== undefined ? this.byKey.get(input.idempotencyKey) : undefined;
      if (earlier) return earlier.receipt;
      const leafIndex = this.leaves.length;
      this.leaves.push(input);
      const receipt = fakeReceipt(leafIndex);
      if (input.idempotencyKey !== undefined) this.byKey.set(input.idempotencyKey, { content: contentOf(input), receipt });
      return receipt;
    });
    return json({ data: { recordEvents: receipts } });
  };
}

function contentOf({ idempotencyKey: _key, ...content }: Input): string {
  return JSON.stringify(content);
}

export function fakeReceipt(leafIndex: number): Receipt {
  const hash = leafIndex.toString(16).padStart(64, '0');
  return {
    eventId: `event-${leafIndex}`,
    leafIndex,
    leafHash: hash,
    leaf: `{"id":"event-${leafIndex}"}`,
    inclusionProof: { leafIndex, treeSize: leafIndex + 1, leafHash: hash, hashes: [], checkpoint: { origin: 'fake', treeSize: leafIndex + 1, rootHash: hash, note: 'fake' } },
  };
}
