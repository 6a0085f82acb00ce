/**
 * Sealing a batch of events for storage (pure core: node:crypto only, no I/O): each event's
 * skeleton with its personal ids as blind indexes and its leaf sealed under a data key
 * derived from a fresh seed, and the `dataKey` record holding that seed.
 *
 * Kept apart from SealedEventRepository so that it can run wherever the batch is written: a
 * storage adapter with a writer thread (the SQLite append worker) is handed the keys as plain
 * data (SealingKeys) and seals there, taking about a tenth of an append's work off the
 * server's event loop, which is where appends queue. Keyrings from before derivation keys
 * (each data key wrapped under the KEK, which may be a KMS) are sealed by
 * SealedEventRepository itself and never come here.
 */
import type { LifecycleRecord, Mutable, StoredEvent } from '../storage/port';
import { blindIndex, type BlindVersion, DataKeyDeriver, KEY_BYTES, RandomPool, sealLeaf } from './envelope';
import { RecentBlinds } from './recentBlinds';

/** Stored in a sealed skeleton instead of the salt, which is sealed with the rest (see sealedEvents.ts). */
export const SEALED_SALT = '0'.repeat(32);

/** What sealing new events needs, as plain data that can be sent to a worker thread. */
export interface SealingKeys {
  readonly derivationKey: Uint8Array;
  readonly searchKey: Uint8Array;
  readonly blindVersion: BlindVersion;
}

export type BlindField = 'actor.id' | 'target.type' | 'target.id';

/** Blind indexes under one search key, with the recurring fields' values remembered. */
export class Blinder {
  /** Actor ids and target types recur; target ids mostly do not, and are not kept. */
  private readonly recentActorIds = new RecentBlinds();
  private readonly recentTargetTypes = new RecentBlinds();

  constructor(
    private readonly searchKey: Uint8Array,
    private readonly version: BlindVersion,
  ) {}

  blind(field: BlindField, value: string): string {
    const compute = (v: string): string => blindIndex(this.searchKey, field, v, this.version);
    if (field === 'actor.id') return this.recentActorIds.get(value, compute);
    if (field === 'target.type') return this.recentTargetTypes.get(value, compute);
    return compute(value);
  }
}

/** The actor and target of an event as its sealed row stores them: personal ids as blind indexes. */
export function blindedParties(blinder: Blinder, e: StoredEvent): Pick<StoredEvent, 'actor' | 'target'> {
  const actor = { id: blinder.blind('actor.id', e.actor.id), type: e.actor.type };
  return e.target ? { actor, target: { type: blinder.blind('target.type', e.target.type), id: blinder.blind('target.id', e.target.id) } } : { actor };
}

/** The row a sealed event is stored as: its skeleton in clear, its leaf sealed. */
export function sealedSkeleton(e: StoredEvent, parties: Pick<StoredEvent, 'actor' | 'target'>, sealedLeaf: string): StoredEvent {
  const skeleton: Mutable<StoredEvent> = {
    id: e.id,
    action: e.action,
    actor: parties.actor,
    outcome: e.outcome,
    groups: e.groups,
    recordedAt: e.recordedAt,
    salt: SEALED_SALT,
    leafIndex: e.leafIndex,
    leaf: sealedLeaf,
    leafHash: e.leafHash,
  };
  // Assigned rather than spread: building the skeleton is per event, and spreads of fresh objects are slow.
  if (parties.target) skeleton.target = parties.target;
  if (e.idempotencyKey !== undefined) skeleton.idempotencyKey = e.idempotencyKey;
  if (e.contentDigest !== undefined) skeleton.contentDigest = e.contentDigest;
  return skeleton;
}

/** A sealed batch: the rows to store, their `dataKey` records, and the data keys (32 bytes an event, in order). */
export interface SealedBatch {
  readonly skeletons: StoredEvent[];
  readonly records: LifecycleRecord[];
  readonly dataKeys: Buffer;
}

/** Seals events under data keys derived from fresh seeds: all seeds from one draw, all keys from one cipher call. */
export function sealBatch(events: readonly StoredEvent[], deriver: DataKeyDeriver, blinder: Blinder): SealedBatch {
  const n = events.length;
  const skeletons: StoredEvent[] = new Array(n);
  const records: LifecycleRecord[] = new Array(n);
  const random = RandomPool.forEvents(n);
  const seeds = random.take(n * KEY_BYTES);
  const dataKeys = deriver.derive(seeds);
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    const parties = blindedParties(blinder, e);
    const dek = dataKeys.subarray(i * KEY_BYTES, (i + 1) * KEY_BYTES);
    skeletons[i] = sealedSkeleton(e, parties, sealLeaf(dek, e.leafIndex, e.id, e.leaf, random));
    records[i] = { id: e.id, value: derivedRecord(seeds.toString('base64', i * KEY_BYTES, (i + 1) * KEY_BYTES), e.leafIndex, parties.actor.id) };
  }
  return { skeletons, records, dataKeys };
}

/**
 * A DerivedDataKeyDoc as JSON text, written out rather than through JSON.stringify (a quarter
 * of a microsecond against three quarters, per event): every value is base64 or a number, and
 * the blind index is base64url or hex, so none needs escaping.
 */
function derivedRecord(seed: string, leafIndex: number, actor: string): string {
  return `{"seed":"${seed}","leafIndex":${leafIndex},"actor":"${actor}"}`;
}

/**
 * Sealing state for whoever is handed SealingKeys (a worker thread): the cipher and the blind
 * caches made once per set of keys rather than per batch.
 */
export class Sealer {
  private current: { keys: SealingKeys; deriver: DataKeyDeriver; blinder: Blinder } | undefined;

  seal(events: readonly StoredEvent[], keys: SealingKeys): SealedBatch {
    const c = this.current;
    const same = c !== undefined && c.keys.blindVersion === keys.blindVersion && bytesEqual(c.keys.derivationKey, keys.derivationKey) && bytesEqual(c.keys.searchKey, keys.searchKey);
    const state = same ? c : (this.current = { keys, deriver: new DataKeyDeriver(keys.derivationKey), blinder: new Blinder(keys.searchKey, keys.blindVersion) });
    return sealBatch(events, state.deriver, state.blinder);
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
