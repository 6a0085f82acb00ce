/**
 * The ledger service: the one place the shell (GraphQL, HTTP, CLI) goes to record events,
 * read them, and obtain checkpoints and proofs. It owns the sequencer and the tile cache,
 * and reaches the database only through the storage port.
 */
import { randomUUID } from 'node:crypto';
import { type Authentication, authenticate } from '../auth/authentication';
import { stampedGroups } from '../auth/role';
import type { NoteSigner } from '../checkpoint/signer';
import { Directory } from '../directory/directory';
import { cachedDirectory } from '../directory/directoryCache';
import { LedgerError } from '../errors';
import type { EventContent, Submitter } from '../event/eventRecord';
import type { Logger } from '../logger';
import { clientKeyOf, contentDigest, IdempotencyConflictError, type RequestedContent, sameContent, scopedKey } from '../log/idempotency';
import { Lease } from '../log/lease';
import { type AppendRequest, type AppendResult, Sequencer } from '../log/sequencer';
import { loadOrCreateSigningKey } from '../log/signingKeyFile';
import { TileCache } from '../log/tileCache';
import { bundleLeaves, publishedWidth } from '../log/tilePath';
import { consistencyProof, inclusionProof, inclusionProofsWithLeaves, rootHash } from '../merkle/proof';
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import type { EventCount, EventCountKey, EventQuery, FlatEvent, LedgerStorage, SignedCheckpoint, StoredEvent } from '../storage/port';
import type { SelfEvent } from './selfEvent';
import { type Kek, keyedDigest } from '../lifecycle/envelope';
import { Keyring } from '../lifecycle/keyring';
import { evictingStore, SealedReadCache } from '../lifecycle/sealedReadCache';
import { SealedEventRepository } from '../lifecycle/sealedEvents';
import { bytesEqual } from '../verify/bytes';
import { HASH_SIZE } from '../verify/rfc6962';
import { type LedgerMetrics, NO_METRICS } from '../log/metrics';
import { timedStorage } from './timedStorage';
import { sampleInstants, sizePoints, type SizePoint } from '../log/sizeHistory';

/** A request that names something that cannot exist: maps to BAD_USER_INPUT. */
export class LedgerInputError extends LedgerError {
  override name = 'LedgerInputError';
  constructor(message: string) {
    super('BAD_INPUT', message);
  }
}

export interface LedgerOptions {
  readonly storage: LedgerStorage;
  readonly logger: Logger;
  readonly signingKeyFile: string;
  readonly origin: string | undefined;
  readonly leaseTtlMs?: number;
  readonly maxBatch?: number;
  /**
   * The key-encryption key (see lifecycle/kekSource.ts). Given: the ledger's keyring is
   * opened (or created: events are sealed from now on); a wrong key fails here, before
   * anything is written. Absent on a ledger with a keyring: fails too.
   */
  readonly kek?: Kek;
  /** Sealed events kept opened in memory (lifecycle/sealedReadCache.ts); default 8,192, 0 for none. */
  readonly sealedReadCacheEntries?: number;
  /** Where the core reports timings and sizes (the server's Prometheus registry); default: nowhere. */
  readonly metrics?: LedgerMetrics;
}

/** Told of every checkpoint this process publishes; must not throw. */
export type CheckpointListener = (checkpoint: SignedCheckpoint) => void;

/** One event a caller asks to record. */
export interface RecordRequest {
  readonly content: RequestedContent;
  readonly idempotencyKey?: string;
}

/** Who is recording: the key (idempotency scope and provenance) and the groups it is scoped to. */
export interface Recorder {
  readonly keyId: string;
  readonly userId: string;
  /** The key's group scope (empty: unscoped). */
  readonly groupIds: readonly string[];
}

/** A recorded event's receipt: always with its plaintext leaf text, so it alone proves what was recorded. */
export type RecordedEvent = AppendResult & { readonly leaf: string };

/** A retry names an event whose content has since been crypto-shredded: no receipt can carry its leaf. */
export class EventRedactedError extends LedgerError {
  override name = 'EventRedactedError';
  constructor(readonly leafIndex: number) {
    super('EVENT_REDACTED', `the event recorded at leaf ${leafIndex} under this idempotency key was redacted since: its content no longer exists`);
  }
}

export interface EventPage {
  readonly events: StoredEvent[];
  readonly hasMore: boolean;
}

/** An exported event (flat: an export only turns it into text), with its inclusion proof when one was asked for. */
export interface ProvenEvent {
  readonly event: FlatEvent;
  /** The proof in the export's tree, and the leaf hash as the tree stores it. */
  readonly proof?: { readonly leafHash: Uint8Array; readonly hashes: Uint8Array[] };
}

export interface ExportPagesOptions {
  /** A signed tree size: only leaves below it are read, and proofs lead to its root. */
  readonly treeSize: number;
  readonly pageSize: number;
  /** At most this many events in all. */
  readonly limit?: number;
  readonly proofs: boolean;
}

/** The ledger's own events: no key, and no idempotency scope. */
const SYSTEM_RECORDER: Recorder = { keyId: 'system', userId: 'system', groupIds: [] };

export class Ledger {
  readonly directory: Directory;
  private readonly tiles: TileCache;
  private readonly sequencer: Sequencer;
  private readonly checkpointListeners = new Set<CheckpointListener>();
  /**
   * On storage no other server shares, only this process's sequencer moves the log head: the
   * latest checkpoint is then kept here as it signs them, rather than read on every request.
   */
  private readonly ownsHead: boolean;
  private latest: SignedCheckpoint | undefined;
  readonly hasher = nodeCryptoRfc6962;

  private constructor(
    readonly storage: LedgerStorage,
    /** Present when the ledger seals event content (encryption at rest). */
    readonly keyring: Keyring | undefined,
    readonly origin: string,
    readonly signer: NoteSigner,
    logger: Logger,
    options: { leaseTtlMs: number; maxBatch?: number },
    readonly metrics: LedgerMetrics,
  ) {
    this.directory = new Directory(storage);
    this.ownsHead = !storage.sharedByProcesses;
    this.tiles = new TileCache(storage.tiles, this.hasher);
    this.sequencer = new Sequencer({
      events: storage.events,
      tiles: this.tiles,
      checkpoints: storage.checkpoints,
      head: storage.head,
      idempotency: storage.idempotency,
      lease: new Lease(storage.lease, randomUUID(), options.leaseTtlMs),
      signer,
      origin,
      hasher: this.hasher,
      logger,
      metrics,
      onCheckpoint: (checkpoint) => {
        if (this.ownsHead) this.keepLatest(checkpoint);
        for (const listener of this.checkpointListeners) listener(checkpoint);
      },
      ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }),
    });
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    const metrics = options.metrics ?? NO_METRICS;
    const timed = options.metrics ? timedStorage(options.storage, options.metrics) : options.storage;
    // Keys first: a missing or wrong KEK must stop the start before anything is written.
    const keyring = await Keyring.open(timed.lifecycle, options.kek, async () => {
      const head = await timed.head.read();
      return head ? Math.max(head.checkpoint.treeSize, head.pending?.to ?? 0) : 0;
    });
    const sealed = keyring ? sealedStorage(timed, keyring, options.sealedReadCacheEntries) : timed;
    // A database this server owns alone: each request's directory reads come from memory (directoryCache.ts).
    const storage = sealed.sharedByProcesses ? sealed : { ...sealed, ...cachedDirectory(sealed) };
    if (keyring) options.logger.info({ kekId: keyring.kek.id, sealedFrom: keyring.sealedFrom }, 'event content is encrypted at rest');
    const key = await loadOrCreateSigningKey(options.signingKeyFile, options.origin);
    if (key.created) options.logger.info({ file: options.signingKeyFile, origin: key.origin }, 'created the log signing key');
    const batching = { leaseTtlMs: options.leaseTtlMs ?? 3000, ...(options.maxBatch !== undefined && { maxBatch: options.maxBatch }) };
    const ledger = new Ledger(storage, keyring, key.origin, key.signer, options.logger, batching, metrics);
    // A new log starts with a signed empty tree (deterministic, so any process may sign it).
    await ledger.sequencer.initialise();
    ledger.sequencer.recover();
    return ledger;
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  /**
   * Calls `listener` with every checkpoint this process signs (not those of other processes
   * sharing a MongoDB: watchers also read the head now and then). Returns the unsubscribe.
   */
  onCheckpoint(listener: CheckpointListener): () => void {
    this.checkpointListeners.add(listener);
    return () => this.checkpointListeners.delete(listener);
  }

  /** Events whose appends failed unacknowledged because the database did not answer during shutdown. */
  get givenUpEvents(): number {
    return this.sequencer.givenUpEvents;
  }

  /** Events waiting for the sequencer. */
  get queuedEvents(): number {
    return this.sequencer.queuedEvents;
  }

  /**
   * Records events as one all-or-nothing submission. Groups are stamped here: the actor's
   * groups now (a snapshot: later membership changes never rewrite recorded events), within
   * the recorder's scope, plus the explicit groups it was allowed to add. A retry with an
   * idempotency key already answered is served from the idempotency record without
   * queueing behind other writers; reusing a key for other content is refused.
   */
  async record(requests: readonly RecordRequest[], recorder: Recorder): Promise<RecordedEvent[]> {
    const system = recorder === SYSTEM_RECORDER;
    const keyed = requests.map((r) => ({
      ...r,
      scoped: r.idempotencyKey !== undefined ? scopedKey(recorder.keyId, r.idempotencyKey) : undefined,
      digest: r.idempotencyKey !== undefined ? this.digestOf(r.content) : undefined,
    }));
    const replayed = await this.replays(keyed);
    if (replayed) return this.withLeaves(replayed);
    const contents = await this.stamp(requests.map((r) => r.content), recorder, system);
    const appends: AppendRequest[] = keyed.map((r, i) => ({
      content: contents[i]!,
      ...(r.scoped !== undefined && { idempotencyKey: r.scoped, contentDigest: r.digest! }),
    }));
    return this.withLeaves(await this.sequencer.append(appends));
  }

  /**
   * A replayed result carries no leaf text (the sequencer answers it from the idempotency
   * record): read it through the ordinary read path, which opens sealed events, and check it
   * against the leaf hash the tree holds, so a receipt never pairs a leaf with another's hash.
   */
  private async withLeaves(results: readonly AppendResult[]): Promise<RecordedEvent[]> {
    const missing = [...new Set(results.flatMap((r) => (r.leaf === undefined ? [r.leafIndex] : [])))].sort((a, b) => a - b);
    // A retried batch was one submission: consecutive leaves, read as ranges rather than one by one.
    const runs: [number, number][] = [];
    for (const i of missing) {
      const last = runs.at(-1);
      if (last && last[1] === i) last[1] = i + 1;
      else runs.push([i, i + 1]);
    }
    const stored = new Map((await Promise.all(runs.map(([from, to]) => this.storage.events.range(from, to)))).flat().map((e) => [e.leafIndex, e]));
    return results.map((r) => {
      if (r.leaf !== undefined) return { ...r, leaf: r.leaf };
      const event = stored.get(r.leafIndex);
      if (event?.redaction) throw new EventRedactedError(r.leafIndex);
      if (!event || !bytesEqual(this.hasher.leafHash(utf8.encode(event.leaf)), r.leafHash)) {
        throw new LedgerError('CORRUPT', `the stored event at leaf ${r.leafIndex} does not match the leaf hash of its idempotency record`);
      }
      return { ...r, leaf: event.leaf };
    });
  }

  /**
   * The content digest kept with an idempotency key. With encryption at rest it is keyed
   * (HMAC under the search key): a bare SHA-256 beside a redacted event would confirm guesses.
   */
  private digestOf(content: RequestedContent): string {
    const digest = contentDigest(content);
    return this.keyring ? keyedDigest(this.keyring.searchKey, digest) : digest;
  }

  /** Records the ledger's own actions as ordinary events, answering their receipts. */
  async recordSelfReceipts(events: readonly SelfEvent[]): Promise<RecordedEvent[]> {
    return this.record(events.map((content) => ({ content })), SYSTEM_RECORDER);
  }

  /** Records the ledger's own actions as ordinary events. Never call from inside the sequencer. */
  async recordSelf(events: readonly SelfEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.record(events.map((content) => ({ content })), SYSTEM_RECORDER);
  }

  /**
   * Records the ledger's own events each under an idempotency key (in the ledger's own scope),
   * so that recording one again (a worker replaying after a crash) answers the first instead of
   * adding a second. The same key with other content is refused (IDEMPOTENCY_CONFLICT).
   */
  async recordSelfOnce(events: readonly { readonly event: SelfEvent; readonly key: string }[]): Promise<AppendResult[]> {
    return this.record(events.map(({ event, key }) => ({ content: event, idempotencyKey: key })), SYSTEM_RECORDER);
  }

  /**
   * When every keyed request of a call was recorded before (and checkpointed), the original
   * receipts; a conflicting reuse throws. Undefined when the call must go to the sequencer.
   */
  private async replays(requests: readonly { scoped?: string | undefined; digest?: string | undefined }[]): Promise<AppendResult[] | undefined> {
    const keys = requests.flatMap((r) => (r.scoped !== undefined ? [r.scoped] : []));
    if (keys.length === 0) return undefined;
    const known = await this.storage.idempotency.lookup(keys);
    for (const r of requests) {
      const earlier = r.scoped !== undefined ? known.get(r.scoped) : undefined;
      if (earlier && !sameContent(earlier.contentDigest, r.digest)) throw new IdempotencyConflictError(clientKeyOf(r.scoped!), earlier.leafIndex);
    }
    if (keys.length !== requests.length || known.size !== new Set(keys).size) return undefined;
    const checkpoint = await this.latestCheckpoint();
    const records = requests.map((r) => known.get(r.scoped!)!);
    if (records.some((rec) => rec.leafIndex >= checkpoint.treeSize)) return undefined;
    return Promise.all(
      records.map(async (rec) => ({
        leafIndex: rec.leafIndex,
        eventId: rec.eventId,
        leafHash: rec.leafHash,
        checkpoint,
        proof: await inclusionProof(this.tiles, rec.leafIndex, checkpoint.treeSize, this.hasher),
        replayed: true,
      })),
    );
  }

  private async stamp(contents: readonly RequestedContent[], recorder: Recorder, system: boolean): Promise<EventContent[]> {
    const named = await this.directory.usersNamedBy(contents.map((c) => c.actor.id));
    const groupsOf = await this.directory.groupIdsOf([...new Set([...named.values()].map((u) => u.id))]);
    const submitter: Submitter | undefined = system ? undefined : { keyId: recorder.keyId, userId: recorder.userId };
    return contents.map(({ explicitGroups, ...content }) => {
      const user = named.get(content.actor.id);
      const actorGroups = user ? (groupsOf.get(user.id) ?? []) : [];
      return {
        ...content,
        groups: stampedGroups(recorder.groupIds, actorGroups, explicitGroups ?? []),
        ...(submitter && { submitter }),
      };
    });
  }

  async latestCheckpoint(): Promise<SignedCheckpoint> {
    if (this.latest) return this.latest;
    const head = await this.storage.head.read();
    // Opening the ledger always signs at least the empty tree, so this only fails mid-start.
    if (!head) throw new LedgerError('UNAVAILABLE', 'no checkpoint has been signed yet');
    if (this.ownsHead) this.keepLatest(head.checkpoint);
    return this.latest ?? head.checkpoint;
  }

  /** Keeps `checkpoint` as the latest unless a newer one was signed meanwhile (while the head was read). */
  private keepLatest(checkpoint: SignedCheckpoint): void {
    if (checkpoint.treeSize >= (this.latest?.treeSize ?? 0)) this.latest = checkpoint;
  }

  /** The checkpoint at `size`, signing one on demand for a past size never checkpointed. */
  async checkpoint(size?: number): Promise<SignedCheckpoint> {
    const latest = await this.latestCheckpoint();
    if (size === undefined || size === latest.treeSize) return latest;
    assertSize('treeSize', size);
    if (size > latest.treeSize) throw new LedgerInputError(`treeSize ${size} is beyond the log's size ${latest.treeSize}`);
    // Past checkpoints are re-signed on demand rather than looked up: the signature is deterministic.
    return this.sequencer.sign(size, await rootHash(this.tiles, size, this.hasher));
  }

  /**
   * The log's size at `points` evenly spaced instants from `from` (default: when the first
   * checkpoint was signed) to `to` (default: now), from the checkpoint archive.
   */
  async sizeHistory(range: { from?: Date | undefined; to?: Date | undefined; points: number }): Promise<SizePoint[]> {
    const to = range.to ?? new Date();
    // Checked before any look-up, so a bad request is refused whatever the archive holds.
    sampleInstants(range.from ?? to, to, range.points);
    const from = range.from ?? (await this.storage.checkpoints.earliest())?.createdAt;
    // Nothing archived yet, or a default start after an explicit end (a window before the
    // log existed): no history.
    if (!from || from > to) return [];
    const instants = sampleInstants(from, to, range.points);
    return sizePoints(instants, await this.storage.checkpoints.latestAt(instants));
  }

  async inclusionProof(leafIndex: number, treeSize?: number): Promise<{ checkpoint: SignedCheckpoint; leafHash: Uint8Array; hashes: Uint8Array[] }> {
    assertSize('leafIndex', leafIndex);
    const checkpoint = await this.checkpoint(treeSize);
    if (leafIndex >= checkpoint.treeSize) {
      throw new LedgerInputError(`leafIndex ${leafIndex} is not below treeSize ${checkpoint.treeSize}`);
    }
    const started = performance.now();
    // The leaf hash comes from the level-0 tile, so a proof never reads the events. One read
    // for the leaf and its path: two concurrent reads would each load (and rehash) the same
    // uncached level-0 tile.
    const [proof] = await inclusionProofsWithLeaves(this.tiles, [leafIndex], checkpoint.treeSize, this.hasher);
    this.metrics.proofServed('inclusion', (performance.now() - started) / 1000);
    return { checkpoint, leafHash: proof!.leafHash, hashes: proof!.hashes };
  }

  async consistencyProof(fromSize: number, toSize?: number): Promise<{ checkpoint: SignedCheckpoint; hashes: Uint8Array[] }> {
    assertSize('fromSize', fromSize);
    const checkpoint = await this.checkpoint(toSize);
    if (fromSize > checkpoint.treeSize) throw new LedgerInputError(`fromSize ${fromSize} is greater than toSize ${checkpoint.treeSize}`);
    const started = performance.now();
    const hashes = await consistencyProof(this.tiles, fromSize, checkpoint.treeSize, this.hasher);
    this.metrics.proofServed('consistency', (performance.now() - started) / 1000);
    return { checkpoint, hashes };
  }

  /** A page of events covered by the latest signed checkpoint (events are readable once signed). */
  async queryEvents(query: EventQuery & { afterLeafIndex?: number; newestFirst?: boolean; limit: number }): Promise<EventPage> {
    const latest = await this.latestCheckpoint();
    const events = await this.storage.events.page({ ...query, treeSize: latest.treeSize, limit: query.limit + 1 });
    return { events: events.slice(0, query.limit), hasMore: events.length > query.limit };
  }

  /**
   * The events below `options.treeSize` matching the query, oldest first, a page at a time:
   * each page is one keyset range read of the port (an index range scan on SQLite), and its
   * proofs one read of the tile cache. The caller pulls the next page once it has written
   * this one, so an export of any size holds one page in memory.
   */
  async *exportPages(query: EventQuery, options: ExportPagesOptions): AsyncGenerator<ProvenEvent[]> {
    let afterLeafIndex: number | undefined;
    let left = options.limit ?? Number.POSITIVE_INFINITY;
    while (left > 0) {
      const limit = Math.min(options.pageSize, left);
      const events = await this.storage.events.flatPage({ ...query, treeSize: options.treeSize, ...(afterLeafIndex !== undefined && { afterLeafIndex }), newestFirst: false, limit });
      if (events.length === 0) return;
      const proofs = options.proofs
        ? await inclusionProofsWithLeaves(
            this.tiles,
            events.map((e) => e.leafIndex),
            options.treeSize,
            this.hasher,
          )
        : undefined;
      yield events.map((event, i) => (proofs ? { event, proof: proofs[i]! } : { event }));
      left -= events.length;
      afterLeafIndex = events.at(-1)!.leafIndex;
      if (events.length < limit) return;
    }
  }

  /**
   * Tile (`level`, `index`) cut to `width` hashes, as the latest signed checkpoint publishes
   * it; undefined when that checkpoint covers fewer: no hash of a leaf past the signed size
   * is ever handed out (the stored tile may already be wider).
   */
  async publishedHashTile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    const latest = await this.latestCheckpoint();
    if (width > publishedWidth(level, index, latest.treeSize)) return undefined;
    const [stored] = await this.storage.tiles.read([{ level, index }]);
    if (!stored || stored.hashes.length < width * HASH_SIZE) {
      throw new LedgerError('CORRUPT', `tile ${level}/${index} holds fewer than the ${width} hashes checkpoint ${latest.treeSize} covers`);
    }
    return stored.hashes.slice(0, width * HASH_SIZE);
  }

  /** The events of entry bundle `index` cut to `width`, when the latest signed checkpoint covers them all. */
  async publishedBundleEvents(index: number, width: number): Promise<{ readonly treeSize: number; readonly events: StoredEvent[] } | undefined> {
    const latest = await this.latestCheckpoint();
    if (width > publishedWidth(0, index, latest.treeSize)) return undefined;
    const { start, end } = bundleLeaves(index, width);
    const events = await this.storage.events.range(start, end);
    if (events.length !== width || events.some((e, i) => e.leafIndex !== start + i)) {
      throw new LedgerError('CORRUPT', `leaves ${start}…${end - 1} are not all stored, though checkpoint ${latest.treeSize} covers them`);
    }
    return { treeSize: latest.treeSize, events };
  }

  async eventByLeafIndex(leafIndex: number): Promise<StoredEvent | undefined> {
    assertSize('leafIndex', leafIndex);
    const latest = await this.latestCheckpoint();
    return leafIndex < latest.treeSize ? this.storage.events.byLeafIndex(leafIndex) : undefined;
  }

  async eventById(id: string): Promise<StoredEvent | undefined> {
    const [latest, event] = await Promise.all([this.latestCheckpoint(), this.storage.events.byId(id)]);
    return event && event.leafIndex < latest.treeSize ? event : undefined;
  }

  /** Counts per key over the events covered by the latest signed checkpoint. */
  async countEvents(key: EventCountKey, query: EventQuery): Promise<EventCount[]> {
    const latest = await this.latestCheckpoint();
    return this.storage.events.countBy(key, query, latest.treeSize);
  }

  /** Counts per key in each period, all over the events of one signed checkpoint (the latest). */
  async countEventsOverTime(key: EventCountKey, query: EventQuery, periods: readonly { from: Date; to: Date }[]): Promise<EventCount[][]> {
    const latest = await this.latestCheckpoint();
    return Promise.all(periods.map(({ from, to }) => this.storage.events.countBy(key, { ...query, from, to }, latest.treeSize)));
  }

  authenticate(token: string | undefined): Promise<Authentication> {
    return authenticate(token, this.storage.apiKeys, this.storage.users);
  }

  /** Shutdown has begun: appends still commit while the database answers, but are not retried once it stops (Sequencer.windDown). */
  windDown(): void {
    this.sequencer.windDown();
  }

  async close(): Promise<void> {
    await this.sequencer.stop();
  }
}

const utf8 = new TextEncoder();

function assertSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new LedgerInputError(`${name} must be a non-negative safe integer`);
}

/** The storage with event content sealed; data keys deleted through it also leave the read cache. */
function sealedStorage(storage: LedgerStorage, keyring: Keyring, cacheEntries: number | undefined): LedgerStorage {
  const cache = new SealedReadCache(cacheEntries);
  return { ...storage, events: new SealedEventRepository(storage.events, storage.lifecycle, keyring, cache), lifecycle: evictingStore(storage.lifecycle, cache) };
}
