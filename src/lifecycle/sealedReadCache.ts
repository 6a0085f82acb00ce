/**
 * Recently written or read sealed events, kept opened: their unwrapped data keys and, once
 * read, their decrypted content. Reading the newest events again (the usual pattern:
 * newest-first pages, a dashboard refreshing) then costs neither an unwrap under the KEK nor an
 * AES-GCM open per event, which would otherwise be most of a page's cost.
 *
 * Safe against shredding and tampering because the store is always asked first: an entry is
 * used only while the store still returns the same wrapped-key record for the event, and the
 * event row still holds the same sealed leaf. So an event whose key was destroyed (by this
 * process or by another server on the same database) reads as redacted whatever is cached, a
 * re-wrapped key (rotation) is unwrapped afresh, and an edited row is opened (and refused)
 * afresh. Deleting keys through `evictingStore` also drops their entries at once, so shredded
 * content does not linger in this process's memory. Bounded: the oldest entry goes first; the
 * content lives in memory only, as it does while any request is served.
 */
import type { LifecycleKind, LifecycleRecord, LifecycleStore, StoredEvent } from '../storage/port';

export const DEFAULT_SEALED_READ_CACHE_ENTRIES = 8_192;

interface Entry {
  readonly id: string;
  /** The wrapped data key record the key came from. */
  readonly record: string;
  /** Emptied when the entry leaves the cache, so the key does not wait in `order` for its turn. */
  key: Uint8Array;
  /** The sealed leaf text and what it opened to, once read. */
  sealed?: string;
  opened?: StoredEvent;
}

export class SealedReadCache {
  private readonly entries = new Map<string, Entry>();
  /**
   * Entries oldest first, as remembered; one replaced or forgotten since stays here until it
   * comes up and is skipped. Kept apart from the map because taking the map's first key is
   * slow once entries come and go: the map keeps deleted slots until it is rebuilt, and every
   * look at its first key walks past them (2.4 µs an event at 8,192 entries, as much as
   * sealing's blind index).
   */
  private order: Entry[] = [];
  private oldest = 0;

  constructor(private readonly limit = DEFAULT_SEALED_READ_CACHE_ENTRIES) {}

  /** The data key unwrapped from `record` for event `id`, if cached from that very record. */
  key(id: string, record: string): Uint8Array | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.record === record ? entry.key : undefined;
  }

  /** The event as opened from this sealed leaf under this key record, if cached. */
  opened(id: string, record: string, sealed: string): StoredEvent | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.record === record && entry.sealed === sealed ? entry.opened : undefined;
  }

  rememberKey(id: string, record: string, key: Uint8Array): void {
    if (this.limit <= 0) return;
    const previous = this.entries.get(id);
    if (previous) release(previous);
    const entry: Entry = { id, record, key };
    this.entries.set(id, entry);
    this.order.push(entry);
    while (this.entries.size > this.limit) {
      const old = this.order[this.oldest++]!;
      if (this.entries.get(old.id) === old) {
        this.entries.delete(old.id);
        release(old);
      }
    }
    // Drop the skipped and stale slots now and then, so the list stays within twice the limit.
    if (this.order.length - this.oldest > 2 * this.limit || this.oldest > this.limit) {
      this.order = this.order.slice(this.oldest).filter((e) => this.entries.get(e.id) === e);
      this.oldest = 0;
    }
  }

  rememberOpened(id: string, record: string, key: Uint8Array, sealed: string, opened: StoredEvent): void {
    if (this.limit <= 0) return;
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.record === record) {
      entry.sealed = sealed;
      entry.opened = opened;
      return;
    }
    this.rememberKey(id, record, key);
    const fresh = this.entries.get(id);
    if (fresh) Object.assign(fresh, { sealed, opened });
  }

  /** Drops the events' entries, key and content, at once (their list slots, emptied, go later). */
  forget(ids: readonly string[]): void {
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (entry === undefined) continue;
      this.entries.delete(id);
      release(entry);
    }
  }

  get size(): number {
    return this.entries.size;
  }
}

const NO_KEY = new Uint8Array(0);

/** Lets go of what an entry no longer in the cache holds: its key and the opened content. */
function release(entry: Entry): void {
  entry.key = NO_KEY;
  entry.sealed = undefined;
  entry.opened = undefined;
}

/** The store, with deletions of data keys also dropping their events from the cache. */
export function evictingStore(store: LifecycleStore, cache: SealedReadCache): LifecycleStore {
  return {
    put: (kind: LifecycleKind, records: readonly LifecycleRecord[]) => store.put(kind, records),
    insertNew: (kind: LifecycleKind, records: readonly LifecycleRecord[]) => store.insertNew(kind, records),
    get: (kind: LifecycleKind, ids: readonly string[]) => store.get(kind, ids),
    list: (kind: LifecycleKind, options: { readonly after?: string; readonly limit: number }) => store.list(kind, options),
    delete(kind: LifecycleKind, ids: readonly string[]) {
      if (kind === 'dataKey') cache.forget(ids);
      return store.delete(kind, ids);
    },
  };
}
