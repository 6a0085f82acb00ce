/**
 * Aggregation of repeated refusals, so that a caller cannot grow the log at the rate it can
 * send requests (5,000 aliased refusals in one request once wrote 5,000 leaves). Pure: the
 * clock is injected and nothing here does I/O; `DenialRecorder` is the shell around it.
 *
 * A denial's key names who was refused (an API key, or an actor at a client address), for
 * which operation, with which code. Per key, windows of `windowMs`:
 *   - the first denial of a window is to be recorded at once, before the caller is answered;
 *   - later ones in the same window are only counted;
 *   - when the window closes, a count above zero becomes one summary event (the first
 *     denial's event with `metadata.count`, `aggregated: true` and the window's bounds).
 * Keys of callers without a valid API key (anyone, from any number of addresses) are capped:
 * at most `maxKeysPerWindow` of them open a window per global window; denials of further ones
 * are counted into one overflow summary (actor anonymous, `metadata.overflow: true`). API keys
 * are not capped: there are only as many as admins made, each is rate-limited and accountable.
 *
 * The bound this gives: at most 2 events per key per window; from callers without a key at
 * most 2 × maxKeysPerWindow + 1 denial events per window in all, whatever the request rate.
 */
import type { JsonObject } from '../event/eventRecord';
import { ANONYMOUS, type SelfEvent } from './selfEvent';

export interface DenialAggregatorOptions {
  readonly windowMs: number;
  readonly maxKeysPerWindow: number;
  readonly now?: () => number;
}

/** `record`: write this event now, then report with `recorded`. `counted`: nothing to write now. */
export type DenialVerdict = 'record' | 'counted';

interface Window {
  readonly openedAt: number;
  readonly first: SelfEvent;
  /** Whether the first event is in the log: a failed write is retried by the next denial. */
  state: 'writing' | 'recorded' | 'failed';
  counted: number;
}

interface Overflow {
  readonly openedAt: number;
  count: number;
  readonly operations: Map<string, number>;
}

export class DenialAggregator {
  private readonly windows = new Map<string, Window>();
  private readonly closed: SelfEvent[] = [];
  private overflow: Overflow | undefined;
  private globalWindowStart = -Infinity;
  private keysThisWindow = 0;
  private readonly now: () => number;

  constructor(private readonly options: DenialAggregatorOptions) {
    if (!(options.windowMs > 0) || !(options.maxKeysPerWindow >= 1)) throw new RangeError('windowMs must be > 0 and maxKeysPerWindow >= 1');
    this.now = options.now ?? Date.now;
  }

  /** `capped`: the caller has no valid API key, so its key counts against maxKeysPerWindow. */
  admit(key: string, event: SelfEvent, capped = true): DenialVerdict {
    const now = this.now();
    this.closeExpired(now);
    const open = this.windows.get(key);
    if (open) {
      if (open.state === 'failed') {
        open.state = 'writing';
        return 'record';
      }
      open.counted += 1;
      return 'counted';
    }
    if (now - this.globalWindowStart >= this.options.windowMs) {
      this.globalWindowStart = now;
      this.keysThisWindow = 0;
    }
    if (capped && this.keysThisWindow >= this.options.maxKeysPerWindow) {
      this.overflow ??= { openedAt: now, count: 0, operations: new Map() };
      this.overflow.count += 1;
      const operation = typeof event.metadata?.operation === 'string' ? event.metadata.operation : 'unknown';
      this.overflow.operations.set(operation, (this.overflow.operations.get(operation) ?? 0) + 1);
      return 'counted';
    }
    if (capped) this.keysThisWindow += 1;
    this.windows.set(key, { openedAt: now, first: event, state: 'writing', counted: 0 });
    return 'record';
  }

  /** Reports whether the event `admit` asked to record is in the log. */
  recorded(key: string, ok: boolean): void {
    const open = this.windows.get(key);
    if (open) open.state = ok ? 'recorded' : 'failed';
  }

  /** Summaries of the windows that have closed, to write now. */
  due(): SelfEvent[] {
    this.closeExpired(this.now());
    return this.closed.splice(0);
  }

  /** Every pending summary, closing all windows (at shutdown). */
  drain(): SelfEvent[] {
    this.closeExpired(Infinity);
    return this.closed.splice(0);
  }

  /** Keys with an open window (bounded by maxKeysPerWindow). */
  get openWindows(): number {
    return this.windows.size;
  }

  private closeExpired(now: number): void {
    const until = Math.min(now, this.now());
    for (const [key, w] of this.windows) {
      if (now - w.openedAt < this.options.windowMs) continue;
      this.windows.delete(key);
      // A first event that never made it into the log is owed as well.
      const count = w.counted + (w.state === 'recorded' ? 0 : 1);
      if (count > 0) this.closed.push(summary(w.first, count, w.openedAt, until));
    }
    const o = this.overflow;
    if (o && now - o.openedAt >= this.options.windowMs) {
      this.overflow = undefined;
      this.closed.push(overflowSummary(o, until));
    }
  }
}

function windowBounds(from: number, to: number): JsonObject {
  return { from: new Date(from).toISOString(), to: new Date(Math.max(from, to)).toISOString() };
}

function summary(first: SelfEvent, count: number, from: number, to: number): SelfEvent {
  return { ...first, metadata: { ...(first.metadata ?? {}), count, aggregated: true, window: windowBounds(from, to) } };
}

function overflowSummary(o: Overflow, to: number): SelfEvent {
  return {
    action: 'ledger.access.denied',
    actor: ANONYMOUS,
    outcome: 'DENIED',
    reason: 'refusals beyond the per-window limit of distinct callers, counted together',
    metadata: {
      operation: '*',
      count: o.count,
      overflow: true,
      aggregated: true,
      // Operation names come from our resolvers, a small fixed set.
      operations: Object.fromEntries(o.operations),
      window: windowBounds(o.openedAt, to),
    },
  };
}
