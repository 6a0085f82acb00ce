/**
 * Encryption at rest behind the storage port: an EventRepository that stores each event as
 * a clear skeleton plus its sealed leaf, and reads it back decrypted.
 *
 * Stored in clear (what indexing and proving need): leaf index, leaf hash, id, action,
 * groups, recordedAt, outcome, actor type. Stored as blind indexes (HMAC under the search
 * key: equality search through the existing indexes): actor id, target type and id. Sealed
 * (AES-256-GCM under the event's own data key): the leaf text, which holds every field,
 * including the salt, names, reason, source, metadata and submitter. The skeleton's `salt`
 * is all zeros (the real one is sealed: a clear salt next to a redacted event's skeleton
 * would let anyone confirm guessed content against its leaf hash).
 *
 * The sealed leaf text is `sealed1:<base64 blob>`. A skeleton MAC (HMAC-SHA-256 under the
 * search key over the skeleton, the leaf index and the leaf hash) lets verify-db detect an edit
 * to a redacted event's skeleton, which no leaf text covers any more. While the event can be
 * opened its leaf vouches for every skeleton field, so the MAC is taken when the event is
 * redacted, from the opened leaf, and kept in its redaction record (RedactionDoc.skeleton);
 * events stored before that carry it in the leaf text instead: `sealed1:<MAC hex>:<blob>`.
 */
import { createHmac } from 'node:crypto';
import { fieldsOfLeaf } from '../event/storedEvent';
import { LedgerError } from '../errors';
import type {
  AppendPart,
  CompanionRecords,
  EventCount,
  EventCountKey,
  EventPageQuery,
  EventQuery,
  EventRepository,
  FlatEvent,
  EventKey,
  LifecycleRecord,
  LifecycleSnapshot,
  LifecycleStore,
  Mutable,
  SealingKeys,
  StoredEvent,
} from '../storage/port';
import { flatEvent } from '../storage/flatEvent';
import { SealedReadCache } from './sealedReadCache';
import { blindedParties, SEALED_SALT, sealBatch, sealedSkeleton } from './sealBatch';

export { SEALED_SALT };
import { leafHash } from '../verify/rfc6962';
import { type DataKeyDeriver, isBlind, isSealedLeaf, KEY_BYTES, KeyError, newKey, openLeaf, RandomPool, SEALED_PREFIX, sealLeaf } from './envelope';
import type { Keyring } from './keyring';
import { type DataKeyDoc, isDerivedDataKey, leafKey, parseRedaction, type StoredDataKeyDoc } from './records';

const MAC_HEX = 64;

/**
 * A batch given to a writer thread in parts (partsOf): the events the writer seals itself
 * (a batch up to this size is sealed there whole, costing this thread nothing), then parts of
 * this many sealed here. Small enough that the writer starts soon, large enough that a part's
 * message costs little beside its events.
 */
const SEALED_BY_WRITER = 256;
const SEALED_PART = 256;

/** The skeleton fields a MAC covers, as found in a stored (or raw) event. */
export interface SkeletonFields {
  readonly leafIndex: unknown;
  readonly id: unknown;
  readonly action: unknown;
  readonly actor: unknown;
  readonly target?: unknown;
  readonly outcome: unknown;
  readonly groups: unknown;
  readonly recordedAt: unknown;
  readonly leafHash: unknown;
}

export function skeletonMac(searchKey: Uint8Array, s: SkeletonFields): string {
  const actor = s.actor as { id?: unknown; type?: unknown } | undefined;
  const target = s.target as { id?: unknown; type?: unknown } | undefined;
  const text = JSON.stringify([
    s.leafIndex,
    s.id,
    s.action,
    actor?.id ?? null,
    actor?.type ?? null,
    target?.type ?? null,
    target?.id ?? null,
    s.outcome,
    s.groups,
    s.recordedAt instanceof Date ? s.recordedAt.getTime() : null,
    s.leafHash instanceof Uint8Array ? Buffer.from(s.leafHash.buffer, s.leafHash.byteOffset, s.leafHash.byteLength).toString('hex') : null,
  ]);
  return createHmac('sha256', searchKey).update(`skeleton\0${text}`).digest('hex');
}

/**
 * The blob of a sealed leaf text and the skeleton MAC stored with it (leaf texts stored before
 * redaction records held the MAC), or undefined if it is not a sealed leaf. Base64 has no
 * colon, so a MAC is there exactly when one follows the prefix.
 */
export function splitSealed(text: string): { mac: string | undefined; blob: string } | undefined {
  if (!isSealedLeaf(text)) return undefined;
  const rest = text.slice(SEALED_PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon === -1) return { mac: undefined, blob: text };
  if (colon !== MAC_HEX) return undefined;
  return { mac: rest.slice(0, MAC_HEX), blob: SEALED_PREFIX + rest.slice(MAC_HEX + 1) };
}

/**
 * The skeleton MAC of an opened sealed event, from its leaf rather than its stored row: blind
 * indexes recomputed from the clear fields and the leaf hash from the leaf text, so that a row
 * edited while the event could still be opened does not get a MAC vouching for the edit.
 */
export function openedSkeletonMac(keyring: Keyring, e: StoredEvent): string {
  return skeletonMac(keyring.searchKey, {
    leafIndex: e.leafIndex,
    id: e.id,
    action: e.action,
    ...blindedParties(keyring.blinds, e),
    outcome: e.outcome,
    groups: e.groups,
    recordedAt: e.recordedAt,
    leafHash: leafHash(utf8.encode(e.leaf)),
  });
}

const utf8 = new TextEncoder();

export class SealedEventRepository implements EventRepository {
  /**
   * @param store where data keys live; deleting them should go through `evictingStore(store,
   *   cache)` so that the cache forgets them at once
   */
  constructor(
    private readonly inner: EventRepository,
    private readonly store: LifecycleStore,
    private readonly keyring: Keyring,
    readonly cache: SealedReadCache = new SealedReadCache(),
  ) {}

  get maxEventBytes(): number {
    return this.inner.maxEventBytes;
  }

  /** Data keys with (or before) the events: an event stored without its key would read as shredded. */
  async append(events: readonly StoredEvent[], companions?: CompanionRecords): Promise<void> {
    // The data keys are this layer's companions; nothing above it brings others.
    if (companions) throw new LedgerError('INTERNAL', `a sealed append takes no ${companions.kind} records from its caller`);
    const { sealingKeys, deriver } = this.keyring;
    // The read cache learns these keys on first read.
    if (sealingKeys && deriver && this.inner.appendParts) return this.inner.appendParts(this.partsOf(events, sealingKeys, deriver));
    const generation = this.cache.generation;
    const { skeletons, records, keyOf } = this.sealHere(events);
    await this.inner.append(skeletons, { kind: 'dataKey', records });
    // Only once stored: the newest events are the ones read most.
    for (let i = 0; i < records.length; i++) this.cache.rememberKey(records[i]!.id, keyOf(i), generation);
  }

  /**
   * A batch in parts for a writer thread: the first part sealed by the writer, which meanwhile
   * takes no time of this thread, and the rest sealed here, each part while the writer stores
   * the one before. The writer, not this thread, is then what a batch waits for: sealing
   * everything there made it store and seal one after the other, on one core.
   */
  private *partsOf(events: readonly StoredEvent[], sealing: SealingKeys, deriver: DataKeyDeriver): Generator<AppendPart> {
    yield { events: events.slice(0, SEALED_BY_WRITER), sealing };
    for (let at = SEALED_BY_WRITER; at < events.length; at += SEALED_PART) {
      const { skeletons, records } = sealBatch(events.slice(at, at + SEALED_PART), deriver, this.keyring.blinds);
      yield { events: skeletons, companions: { kind: 'dataKey', records } };
    }
  }

  /** Seals on this thread: with derived keys as sealBatch does, on keyrings from before with each key wrapped under the KEK. */
  private sealHere(events: readonly StoredEvent[]): { skeletons: StoredEvent[]; records: LifecycleRecord[]; keyOf: (i: number) => Uint8Array } {
    const { deriver, blinds, kek } = this.keyring;
    if (deriver) {
      const batch = sealBatch(events, deriver, blinds);
      return { ...batch, keyOf: (i) => batch.dataKeys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES) };
    }
    const random = RandomPool.forEvents(events.length);
    const deks = events.map(() => newKey(random));
    const records: LifecycleRecord[] = [];
    const skeletons = events.map((e, i) => {
      const parties = blindedParties(blinds, e);
      const doc: DataKeyDoc = { kekId: kek.id, wrapped: kek.wrap(deks[i]!, `dek:${e.id}`, random), leafIndex: e.leafIndex, actor: parties.actor.id };
      records.push({ id: e.id, value: JSON.stringify(doc) });
      return sealedSkeleton(e, parties, sealLeaf(deks[i]!, e.leafIndex, e.id, e.leaf, random));
    });
    return { skeletons, records, keyOf: (i) => deks[i]! };
  }

  async range(from: number, to: number): Promise<StoredEvent[]> {
    return this.open(await this.inner.range(from, to), 'use');
  }

  byLeafIndex(leafIndex: number): Promise<StoredEvent | undefined> {
    return this.pointRead({ leafIndex }, () => this.inner.byLeafIndex(leafIndex));
  }

  byId(id: string): Promise<StoredEvent | undefined> {
    return this.pointRead({ id }, () => this.inner.byId(id));
  }

  /** One event with its data key in one read where the store can (withCompanion), else in two. */
  private async pointRead(key: EventKey, plain: () => Promise<StoredEvent | undefined>): Promise<StoredEvent | undefined> {
    if (!this.inner.withCompanion) {
      const e = await plain();
      return e && (await this.open([e], 'use'))[0];
    }
    const generation = this.cache.generation;
    const found = await this.inner.withCompanion(key, 'dataKey');
    return found && (await this.open([found.event], 'use', { snapshot: found.companion, generation }))[0];
  }

  async page(query: EventPageQuery): Promise<StoredEvent[]> {
    const blinded = this.blindQuery(query);
    if (blinded === query || this.keyring.sealedFrom === 0) return this.open(await this.inner.page(blinded));
    // A log sealed from some leaf on: plaintext events below it are found by their clear values.
    const [sealed, clear] = await Promise.all([this.inner.page(blinded), this.inner.page({ ...query, treeSize: Math.min(query.treeSize, this.keyring.sealedFrom) })]);
    const merged = [...sealed.filter((e) => e.leafIndex >= this.keyring.sealedFrom), ...clear.filter((e) => e.leafIndex < this.keyring.sealedFrom)];
    merged.sort((a, b) => (query.newestFirst ? b.leafIndex - a.leafIndex : a.leafIndex - b.leafIndex));
    return this.open(merged.slice(0, query.limit));
  }

  /** Opened events flattened: a sealed event's fields exist only once its leaf is decrypted. */
  async flatPage(query: EventPageQuery): Promise<FlatEvent[]> {
    return (await this.page(query)).map(flatEvent);
  }

  async countBy(key: EventCountKey, query: EventQuery, treeSize: number): Promise<EventCount[]> {
    const counts = await this.inner.countBy(key, this.blindQuery(query), treeSize);
    if (key !== 'actor.id') return counts;
    // Blind actor keys back to actor ids: open one event of each actor.
    const merged = new Map<string, number>();
    for (const c of counts) {
      let name = c.key;
      if (isBlind(c.key)) {
        const [one] = await this.open(await this.inner.page({ actorId: c.key, treeSize, limit: 1 }));
        name = one && !one.redaction ? one.actor.id : `[redacted ${c.key.slice(3, 15)}]`;
      }
      merged.set(name, (merged.get(name) ?? 0) + c.count);
    }
    return [...merged].map(([k, count]) => ({ key: k, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  estimatedCount(): Promise<number> {
    return this.inner.estimatedCount();
  }

  private blindQuery<Q extends EventQuery>(query: Q): Q {
    if (query.actorId === undefined && query.targetType === undefined && query.targetId === undefined) return query;
    return {
      ...query,
      ...(query.actorId !== undefined && { actorId: this.keyring.blind('actor.id', query.actorId) }),
      ...(query.targetType !== undefined && { targetType: this.keyring.blind('target.type', query.targetType) }),
      ...(query.targetId !== undefined && { targetId: this.keyring.blind('target.id', query.targetId) }),
    };
  }

  /**
   * Decrypts sealed events; plaintext ones pass as they are; shredded ones become skeletons.
   * @param caching `'fill'` (pages) keeps what it opens in the read cache; `'use'` (point reads
   *   and ranges) only takes what is there: a stream of reads of old events, one by one or
   *   range by range, would otherwise push out the newest events that pages read again and
   *   again, and pay for every entry it adds (most never read twice) in garbage collection
   */
  async open(events: readonly StoredEvent[], caching: 'fill' | 'use' = 'fill', read?: { snapshot: LifecycleSnapshot; generation: number }): Promise<StoredEvent[]> {
    const sealed = events.filter((e) => isSealedLeaf(e.leaf));
    if (sealed.length === 0) return [...events];
    const { cache } = this;
    const fill = caching === 'fill';
    // `read`: the keys, and the change count that vouches for the cache, read with the events.
    const generation = read?.generation ?? cache.generation;
    const lacking = sealed.filter((e) => cache.key(e.id) === undefined).map((e) => e.id);
    // Else the keys the cache lacks are read together with that count.
    const { changeCount, records: snapshot } = read?.snapshot ?? (await this.store.snapshot('dataKey', lacking));
    // A key replaced or destroyed meanwhile, here or elsewhere: trust nothing cached, read every key.
    const trusted = cache.confirm(changeCount) && cache.generation === generation;
    const records = trusted ? onlyOf(snapshot, lacking) : await this.store.get('dataKey', sealed.map((e) => e.id));
    const keyOf = (e: StoredEvent): Uint8Array | undefined => (trusted ? cache.key(e.id) : undefined);
    const missing = sealed.filter((e) => keyOf(e) === undefined && !records.has(e.id));
    const redactions = missing.length > 0 ? await this.store.get('redaction', missing.map((e) => leafKey(e.leafIndex))) : new Map<string, string>();
    // Only keys wrapped under the KEK (keyrings from before) need their event, for its error.
    let byId: Map<string, StoredEvent> | undefined;
    const recordKeys = dataKeysOf(this.keyring, records, (id) => (byId ??= new Map(sealed.map((e) => [e.id, e]))).get(id)!);
    return events.map((e) => {
      if (!isSealedLeaf(e.leaf)) return e;
      const cached = trusted ? cache.opened(e.id, e.leaf) : undefined;
      if (cached) return { ...cached, ...rowFields(e) };
      const dek = keyOf(e) ?? recordKeys.get(e.id);
      if (dek === undefined) return redactedSkeleton(e, parseRedaction(redactions.get(leafKey(e.leafIndex))));
      const parts = splitSealed(e.leaf);
      if (!parts) throw new Error(`event ${e.leafIndex}: malformed sealed leaf`);
      const leaf = openLeaf(dek, e.leafIndex, e.id, parts.blob);
      const opened = fieldsOfLeaf(leaf) as Mutable<StoredEvent>;
      opened.leafIndex = e.leafIndex;
      opened.leaf = leaf;
      withRowFields(opened, e);
      if (fill) cache.rememberOpened(e.id, dek, e.leaf, opened, generation);
      return opened;
    });
  }
}

/**
 * Sets the row's own leaf hash and idempotency fields on an event just opened (whose leaf
 * holds none of them). Assigned rather than spread: a point read builds one of these, and
 * spreads of fresh objects cost more than the rest of the object.
 */
function withRowFields(opened: Mutable<StoredEvent>, row: StoredEvent): StoredEvent {
  opened.leafHash = row.leafHash;
  if (row.idempotencyKey !== undefined) opened.idempotencyKey = row.idempotencyKey;
  if (row.contentDigest !== undefined) opened.contentDigest = row.contentDigest;
  return opened;
}

/** The row's own leaf hash and idempotency fields, which a cached event's must never stand in for. */
function rowFields(row: StoredEvent): Pick<StoredEvent, 'leafHash' | 'idempotencyKey' | 'contentDigest'> {
  return {
    leafHash: row.leafHash,
    ...(row.idempotencyKey !== undefined && { idempotencyKey: row.idempotencyKey }),
    ...(row.contentDigest !== undefined && { contentDigest: row.contentDigest }),
  };
}

/** The records of these ids (a snapshot read with its event may hold a key the cache has). */
function onlyOf(records: Map<string, string>, ids: readonly string[]): Map<string, string> {
  if (records.size <= ids.length && [...records.keys()].every((id) => ids.includes(id))) return records;
  return new Map(ids.flatMap((id) => (records.has(id) ? [[id, records.get(id)!] as const] : [])));
}

/**
 * The data keys of these records (event id → record), the derived ones from one cipher call
 * for all their seeds: deriving a page's keys one by one took a cipher set-up per event.
 */
function dataKeysOf(keyring: Keyring, records: ReadonlyMap<string, string>, eventOf: (id: string) => StoredEvent): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  const derivedIds: string[] = [];
  const seeds: Buffer[] = [];
  for (const [id, raw] of records) {
    const doc = JSON.parse(raw) as StoredDataKeyDoc;
    const seed = isDerivedDataKey(doc) && keyring.derivationKey ? Buffer.from(doc.seed, 'base64') : undefined;
    if (seed && seed.length === KEY_BYTES) {
      derivedIds.push(id);
      seeds.push(seed);
    } else {
      // A wrapped key, or a seed that will not derive: one by one, for the error that names the event.
      keys.set(id, unwrapRecord(keyring, eventOf(id), doc));
    }
  }
  if (derivedIds.length > 0) {
    const derived = keyring.deriveDataKeys(seeds.length === 1 ? seeds[0]! : Buffer.concat(seeds))!;
    derivedIds.forEach((id, i) => keys.set(id, derived.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES)));
  }
  return keys;
}

/** Kept apart from `open` for its error: a key under an old KEK means an unfinished rotation. */
function unwrapRecord(keyring: Keyring, e: StoredEvent, doc: StoredDataKeyDoc): Uint8Array {
  if (!isDerivedDataKey(doc) && doc.kekId !== keyring.kek.id) {
    throw new Error(`the data key of event ${e.leafIndex} is wrapped under KEK ${doc.kekId}, not the current ${keyring.kek.id}: finish the key rotation (rotate-kek)`);
  }
  return dataKeyOf(keyring, e.id, doc);
}

/**
 * The data key a record holds or derives; throws KeyError when it cannot (a wrapped key that
 * does not unwrap, a seed that is not 32 bytes or on a keyring without a derivation key).
 */
export function dataKeyOf(keyring: Keyring, eventId: string, doc: StoredDataKeyDoc): Uint8Array {
  if (!isDerivedDataKey(doc)) return keyring.kek.unwrap(doc.wrapped, `dek:${eventId}`);
  if (!keyring.derivationKey) throw new KeyError(`the data key of event ${eventId} is derived from a seed, but this ledger's keyring holds no derivation key`);
  const seed = Buffer.from(doc.seed, 'base64');
  if (seed.length !== KEY_BYTES) throw new KeyError(`the data-key seed of event ${eventId} is not ${KEY_BYTES} bytes`);
  return keyring.deriveDataKeys(seed)!;
}

function redactedSkeleton(e: StoredEvent, redaction: { leafIndex: number | undefined; reason: string } | undefined): StoredEvent {
  return {
    id: e.id,
    action: e.action,
    actor: { id: '', type: e.actor.type },
    outcome: e.outcome,
    groups: e.groups,
    recordedAt: e.recordedAt,
    salt: '',
    leafIndex: e.leafIndex,
    leaf: '',
    leafHash: e.leafHash,
    redaction: redaction ?? { leafIndex: undefined, reason: 'its data key is missing and no redaction is recorded' },
  };
}
