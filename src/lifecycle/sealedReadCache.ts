/**
 * Sealed events read lately in pages (SealedEventRepository.open decides what fills it), kept
 * opened: their data keys and decrypted content. Reading the newest events again (the usual pattern: newest-first pages, a
 * dashboard refreshing) then costs no key read, no key derivation or unwrap and no AES-GCM
 * open per event, which would otherwise be most of a page's cost.
 *
 * Safe against shredding because a key can only go away through the store, which counts every
 * replacement or deletion of data keys (LifecycleSnapshot.changeCount, kept by the database, so
 * it sees other processes too): each read takes the count and passes it to `confirm`, and a
 * count other than the one the entries were confirmed at empties the cache. A key destroyed
 * here or by another server on the same database therefore reads as destroyed whatever was
 * cached, as does a key re-wrapped by a rotation. Deleting keys through `evictingStore` also
 * drops their entries at once, so shredded content does not linger in this process's memory.
 * And since a read that waited on the store may come back after such a change, what it
 * remembers is taken only if the cache is still the one it started from (`generation`).
 * Against tampering: an opened event is used only while its row holds the very sealed leaf
 * it was opened from, so an edited row is opened (and refused) afresh. Bounded: the oldest
 * entry goes first; the content lives in memory only, as it does while any request is served.
 */
import type { LifecycleKind, LifecycleRecord, LifecycleStore, StoredEvent } from '../storage/port';

export const DEFAULT_SEALED_READ_CACHE_ENTRIES = 8_192;

interface Entry {
  readonly id: string;
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
  /** The data-key change count the entries are good for; none until the first read confirms one. */
  private confirmedAt: number | undefined;
  private changes = 0;

  constructor(private readonly limit = DEFAULT_SEALED_READ_CACHE_ENTRIES) {}

  /**
   * Grows whenever entries are dropped for a reason other than age (a forgotten key, a new
   * change count). A caller that waited on the store remembers what it read only if this is
   * still what it was before the wait: otherwise the key it read may have been destroyed since.
   */
  get generation(): number {
    return this.changes;
  }

  /**
   * Takes the store's data-key change count, read by the caller after its cache lookups began:
   * the same count as before keeps every entry; a new one (a key replaced or destroyed
   * anywhere) empties the cache. Answers whether the entries were kept.
   */
  confirm(changeCount: number): boolean {
    if (this.confirmedAt === changeCount) return true;
    this.clear();
    this.confirmedAt = changeCount;
    return false;
  }

  /** The data key of event `id`, if cached. */
  key(id: string): Uint8Array | undefined {
    return this.entries.get(id)?.key;
  }

  /** The event as opened from this very sealed leaf, if cached. */
  opened(id: string, sealed: string): StoredEvent | undefined {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.sealed === sealed ? entry.opened : undefined;
  }

  /** Keeps the key of event `id`, unless the cache changed since `generation` (see there). */
  rememberKey(id: string, key: Uint8Array, generation: number): void {
    if (this.limit <= 0 || generation !== this.changes) return;
    this.put({ id, key });
  }

  /** Keeps an opened event with its key, unless the cache changed since `generation`. */
  rememberOpened(id: string, key: Uint8Array, sealed: string, opened: StoredEvent, generation: number): void {
    if (this.limit <= 0 || generation !== this.changes) return;
    const entry = this.entries.get(id);
    if (entry !== undefined && entry.key === key) {
      entry.sealed = sealed;
      entry.opened = opened;
      return;
    }
    this.put({ id, key, sealed, opened });
  }

  /** Drops the events' entries, key and content, at once (their list slots, emptied, go later). */
  forget(ids: readonly string[]): void {
    this.changes++;
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

  private put(entry: Entry): void {
    const previous = this.entries.get(entry.id);
    if (previous) release(previous);
    this.entries.set(entry.id, entry);
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

  private clear(): void {
    this.changes++;
    for (const entry of this.entries.values()) release(entry);
    this.entries.clear();
    this.order = [];
    this.oldest = 0;
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
    snapshot: (kind: LifecycleKind, ids: readonly string[]) => store.snapshot(kind, ids),
    delete(kind: LifecycleKind, ids: readonly string[]) {
      if (kind === 'dataKey') cache.forget(ids);
      return store.delete(kind, ids);
    },
  };
}
