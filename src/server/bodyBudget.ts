/**
 * How many request-body bytes the server reads and works on at once. A batch of events takes
 * many times its size in memory while it is parsed, coerced, built and handed to the append
 * worker (measured: one 13.6 MB batch of 10,000 events took the server from ~200 MB to ~365 MB;
 * four at once to 1.1 GB). Without a bound, a few keys sending large batches together could push
 * the process past its heap and stop the ledger for everyone; the per-key rate limit counts
 * requests, not bytes, so it cannot help.
 *
 * A large request reserves its declared size (Content-Length, capped at its body limit; the
 * limit itself when it streams without one) before its body is read. Small bodies (at most
 * `smallBytes`, the size any caller may send) pass without a reservation: their memory is
 * bounded by the rate limits, and they must not queue behind large uploads, or two keys
 * trickling large bodies would hold up every other caller's reads. When the budget is spent it waits
 * in arrival order (first come, first served, so a large request is not starved by small ones)
 * and after `maxWaitMs` is refused with 503 UNAVAILABLE and Retry-After, which the client SDK
 * retries. A request alone is always admitted, whatever its size: the body limit bounds it.
 */
import type { Request, RequestHandler, Response } from 'express';
import { HttpError } from './jsonErrors';

export interface BodyBudgetOptions {
  /** Bytes of request bodies in flight at once. */
  readonly budgetBytes: number;
  /** How long a request may wait for room before it is refused. */
  readonly maxWaitMs: number;
  /** Bodies up to this size pass without a reservation. */
  readonly smallBytes: number;
}

/** Gives back a reservation; safe to call more than once. */
export type Release = () => void;

interface Waiter {
  readonly bytes: number;
  readonly grant: (release: Release) => void;
  readonly refuse: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export class BodyBudgetExhaustedError extends HttpError {
  constructor(budgetBytes: number, waitedMs: number) {
    super(
      503,
      'UNAVAILABLE',
      `the server is busy with other large requests (${budgetBytes} bytes of request bodies in flight); waited ${waitedMs} ms: try again shortly`,
      { 'Retry-After': '1' },
    );
  }
}

const NOTHING_RESERVED: Release = () => undefined;

export class BodyBudget {
  private inFlight = 0;
  private readonly waiting: Waiter[] = [];

  constructor(private readonly options: BodyBudgetOptions) {}

  /** Bytes reserved by requests now being read or worked on. */
  get bytesInFlight(): number {
    return this.inFlight;
  }

  /** Requests waiting for room. */
  get waitingRequests(): number {
    return this.waiting.length;
  }

  /**
   * Reserves `bytes`, at once or when room frees up; `cancelled` (the client went away)
   * withdraws a waiting request without a grant.
   */
  reserve(bytes: number, cancelled?: (withdraw: () => void) => void): Promise<Release> {
    if (bytes <= this.options.smallBytes) return Promise.resolve(NOTHING_RESERVED);
    if (this.waiting.length === 0 && this.fits(bytes)) return Promise.resolve(this.take(bytes));
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { bytes, grant: resolve, refuse: reject, timer: undefined };
      waiter.timer = setTimeout(() => {
        this.remove(waiter);
        reject(new BodyBudgetExhaustedError(this.options.budgetBytes, this.options.maxWaitMs));
      }, this.options.maxWaitMs);
      this.waiting.push(waiter);
      cancelled?.(() => {
        if (this.remove(waiter)) reject(new Error('the client closed the request while it waited'));
      });
    });
  }

  private fits(bytes: number): boolean {
    return this.inFlight === 0 || this.inFlight + bytes <= this.options.budgetBytes;
  }

  private take(bytes: number): Release {
    this.inFlight += bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= bytes;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.bytes)) {
      const next = this.waiting.shift()!;
      clearTimeout(next.timer);
      next.grant(this.take(next.bytes));
    }
  }

  private remove(waiter: Waiter): boolean {
    const at = this.waiting.indexOf(waiter);
    if (at < 0) return false;
    this.waiting.splice(at, 1);
    clearTimeout(waiter.timer);
    // The head may have been what held smaller requests behind it.
    if (at === 0) this.admitWaiting();
    return true;
  }
}

/** The size a request reserves: what it declares, at most its limit; the limit when undeclared. */
export function declaredBodyBytes(req: Request, limit: number): number {
  const header = req.headers['content-length'];
  if (header !== undefined && /^\d+$/.test(header)) return Math.min(Number(header), limit);
  // No length and no chunked body: nothing to read.
  if (req.headers['transfer-encoding'] === undefined) return 0;
  return limit;
}

/** Express middleware: holds a request's body unread until the budget has room for it. */
export function bodyBudgetMiddleware(budget: BodyBudget, limitOf: (req: Request) => number): RequestHandler {
  return (req: Request, res: Response, next) => {
    const bytes = declaredBodyBytes(req, limitOf(req));
    if (bytes === 0) return next();
    budget
      .reserve(bytes, (withdraw) => res.once('close', withdraw))
      .then(
        (release) => {
          // 'close' follows both a finished response and a dropped connection: the bytes are
          // given back once the request's work is answered or abandoned, not when it is read.
          if (res.closed) release();
          else res.once('close', release);
          next();
        },
        (err: unknown) => {
          if (err instanceof BodyBudgetExhaustedError) return next(err);
          // The client is gone: nobody to answer.
        },
      );
  };
}
