/**
 * Time, as the client uses it: waits between retries and the batching window. Injected so
 * that tests drive batching and backoff without sleeping, and see every delay asked for.
 */

export interface Scheduler {
  /** Resolves after `ms` milliseconds. */
  sleep(ms: number): Promise<void>;
  /** Calls `fn` after `ms` milliseconds unless the returned function is called first. */
  setTimer(fn: () => void, ms: number): () => void;
  /** Milliseconds since the epoch (for Retry-After dates). */
  now(): number;
}

export const realScheduler: Scheduler = {
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return () => clearTimeout(timer);
  },
  now: () => Date.now(),
};
