/**
 * Reads the signed log in leaf order from a position, in pages, and (following) waits for it
 * to grow: the one loop behind the pull feed, webhook delivery and the alert evaluator.
 */
import type { EventPageQuery, EventQuery, StoredEvent } from '../storage/port';
import type { LogWatcher } from './logWatcher';

export interface LogSource {
  /** The signed tree size now. */
  signedSize(): Promise<number>;
  page(query: EventPageQuery): Promise<StoredEvent[]>;
}

export interface ScannedPage {
  /** The matching events, ascending by leaf index. */
  readonly events: StoredEvent[];
  /** Every leaf below this was considered: the cursor after this page. */
  readonly scannedTo: number;
}

/**
 * One page of events matching `query` at leaves ≥ `from` below the signed size, and how far
 * it scanned (the signed size when the page is not full). Empty with `scannedTo = from` when
 * the log has nothing past `from`.
 */
export async function scanPage(source: LogSource, query: EventQuery, from: number, limit: number, signedSize?: number): Promise<ScannedPage> {
  const size = signedSize ?? (await source.signedSize());
  if (from >= size) return { events: [], scannedTo: from };
  const events = await source.page({ ...query, treeSize: size, limit, ...(from > 0 && { afterLeafIndex: from - 1 }) });
  const scannedTo = events.length < limit ? size : events.at(-1)!.leafIndex + 1;
  return { events, scannedTo };
}

export interface ReadLogOptions {
  readonly query: EventQuery;
  /** The first leaf index to consider. */
  readonly from: number;
  readonly pageSize: number;
  /** Keep waiting for new leaves after the end (needs `watcher`). */
  readonly follow: boolean;
  readonly watcher?: LogWatcher;
  readonly signal?: AbortSignal;
}

/** Pages of matching events in leaf order; ends at the signed end, or (following) when aborted. */
export async function* readLog(source: LogSource, options: ReadLogOptions): AsyncGenerator<StoredEvent[]> {
  let next = options.from;
  for (;;) {
    if (options.signal?.aborted) return;
    const size = await source.signedSize();
    options.watcher?.observe(size);
    while (next < size) {
      const page = await scanPage(source, options.query, next, options.pageSize, size);
      next = page.scannedTo;
      if (page.events.length > 0) yield page.events;
      if (options.signal?.aborted) return;
    }
    if (!options.follow || !options.watcher) return;
    if ((await options.watcher.waitBeyond(next, options.signal)) === undefined) return;
  }
}
