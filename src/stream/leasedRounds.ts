/**
 * The loop of a stream worker that only one server of a database may run at a time (the
 * webhook delivery worker, the alert evaluator): while it holds its lease, a round of work;
 * between rounds, a sleep until the log grows past where the round caught up, a time the round
 * asked for (a backoff's end), a kick (its configuration changed), a stop, or the lease's
 * renewal, a third of its time to live.
 */
import type { LogWatcher } from './logWatcher';
import type { StreamLease } from './streamLease';

/** When to run the next round. */
export interface NextRound {
  /** At once, without sleeping (more work is waiting). */
  readonly again?: boolean;
  /** Caught up to this leaf: wake when the log grows past it. */
  readonly caughtUpTo?: number;
  /** Wake by this time (ms since epoch) at the latest. */
  readonly wakeAt?: number;
}

export interface LeasedRoundsDeps {
  readonly lease: StreamLease;
  readonly watcher: LogWatcher;
  /** One round of work; called only while the lease is held. */
  readonly round: () => Promise<NextRound>;
  /** A round threw: say so (it is retried), and when to retry. */
  readonly failed: (err: unknown) => NextRound;
  readonly now?: () => number;
}

export class LeasedRounds {
  private isStopped = false;
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private kicked = false;
  private readonly now: () => number;

  constructor(private readonly deps: LeasedRoundsDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Whether stop() was called: a round checks it between steps, to end early. */
  get stopped(): boolean {
    return this.isStopped;
  }

  start(): void {
    this.running ??= this.run();
  }

  /** Something the rounds depend on changed: run one now rather than after the sleep. */
  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Ends the loop after the round under way, and releases the lease. */
  async stop(): Promise<void> {
    this.isStopped = true;
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const { lease } = this.deps;
    let lastFailed = false;
    while (!this.isStopped) {
      let next: NextRound = {};
      try {
        if (await lease.hold()) {
          this.kicked = false;
          next = await this.deps.round();
        }
        lastFailed = false;
      } catch (err) {
        lastFailed = true;
        next = this.deps.failed(err);
      }
      if (this.isStopped) break;
      if (next.again !== true) await this.idle(next);
    }
    // After a failed round the database may be gone: the lease then expires by itself rather
    // than shutdown waiting on a release nobody can answer.
    if (!lastFailed) await lease.release().catch(() => undefined);
  }

  private async idle(next: NextRound): Promise<void> {
    if (this.kicked) return;
    const renewIn = Math.floor(this.deps.lease.ttlMs / 3);
    const ms = next.wakeAt === undefined ? renewIn : Math.max(0, Math.min(renewIn, next.wakeAt - this.now()));
    const abort = new AbortController();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = resolve;
      if (next.caughtUpTo !== undefined) void this.deps.watcher.waitBeyond(next.caughtUpTo, abort.signal).then((size) => size !== undefined && resolve());
      abort.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
    abort.abort();
    this.wake = undefined;
  }
}
