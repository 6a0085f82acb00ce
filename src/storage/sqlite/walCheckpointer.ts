/**
 * Asks the background worker (backgroundWorker.ts) to copy the write-ahead log into the
 * database file once enough has been appended since it last did, one checkpoint at a time.
 * Best effort: a checkpoint that fails costs nothing but speed, since the append worker's
 * own automatic checkpoint (schema.ts: wal_autocheckpoint) still bounds the log.
 */
import type { BackgroundWorker } from './backgroundClient';
import type { WalCheckpoint } from './backgroundWorker';

/**
 * Events appended between background checkpoints. A batch writes about three log frames
 * (4 KiB pages) per event, so this is some 1,500 frames: the writer's automatic checkpoint,
 * every 10,000 frames, then finds at most this much left to copy.
 */
export const CHECKPOINT_EVERY_EVENTS = 512;

export class WalCheckpointer {
  private sinceLast = 0;
  private running: Promise<void> | undefined;
  private completed = 0;
  private last: WalCheckpoint | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly background: BackgroundWorker,
    private readonly everyEvents = CHECKPOINT_EVERY_EVENTS,
  ) {}

  /** `events` were committed: checkpoint in the background once enough have been. */
  appended(events: number): void {
    this.sinceLast += events;
    if (this.sinceLast >= this.everyEvents && !this.running && !this.background.closed) this.run();
  }

  /** Checkpoints run so far, what the last one did, and the last failure (for tests and diagnosis). */
  get stats(): { readonly completed: number; readonly last: WalCheckpoint | undefined; readonly lastFailure: Error | undefined } {
    return { completed: this.completed, last: this.last, lastFailure: this.failure };
  }

  /** Settles once no checkpoint is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private run(): void {
    this.sinceLast = 0;
    this.running = this.background
      .checkpoint()
      .then(
        (checkpoint) => {
          this.completed++;
          this.last = checkpoint;
          this.failure = undefined;
        },
        (err: unknown) => {
          this.failure = err instanceof Error ? err : new Error(String(err));
        },
      )
      .finally(() => {
        this.running = undefined;
        // What was appended meanwhile is copied by the next one.
        if (this.sinceLast >= this.everyEvents && !this.background.closed) this.run();
      });
  }
}
