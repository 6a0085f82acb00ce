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
  /** The wrapped data key record the key came from. */
  readonly record: string;
  readonly key: Uint8Array;
  /** The sealed leaf text and what it opened to, once read. */
  sealed?: string;
  opened?: StoredEvent;
}

export class SealedReadCache {
  private readonly entries = new Map<string, Entry>();

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
    this.entries.delete(id);
    this.entries.set(id, { record, key });
    if (this.entries.size > this.limit) this.entries.delete(this.entries.keys().next().value!);
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

  forget(ids: readonly string[]): void {
    for (const id of ids) this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }
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
