/**
 * The storage port: everything the ledger needs from a database, said in the ledger's own
 * words (leaf indices, tree sizes, bytes as Uint8Array). The core (sequencer, ledger,
 * directory, authentication, integrity checks) depends on these interfaces only; the two
 * adapters (`storage/sqlite`, `storage/mongodb`) are the only modules that import a driver.
 *
 * Contracts every adapter keeps (checked by test/storage/contract.ts on both):
 * - an append is all-or-nothing per call on engines with transactions, and at worst a
 *   contiguous prefix of the call on engines without (recovery replays it);
 * - a leaf index is stored at most once, ever (a second writer fails, it never overwrites);
 * - the log head only moves forward, and `markPending` is the fencing compare-and-set;
 * - every query shape below is answered from an index (a range scan ending in leaf index).
 */
import type { Role } from '../auth/role';
import type { Actor, ActorType, Outcome, Source, Submitter, Target } from '../event/eventRecord';
import type { SealingKeys } from '../lifecycle/sealBatch';

export type { SealingKeys };

export type { Submitter };

// ---------------------------------------------------------------------------------------
// Events

/**
 * A record being built by assignment (event/storedEvent.ts: fieldsOfEvent): on paths that run
 * per event, assigning keys in order costs less than spreading conditional parts.
 */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The fields an event is stored with; the leaf text is derived from exactly these. */
export interface EventFields {
  readonly id: string;
  readonly action: string;
  readonly actor: Actor;
  readonly target?: Target;
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly occurredAt?: Date;
  readonly source?: Source;
  /** Canonical JSON text of the metadata object (keys the engine could not store as keys stay text). */
  readonly metadata?: string;
  readonly groups: readonly string[];
  readonly recordedAt: Date;
  /** 128 random bits, lowercase hex. */
  readonly salt: string;
  readonly submitter?: Submitter;
}

/** One leaf of the log, as stored. */
export interface StoredEvent extends EventFields {
  readonly leafIndex: number;
  /** RFC 8785 canonical JSON of the fields: the text the tree commits to. */
  readonly leaf: string;
  /** RFC 6962 leaf hash of `leaf` (32 bytes). */
  readonly leafHash: Uint8Array;
  /** The caller-scoped idempotency key it was recorded under, if any (not part of the leaf). */
  readonly idempotencyKey?: string;
  /** SHA-256 hex of the request content, to tell a retry from a conflicting reuse of the key. */
  readonly contentDigest?: string;
  /**
   * Set when the event's content was destroyed (crypto-shredded, src/lifecycle/): only its
   * skeleton remains (leafIndex, leafHash, id, action, groups, recordedAt, outcome, actor
   * type); `leaf` is empty and the personal fields are blank.
   */
  readonly redaction?: EventRedaction;
}

export interface EventRedaction {
  /** The leaf index of the ledger event that recorded the redaction (undefined: no record found). */
  readonly leafIndex: number | undefined;
  readonly reason: string;
}

/**
 * A stored event as flat values, for readers that turn many events into text (exports): no
 * nested objects and no Dates, so that an adapter can hand its columns over nearly as they
 * are. The same event as its StoredEvent (`flatEvent` in flatEvent.ts maps one to the
 * other): absent values are null, instants epoch milliseconds, groups their JSON array text.
 * The idempotency fields are left out: they are not part of the event.
 */
export interface FlatEvent {
  readonly leafIndex: number;
  readonly id: string;
  readonly action: string;
  readonly actorId: string;
  readonly actorType: ActorType;
  readonly actorName: string | null;
  /** With targetId: a target has both or none. */
  readonly targetType: string | null;
  readonly targetId: string | null;
  readonly targetName: string | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly occurredAt: number | null;
  readonly recordedAt: number;
  readonly source: Source | null;
  /** Canonical JSON text of the metadata object. */
  readonly metadata: string | null;
  /** JSON text of the group ids array, as JSON.stringify writes it. */
  readonly groups: string;
  readonly salt: string;
  /** With submitterUserId: a submitter has both or none. */
  readonly submitterKeyId: string | null;
  readonly submitterUserId: string | null;
  readonly leaf: string;
  readonly leafHash: Uint8Array;
  readonly redaction: EventRedaction | null;
}

export interface EventQuery {
  readonly actorId?: string;
  /** Exact action. */
  readonly action?: string;
  /** Action prefix, e.g. `user.role.` (matches `user.role.grant`). */
  readonly actionPrefix?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly outcome?: Outcome;
  /** recordedAt ≥ from. */
  readonly from?: Date;
  /** recordedAt < to. */
  readonly to?: Date;
  /** Events carrying at least one of these groups. */
  readonly groupIds?: readonly string[];
}

export interface EventPageQuery extends EventQuery {
  /** Only leaves below this index: the signed tree size, so only checkpointed events are read. */
  readonly treeSize: number;
  /** Exclusive leaf-index bound for keyset pagination, in the direction of `newestFirst`. */
  readonly afterLeafIndex?: number;
  readonly newestFirst?: boolean;
  readonly limit: number;
}

export type EventCountKey = 'groups' | 'action' | 'actor.id' | 'outcome';

export interface EventCount {
  readonly key: string;
  readonly count: number;
}

/**
 * Lifecycle records that must exist whenever the events they belong to do (the events' data
 * keys): `append` stores them in the events' own transaction where the engine has one
 * (SQLite), else before the events (MongoDB), so no stored event ever lacks them.
 */
export interface CompanionRecords {
  readonly kind: LifecycleKind;
  readonly records: readonly LifecycleRecord[];
}

/**
 * One part of an append given in parts (EventRepository.appendParts): events with their
 * companions, stored as they are, or events to seal where they are written
 * (lifecycle/sealBatch.ts), whose skeletons are then stored with their `dataKey` records.
 */
export type AppendPart =
  | { readonly events: readonly StoredEvent[]; readonly companions?: CompanionRecords }
  | { readonly events: readonly StoredEvent[]; readonly sealing: SealingKeys };

/** One event, by its leaf index or its id. */
export type EventKey = { readonly leafIndex: number } | { readonly id: string };

export interface EventWithCompanion {
  readonly event: StoredEvent;
  readonly companion: LifecycleSnapshot;
}

export interface EventRepository {
  /**
   * Stores events at consecutive leaf indices, in order, with the idempotency records of
   * those that carry a key. Fails with `LeafIndexTakenError` if any index is already stored.
   */
  append(events: readonly StoredEvent[], companions?: CompanionRecords): Promise<void>;
  /**
   * Optional: one append given in parts, in leaf order, stored all or nothing as `append`
   * stores one call. The adapter takes each part from `parts` only once it has handed the one
   * before to its writer, so whatever the caller does to produce a part (sealing it) overlaps
   * the writing of the previous one; `parts` must produce them synchronously. An adapter with
   * a writer thread offers it: a sealed ledger's first part is sealed by the writer while the
   * sealing layer seals the rest on its own thread. Without it the sealing layer seals the
   * whole batch and calls `append`.
   */
  appendParts?(parts: Iterable<AppendPart>): Promise<void>;
  /** Leaves [from, to) in order (replay after a crash). */
  range(from: number, to: number): Promise<StoredEvent[]>;
  byLeafIndex(leafIndex: number): Promise<StoredEvent | undefined>;
  byId(id: string): Promise<StoredEvent | undefined>;
  /**
   * Optional: `byLeafIndex` or `byId` together with a snapshot (LifecycleStore.snapshot) of
   * the event's own record of `kind` (the record whose id is the event's id), as of one read.
   * The sealing layer reads an event and its data key this way: as two reads, the key's was a
   * sixth of a point read's server time. Undefined if there is no such event.
   */
  withCompanion?(key: EventKey, kind: LifecycleKind): Promise<EventWithCompanion | undefined>;
  /** A page of events matching the query, by leaf index in the requested direction. */
  page(query: EventPageQuery): Promise<StoredEvent[]>;
  /**
   * The same page as flat values (`page(query)` mapped by `flatEvent`): for exports, which
   * turn hundreds of thousands of events a second into text and need no objects to do so.
   */
  flatPage(query: EventPageQuery): Promise<FlatEvent[]>;
  /**
   * Counts per value of `key` among the leaves below `treeSize` matching the query, most
   * frequent first then by key. An event counts once under each of its groups; with a group
   * filter only those groups are keys. Must not block the server on millions of rows:
   * answered from maintained counts or off the main thread.
   */
  countBy(key: EventCountKey, query: EventQuery, treeSize: number): Promise<EventCount[]>;
  /** How many events are stored (an estimate is fine: progress bars). */
  estimatedCount(): Promise<number>;
  /** Largest byte size one stored event may have on this engine (its canonical leaf counted twice over). */
  readonly maxEventBytes: number;
}

// ---------------------------------------------------------------------------------------
// Tiles, checkpoints, head

export interface TileId {
  /** Tile level L: nodes at tree height 8·L. */
  readonly level: number;
  /** Tile index N within its level. */
  readonly index: number;
}

export interface StoredTile extends TileId {
  /** `width` concatenated 32-byte hashes, width 1…256. */
  readonly hashes: Uint8Array;
}

export interface TileRepository {
  /** The tiles found among `ids` (absent ones are simply missing from the answer). */
  read(ids: readonly TileId[]): Promise<StoredTile[]>;
  /** Writes whole tiles (insert or replace). A tile only grows; the lease keeps one writer. */
  write(tiles: readonly StoredTile[]): Promise<void>;
}

export interface SignedCheckpoint {
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly rootHash: string;
  /** The C2SP signed note. */
  readonly note: string;
  readonly createdAt: Date;
}

/** When an archived checkpoint was signed, and the size it signed: one point of the log's growth. */
export interface CheckpointMark {
  readonly treeSize: number;
  readonly createdAt: Date;
}

export interface CheckpointRepository {
  /** Archives a checkpoint; saving one already stored (same size) is a no-op. */
  save(checkpoint: SignedCheckpoint): Promise<void>;
  /**
   * For each instant, the last archived checkpoint created at or before it (latest creation
   * time, then largest size), or undefined when none was yet: one indexed look-up per instant,
   * never a walk of the archive, which grows with every batch.
   */
  latestAt(instants: readonly Date[]): Promise<(CheckpointMark | undefined)[]>;
  /** The archived checkpoint created first (an indexed look-up), undefined when none is stored. */
  earliest(): Promise<CheckpointMark | undefined>;
}

export interface LogHeadRecord {
  readonly checkpoint: SignedCheckpoint;
  /** recordedAt of the last leaf (ms since epoch), so it never decreases along the log. */
  readonly lastRecordedAt: number;
  /** Leaves [from, to) being written after the head; null when none. */
  readonly pending: { readonly from: number; readonly to: number } | null;
}

export interface LogHeadRepository {
  read(): Promise<LogHeadRecord | undefined>;
  /**
   * Records the batch about to be written, if the head is still at size `from`. False means
   * another sequencer moved the head (this one's lease lapsed): the fencing check.
   */
  markPending(from: number, to: number): Promise<boolean>;
  /** Moves the head to a newer checkpoint and clears `pending`; never moves it back. */
  advance(checkpoint: SignedCheckpoint, lastRecordedAt: number): Promise<void>;
}

/**
 * A witness's cosignature of one checkpoint (C2SP tlog-cosignature): the signature line the
 * published note carries. Checked by the witnessing service before it is saved.
 */
export interface StoredCosignature {
  /** Which witness: the 8 lowercase hex digits of its key ID. */
  readonly witness: string;
  readonly treeSize: number;
  /** "— <name> <base64(key ID || timestamp || signature)>\n" */
  readonly line: string;
}

/**
 * The newest cosignature of each witness. Shared by every process on the database, so that
 * whichever serves `GET /checkpoint` publishes what any of them gathered, across restarts.
 */
export interface CosignatureRepository {
  /**
   * Keeps this cosignature as the witness's newest: it replaces one of a smaller or the same
   * tree size (a fresher timestamp); one of a smaller size than stored is ignored.
   */
  save(cosignature: StoredCosignature): Promise<void>;
  /** The stored cosignatures of the checkpoint of this size, one per witness, by witness. */
  forTreeSize(treeSize: number): Promise<StoredCosignature[]>;
}

// ---------------------------------------------------------------------------------------
// Idempotency and the lease

export interface IdempotencyRecord {
  /** Caller-scoped key: `k:<credential>:<client key>`. */
  readonly key: string;
  readonly leafIndex: number;
  readonly eventId: string;
  readonly leafHash: Uint8Array;
  readonly contentDigest: string;
}

export interface IdempotencyRepository {
  /** Primary-key look-ups only: never a scan, never a read of the events. */
  lookup(keys: readonly string[]): Promise<Map<string, IdempotencyRecord>>;
  /** Stores records; ones already stored under the same key are kept as they are. */
  remember(records: readonly IdempotencyRecord[]): Promise<void>;
}

export interface HeldLease {
  /** Grows on every change of owner. */
  readonly token: number;
  /** Another process waiting for the lease, if any. */
  readonly wantedBy: string | undefined;
}

export interface LeaseRepository {
  /** Takes or renews the lease for `owner`; undefined if another live owner holds it. */
  acquire(owner: string, ttlMs: number): Promise<HeldLease | undefined>;
  /** Gives it up: to `handTo` at once (new token), else by expiring it now (same token). */
  release(owner: string, ttlMs: number, handTo?: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------
// The directory

export type UserType = 'HUMAN' | 'SERVICE';
export type UserStatus = 'ACTIVE' | 'DISABLED';

export interface UserRecord {
  readonly id: string;
  readonly name: string;
  readonly type: UserType;
  readonly externalId: string | null;
  readonly status: UserStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface GroupRecord {
  readonly id: string;
  readonly name: string;
  /** Lower-cased name: unique. */
  readonly nameKey: string;
  readonly description: string | null;
  /** Member user ids, in the order they were added. */
  readonly members: readonly string[];
  readonly createdAt: Date;
}

export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly roles: readonly Role[];
  readonly userId: string;
  readonly groupIds: readonly string[];
  /** SHA-256 hex of the token: unique. */
  readonly tokenHash: string;
  readonly createdAt: Date;
  readonly createdBy: string | null;
  readonly revokedAt: Date | null;
}

export interface UserRepository {
  /** Fails with `DuplicateKeyError` if the id exists. */
  insert(user: UserRecord): Promise<void>;
  byId(id: string): Promise<UserRecord | undefined>;
  byIds(ids: readonly string[]): Promise<UserRecord[]>;
  /** Users whose `externalId` is one of these. */
  byExternalIds(externalIds: readonly string[]): Promise<UserRecord[]>;
  update(id: string, change: { name: string; status: UserStatus; updatedAt: Date }): Promise<void>;
  /** All users, oldest first. */
  list(): Promise<UserRecord[]>;
}

export interface GroupRepository {
  /** Fails with `DuplicateKeyError` (field `nameKey` or `id`) on a taken name or id. */
  insert(group: GroupRecord): Promise<void>;
  byId(id: string): Promise<GroupRecord | undefined>;
  byNameKey(nameKey: string): Promise<GroupRecord | undefined>;
  byIds(ids: readonly string[]): Promise<GroupRecord[]>;
  /** Atomic; adding a member twice keeps one. */
  addMember(groupId: string, userId: string): Promise<void>;
  removeMember(groupId: string, userId: string): Promise<void>;
  /** Ids of the groups listing each user, sorted; every asked user has an entry. */
  groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** All groups, oldest first. */
  list(): Promise<GroupRecord[]>;
}

export interface ApiKeyRepository {
  /** Fails with `DuplicateKeyError` if the id or token hash exists. */
  insert(key: ApiKeyRecord): Promise<void>;
  byId(id: string): Promise<ApiKeyRecord | undefined>;
  byTokenHash(tokenHash: string): Promise<ApiKeyRecord | undefined>;
  /** Sets revokedAt once; revoking again keeps the first time. */
  revoke(id: string, at: Date): Promise<void>;
  /** Unrevoked keys holding ADMIN. */
  activeAdmins(): Promise<ApiKeyRecord[]>;
  /** All keys, oldest first. */
  list(): Promise<ApiKeyRecord[]>;
}

// ---------------------------------------------------------------------------------------
// The integrity walk (verify-db): raw reads that keep whatever an operator might have edited

/** A stored event as found, with fields not trusted to have their types. */
export interface RawStoredEvent {
  /** The stored position: a leaf index unless tampered with. */
  readonly position: unknown;
  /** The fields as stored, shaped like EventFields plus `leaf` and `leafHash` (Uint8Array when it is bytes). */
  readonly fields: { readonly [key: string]: unknown };
}

export interface RawCheckpoint {
  readonly treeSize: unknown;
  readonly rootHash: unknown;
  readonly note: unknown;
}

export interface RawTile {
  /** The tile's stored id, `L/N` unless tampered with. */
  readonly id: string;
  readonly level: number;
  readonly index: number;
  readonly hashes: Uint8Array;
}

/**
 * Where another thread can open a reader of the same database (a plain, structured-cloneable
 * value), so that verify-db reads and re-derives leaves in several threads at once.
 */
export interface IntegrityReaderSource {
  readonly kind: StorageKind;
  /** The database file (sqlite). */
  readonly location: string;
}

/**
 * A stored event's values as found, nothing parsed or converted: what a walk needs to re-derive
 * a leaf without building a record per event. `source` and `groups` are the stored JSON texts,
 * instants integer milliseconds (or whatever was stored), `leafHashHex` the stored leaf hash in
 * lowercase hex when it is stored as bytes (else null). An absent optional value is null.
 */
export type RawEventValues = readonly [
  position: unknown,
  id: unknown,
  action: unknown,
  actorId: unknown,
  actorType: unknown,
  actorName: unknown,
  targetType: unknown,
  targetId: unknown,
  targetName: unknown,
  outcome: unknown,
  reason: unknown,
  occurredAt: unknown,
  source: unknown,
  metadata: unknown,
  groups: unknown,
  recordedAt: unknown,
  salt: unknown,
  submitterKeyId: unknown,
  submitterUserId: unknown,
  leaf: unknown,
  leafHashHex: unknown,
];

/** Reads the stored events by ranges of position, for a walk split over threads. */
export interface EventRangeReader {
  /**
   * Where the range of the next `rows` stored events from `from` on ends: the position of the
   * first stored event after them (so [from, end) holds exactly `rows`), or undefined when
   * fewer remain. Ranges cut this way stay even however sparse a tampered log's positions are.
   */
  rangeEnd(from: number, rows: number): Promise<number | undefined>;
  /** How many events are stored, and their lowest and highest positions (undefined when none). */
  positionSpan(): Promise<{ readonly count: number; readonly first: number; readonly last: number } | undefined>;
  /** The stored events with `from ≤ position < to`, ascending by position. */
  eventRange(from: number, to: number): Promise<RawStoredEvent[]>;
  /**
   * The same events as value rows: `eventRange(p, p + 1)` of a row's position gives its
   * RawStoredEvent, whose fields are these values as the adapter maps them.
   */
  eventValuesRange(from: number, to: number): Promise<RawEventValues[]>;
}

export interface IntegrityReader extends Partial<EventRangeReader> {
  /** Every stored event, ascending by position, in batches. */
  events(batchSize: number): AsyncIterable<RawStoredEvent[]>;
  /**
   * Set when the adapter can serve range reads from other threads (it then implements
   * EventRangeReader here and through `openEventRangeReader` in storage/open.ts).
   */
  readonly source?: IntegrityReaderSource;
  /** The stored checkpoint with the largest numeric tree size. */
  latestCheckpoint(): Promise<RawCheckpoint | undefined>;
  /** Stored checkpoints with tree size ≤ `maxSize`, ascending. */
  checkpoints(maxSize: number): AsyncIterable<RawCheckpoint>;
  /** The stored tiles among these ids (`L/N`), as found. */
  tiles(ids: readonly string[]): Promise<RawTile[]>;
}

// ---------------------------------------------------------------------------------------
// Data lifecycle: wrapped keys, redactions, legal holds, retention policies, job cursors

/**
 * The kinds of lifecycle records. Their values are JSON text written and read by
 * `src/lifecycle/` only; the adapters store them opaquely, keyed by (kind, id).
 */
export type LifecycleKind = 'dataKey' | 'keyring' | 'redaction' | 'hold' | 'retention' | 'job';

export interface LifecycleRecord {
  readonly id: string;
  /** JSON text. */
  readonly value: string;
}

export interface LifecycleStore {
  /** Inserts or replaces records (one atomic write per call on engines with transactions). */
  put(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<void>;
  /** Inserts records whose id is not stored yet; returns false if any id was already stored (none written then on SQLite). */
  insertNew(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<boolean>;
  get(kind: LifecycleKind, ids: readonly string[]): Promise<Map<string, string>>;
  /**
   * Deletes records; returns how many were deleted. The adapter makes the bytes of deleted
   * records unrecoverable from its files as far as its engine allows (SQLite: secure_delete
   * and a truncating WAL checkpoint; MongoDB: see docs/architecture.md).
   */
  delete(kind: LifecycleKind, ids: readonly string[]): Promise<number>;
  /** Records of a kind with id > `after`, ascending by id (binary order of the id text). */
  list(kind: LifecycleKind, options: { readonly after?: string; readonly limit: number }): Promise<LifecycleRecord[]>;
  /** `get` and the kind's change count as of one read: one statement on SQLite, one round trip on MongoDB. */
  snapshot(kind: LifecycleKind, ids: readonly string[]): Promise<LifecycleSnapshot>;
}

export interface LifecycleSnapshot {
  readonly records: Map<string, string>;
  /**
   * How many times records of the kind were replaced or deleted through any store on this
   * database, by any process: it never decreases, and inserting a new id does not change it.
   * A reader keeping records in memory can use them without reading them again while it is
   * unchanged (the sealed read cache does, so that a cached event costs no key read). It
   * changes no later than the `put` or `delete` call that changed the records returns.
   */
  readonly changeCount: number;
}

// ---------------------------------------------------------------------------------------
// Streaming: webhook subscriptions, alert rules, their workers' cursors and lease

/**
 * The kinds of stream records. Their values are JSON text written and read by `src/stream/`
 * only; the adapters store them opaquely, keyed by (kind, id), with a version for
 * compare-and-set: an administrator pausing a subscription and the delivery worker moving its
 * cursor write the same record, and neither may undo the other.
 */
export type StreamKind = 'subscription' | 'alertRule' | 'cursor' | 'lease';

export interface VersionedRecord {
  readonly id: string;
  /** JSON text. */
  readonly value: string;
  /** 1 when inserted, +1 on every update. */
  readonly version: number;
}

export interface StreamStore {
  /** Stores a new record at version 1; false (and nothing written) if (kind, id) is taken. */
  insert(kind: StreamKind, id: string, value: string): Promise<boolean>;
  get(kind: StreamKind, id: string): Promise<VersionedRecord | undefined>;
  /** Records of a kind with id > `after`, ascending by id (binary order of the id text). */
  list(kind: StreamKind, options: { readonly after?: string; readonly limit: number }): Promise<VersionedRecord[]>;
  /**
   * Replaces the value (version + 1) if the stored version is still `version`. False when it
   * is not (another writer came first) or the record does not exist: re-read and retry.
   */
  update(kind: StreamKind, id: string, version: number, value: string): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------
// The whole

export type StorageKind = 'sqlite' | 'mongodb';

/** How busy one of a storage's own threads has been: a diagnostic the server's metrics report. */
export interface ThreadActivity {
  /** A short name that stays the same for the thread's role (`append`, `background`). */
  readonly thread: string;
  /** Seconds its event loop has been busy since the storage was opened. */
  readonly busySeconds: number;
}

export interface LedgerStorage {
  readonly kind: StorageKind;
  /** Which database this is, for operators: a file path, or a URI without credentials. */
  readonly description: string;
  readonly events: EventRepository;
  readonly tiles: TileRepository;
  readonly checkpoints: CheckpointRepository;
  readonly head: LogHeadRepository;
  readonly cosignatures: CosignatureRepository;
  readonly idempotency: IdempotencyRepository;
  readonly lease: LeaseRepository;
  readonly users: UserRepository;
  readonly groups: GroupRepository;
  readonly apiKeys: ApiKeyRepository;
  readonly integrity: IntegrityReader;
  readonly lifecycle: LifecycleStore;
  readonly streams: StreamStore;
  /** Whether more than one server process may use this database at once. */
  readonly sharedByProcesses: boolean;
  /** Throws if the database does not answer. */
  ping(): Promise<void>;
  /** The storage's own threads (none when it has none), for the server's utilisation metrics. */
  threadActivity?(): readonly ThreadActivity[];
  close(): Promise<void>;
}
