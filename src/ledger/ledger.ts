/**
 * The ledger service: the one place the shell (GraphQL, HTTP, CLI) goes to record events,
 * read them, and obtain checkpoints and proofs. It owns the collections and the sequencer.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import { ApiKeyStore, API_KEYS_COLLECTION, type ApiKeyDoc } from '../auth/apiKeyStore';
import { ensureCollection } from '../db/collections';
import { type Authentication, authenticate } from '../auth/authentication';
import { Directory } from '../directory/directory';
import type { EventContent } from '../event/eventRecord';
import type { SelfEvent } from './selfEvent';
import type { Logger } from '../logger';
import { consistencyProof, inclusionProof, rootHash } from '../merkle/proof';
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import { CHECKPOINTS_COLLECTION, type CheckpointDoc, CheckpointStore } from '../log/checkpointStore';
import { type EventCountKey, EVENTS_COLLECTION, type EventDoc, type EventQuery, EventStore } from '../log/eventStore';
import { IDEMPOTENCY_COLLECTION, IdempotencyStore } from '../log/idempotencyStore';
import { Lease, LEASES_COLLECTION } from '../log/lease';
import { LOG_HEAD_COLLECTION, LogHead } from '../log/logHead';
import { type AppendResult, Sequencer } from '../log/sequencer';
import { loadOrCreateSigningKey } from '../log/signingKeyFile';
import { TILES_COLLECTION, TileStore } from '../log/tileStore';
import type { NoteSigner } from '../checkpoint/signer';

/** A request that names something that cannot exist: maps to BAD_USER_INPUT. */
export class LedgerInputError extends Error {
  override readonly name = 'LedgerInputError';
}

export interface LedgerOptions {
  readonly db: Db;
  readonly logger: Logger;
  readonly signingKeyFile: string;
  readonly origin: string | undefined;
  readonly leaseTtlMs?: number;
}

export interface RecordRequest {
  readonly content: EventContent;
  readonly idempotencyKey?: string;
  /** Scope of idempotency keys: the credential that sent them. */
  readonly credentialId: string;
}

/** Idempotency scope of the ledger's own events (they carry no idempotency keys). */
const SYSTEM_CREDENTIAL = 'system';

export class Ledger {
  readonly events: EventStore;
  readonly apiKeys: ApiKeyStore;
  readonly directory: Directory;
  private readonly checkpoints: CheckpointStore;
  private readonly head: LogHead;
  private readonly tiles: TileStore;
  private readonly sequencer: Sequencer;
  readonly hasher = nodeCryptoRfc6962;

  private constructor(
    db: Db,
    readonly origin: string,
    readonly signer: NoteSigner,
    logger: Logger,
    leaseTtlMs: number,
  ) {
    this.events = new EventStore(db.collection(EVENTS_COLLECTION.name));
    this.apiKeys = new ApiKeyStore(db.collection(API_KEYS_COLLECTION.name));
    this.directory = new Directory(db);
    this.checkpoints = new CheckpointStore(db.collection(CHECKPOINTS_COLLECTION.name));
    this.head = new LogHead(db.collection(LOG_HEAD_COLLECTION.name));
    this.tiles = new TileStore(db.collection(TILES_COLLECTION.name), this.hasher);
    this.sequencer = new Sequencer({
      events: this.events,
      tiles: this.tiles,
      checkpoints: this.checkpoints,
      head: this.head,
      idempotency: new IdempotencyStore(db.collection(IDEMPOTENCY_COLLECTION.name)),
      lease: new Lease(db.collection(LEASES_COLLECTION.name), randomUUID(), leaseTtlMs),
      signer,
      origin,
      hasher: this.hasher,
      logger,
    });
  }

  static async open(options: LedgerOptions): Promise<Ledger> {
    for (const def of [EVENTS_COLLECTION, TILES_COLLECTION, CHECKPOINTS_COLLECTION, LOG_HEAD_COLLECTION, IDEMPOTENCY_COLLECTION, LEASES_COLLECTION, API_KEYS_COLLECTION]) {
      await ensureCollection(options.db, def);
    }
    await Directory.ensureCollections(options.db);
    const key = await loadOrCreateSigningKey(options.signingKeyFile, options.origin);
    if (key.created) options.logger.info({ file: options.signingKeyFile, origin: key.origin }, 'created the log signing key');
    const ledger = new Ledger(options.db, key.origin, key.signer, options.logger, options.leaseTtlMs ?? 3000);
    // A new log starts with a signed empty tree (deterministic, so any process may sign it).
    await ledger.sequencer.initialise();
    ledger.sequencer.recover();
    return ledger;
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  async record(requests: readonly RecordRequest[]): Promise<AppendResult[]> {
    return this.sequencer.append(
      requests.map((r) => ({
        content: r.content,
        ...(r.idempotencyKey && { idempotencyKey: `k:${r.credentialId}:${r.idempotencyKey}` }),
      })),
    );
  }

  async latestCheckpoint(): Promise<CheckpointDoc> {
    const latest = await this.head.checkpoint();
    // Opening the ledger always signs at least the empty tree, so this only fails mid-start.
    if (!latest) throw new Error('no checkpoint has been signed yet');
    return latest;
  }

  /** The checkpoint at `size`, signing one on demand for a past size never checkpointed. */
  async checkpoint(size?: number): Promise<CheckpointDoc> {
    const latest = await this.latestCheckpoint();
    if (size === undefined || size === latest._id) return latest;
    assertSize('treeSize', size);
    if (size > latest._id) throw new LedgerInputError(`treeSize ${size} is beyond the log's size ${latest._id}`);
    // Past checkpoints are re-signed on demand rather than looked up: the signature is
    // deterministic, and a primary-key read is a scan on FerretDB.
    return this.sequencer.sign(size, await rootHash(this.tiles, size, this.hasher));
  }

  async inclusionProof(leafIndex: number, treeSize?: number): Promise<{ checkpoint: CheckpointDoc; leafHash: Uint8Array; hashes: Uint8Array[] }> {
    assertSize('leafIndex', leafIndex);
    const checkpoint = await this.checkpoint(treeSize);
    if (leafIndex >= checkpoint._id) {
      throw new LedgerInputError(`leafIndex ${leafIndex} is not below treeSize ${checkpoint._id}`);
    }
    // The leaf hash comes from the level-0 tile, so a proof never reads the events collection.
    const [[leafHash], hashes] = await Promise.all([
      this.tiles.readNodes([{ level: 0, index: leafIndex }]),
      inclusionProof(this.tiles, leafIndex, checkpoint._id, this.hasher),
    ]);
    return { checkpoint, leafHash: leafHash!, hashes };
  }

  async consistencyProof(fromSize: number, toSize?: number): Promise<{ checkpoint: CheckpointDoc; hashes: Uint8Array[] }> {
    assertSize('fromSize', fromSize);
    const checkpoint = await this.checkpoint(toSize);
    if (fromSize > checkpoint._id) throw new LedgerInputError(`fromSize ${fromSize} is greater than toSize ${checkpoint._id}`);
    return { checkpoint, hashes: await consistencyProof(this.tiles, fromSize, checkpoint._id, this.hasher) };
  }

  /** Events are readable once covered by a signed checkpoint. */
  async queryEvents(query: EventQuery): Promise<EventDoc[]> {
    const latest = await this.latestCheckpoint();
    const docs = await this.events.query(query);
    return docs.filter((d) => d._id < latest._id);
  }

  async eventByLeafIndex(leafIndex: number): Promise<EventDoc | null> {
    assertSize('leafIndex', leafIndex);
    const latest = await this.latestCheckpoint();
    return leafIndex < latest._id ? this.events.byLeafIndex(leafIndex) : null;
  }

  async eventById(id: string): Promise<EventDoc | null> {
    const [latest, doc] = await Promise.all([this.latestCheckpoint(), this.events.byId(id)]);
    return doc && doc._id < latest._id ? doc : null;
  }

  /** Counts per key over the events covered by the latest signed checkpoint. */
  async countEvents(key: EventCountKey, query: Omit<EventQuery, 'limit' | 'afterLeafIndex' | 'newestFirst'>): Promise<{ key: string; count: number }[]> {
    const latest = await this.latestCheckpoint();
    return this.events.countBy(key, query, latest._id);
  }

  authenticate(token: string | undefined): Promise<Authentication> {
    return authenticate(token, this.apiKeys, this.directory.users);
  }

  /**
   * Adds groups to events: an actor who is a directory user gets that user's groups as of now
   * (a snapshot: later membership changes never rewrite recorded events), plus any explicit
   * groups the caller was allowed to add.
   */
  async withActorGroups(contents: readonly (Omit<EventContent, 'groups'> & { readonly explicitGroups?: readonly string[] })[]): Promise<EventContent[]> {
    const actorIds = [...new Set(contents.map((c) => c.actor.id))];
    const known = new Set((await this.directory.users.byIds(actorIds)).map((u) => u._id));
    const groupsOf = await this.directory.groups.groupIdsOf([...known]);
    return contents.map(({ explicitGroups, ...content }) => ({
      ...content,
      groups: [...new Set([...(groupsOf.get(content.actor.id) ?? []), ...(explicitGroups ?? [])])].sort(),
    }));
  }

  /**
   * Records the ledger's own actions as ordinary events. Never call this from inside the
   * sequencer: it waits for the sequencer to checkpoint the event.
   */
  async recordSelf(events: readonly SelfEvent[]): Promise<void> {
    if (events.length === 0) return;
    const contents = await this.withActorGroups(events);
    await this.record(contents.map((content) => ({ content, credentialId: SYSTEM_CREDENTIAL })));
  }

  async close(): Promise<void> {
    await this.sequencer.stop();
  }
}

function assertSize(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new LedgerInputError(`${name} must be a non-negative safe integer`);
}

export type { ApiKeyDoc };
