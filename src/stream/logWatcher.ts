/**
 * Tells waiting readers (live feeds, the webhook worker, the alert evaluator) when the signed
 * log has grown. Checkpoints this process signs arrive at once (Ledger.onCheckpoint); those
 * signed by another process sharing a MongoDB, or by a CLI command beside the server, are
 * seen by reading the log head every `pollMs`, and only while somebody waits. Nobody polls
 * the events themselves.
 */
export interface LogWatcherOptions {
  /** The signed tree size, from the log head. */
  readonly readSize: () => Promise<number>;
  /** Subscribes to this process's checkpoints; returns the unsubscribe. */
  readonly subscribe: (listener: (size: number) => void) => () => void;
  readonly pollMs?: number;
}

interface Waiter {
  readonly beyond: number;
  resolve(size: number | undefined): void;
}

export class LogWatcher {
  private size = 0;
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly unsubscribe: () => void;
  private stopped = false;

  constructor(private readonly options: LogWatcherOptions) {
    this.unsubscribe = options.subscribe((size) => this.observe(size));
  }

  /** The largest signed size seen. */
  get knownSize(): number {
    return this.size;
  }

  observe(size: number): void {
    if (size <= this.size) return;
    this.size = size;
    for (const w of this.waiters) {
      if (size > w.beyond) {
        this.waiters.delete(w);
        w.resolve(size);
      }
    }
    this.idleCheck();
  }

  /** The signed size once it exceeds `size`; undefined if `signal` aborts or the watcher stops first. */
  waitBeyond(size: number, signal?: AbortSignal): Promise<number | undefined> {
    if (this.size > size) return Promise.resolve(this.size);
    if (this.stopped || signal?.aborted) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        beyond: size,
        resolve: (s) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(s);
        },
      };
      const onAbort = (): void => {
        this.waiters.delete(waiter);
        this.idleCheck();
        resolve(undefined);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.startPolling();
      // The head may have moved before anyone listened.
      void this.poll();
    });
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters.clear();
  }

  private startPolling(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref();
  }

  private idleCheck(): void {
    if (this.waiters.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      this.observe(await this.options.readSize());
    } catch {
      // The database is unreachable: the next poll tries again.
    } finally {
      this.polling = false;
    }
  }
}
