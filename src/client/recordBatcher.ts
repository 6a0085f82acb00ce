/**
 * Batching of single records: `record` calls made close together travel as one
 * `recordEvents` request, sent when `maxEvents` are waiting or `maxDelayMs` after the first
 * one arrived, whichever comes first; each caller gets its own receipt.
 *
 * `recordEvents` is all or nothing, so one caller's bad event would fail everyone's batch: a
 * batch refused for what it holds is sent again one event per request (safe: every event
 * carries its idempotency key, and a refused batch wrote nothing), so each caller gets its
 * own answer, as when calling alone.
 */
import { LedgerApiError } from './errors';
import type { EventInput } from './event';
import type { Receipt } from './receipt';
import type { Scheduler } from './scheduler';

export interface BatchOptions {
  /** Send once this many events wait. */
  readonly maxEvents: number;
  /** Send at the latest this long after the first event of a batch arrived. */
  readonly maxDelayMs: number;
}

export const DEFAULT_BATCH: BatchOptions = { maxEvents: 500, maxDelayMs: 10 };

/** Refusals about the caller or the server's state, not about the events: every event alone would meet them too. */
const NOT_ABOUT_THE_EVENTS: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'RATE_LIMITED', 'UNAVAILABLE']);

interface Waiting {
  readonly input: EventInput;
  resolve(receipt: Receipt): void;
  reject(err: unknown): void;
}

export class RecordBatcher {
  private waiting: Waiting[] = [];
  private cancelTimer: (() => void) | undefined;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly options: BatchOptions,
    private readonly scheduler: Scheduler,
    private readonly send: (inputs: EventInput[]) => Promise<Receipt[]>,
  ) {
    if (!Number.isInteger(options.maxEvents) || options.maxEvents < 1) throw new RangeError('batch.maxEvents must be an integer >= 1');
    if (!(options.maxDelayMs >= 0)) throw new RangeError('batch.maxDelayMs must be >= 0');
  }

  /** Events waiting to be sent. */
  get pending(): number {
    return this.waiting.length;
  }

  add(input: EventInput): Promise<Receipt> {
    const answered = new Promise<Receipt>((resolve, reject) => this.waiting.push({ input, resolve, reject }));
    if (this.waiting.length >= this.options.maxEvents) void this.flush();
    else this.cancelTimer ??= this.scheduler.setTimer(() => void this.flush(), this.options.maxDelayMs);
    return answered;
  }

  /** Sends what is waiting now; resolves once every batch sent so far has been answered. */
  async flush(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    if (this.waiting.length > 0) {
      const sending = this.deliver(this.waiting.splice(0, this.waiting.length));
      this.inFlight.add(sending);
      void sending.finally(() => this.inFlight.delete(sending));
    }
    await Promise.all(this.inFlight);
  }

  private async deliver(batch: Waiting[]): Promise<void> {
    let receipts: Receipt[];
    try {
      receipts = await this.send(batch.map((w) => w.input));
    } catch (err) {
      if (batch.length > 1 && err instanceof LedgerApiError && !NOT_ABOUT_THE_EVENTS.has(err.code)) {
        await Promise.all(batch.map((w) => this.deliver([w])));
      } else {
        for (const w of batch) w.reject(err);
      }
      return;
    }
    batch.forEach((w, i) => w.resolve(receipts[i]!));
  }
}
