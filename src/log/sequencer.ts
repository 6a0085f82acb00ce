/**
 * The sequencer turns append requests into leaves, tiles and a signed checkpoint.
 *
 * Concurrent callers share batches (group commit): while one batch is being written the
 * next one queues. Each batch is written in an order that makes every crash recoverable
 * without transactions:
 *   1. the events, in leaf order (`_id` = leaf index, unique): the durable truth;
 *   2. the hash tiles they complete (idempotent, width-guarded);
 *   3. the signed checkpoint for the new size (deterministic, insert-once);
 * and only then are callers answered. On start, or whenever the lease changed hands, the
 * tree state is rebuilt from the latest checkpoint's tiles and any events stored after it
 * are replayed (re-hashed from their leaf text), tiled and signed. Every checkpoint is
 * therefore the root of a prefix of one append-only sequence of stored leaves: two signed
 * checkpoints can never disagree.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Binary } from 'mongodb';
import type { NoteSigner } from '../checkpoint/signer';
import { signCheckpoint } from '../checkpoint/signer';
import type { EventContent } from '../event/eventRecord';
import { CompactRange } from '../merkle/compactRange';
import type { NodeId } from '../merkle/nodeId';
import { inclusionProof, rootNodes } from '../merkle/proof';
import { bytesEqual } from '../verify/bytes';
import type { Rfc6962Hasher } from '../verify/rfc6962';
import type { Logger } from '../logger';
import type { CheckpointDoc, CheckpointStore } from './checkpointStore';
import type { IdempotencyStore } from './idempotencyStore';
import type { LogHead } from './logHead';
import { type EventDoc, type EventStore, leafOfDoc } from './eventStore';
import type { Lease } from './lease';
import type { TileStore } from './tileStore';
import { bytesToHex } from '../verify';

export interface AppendRequest {
  readonly content: EventContent;
  /** Client idempotency key, already scoped to the caller; absent for none. */
  readonly idempotencyKey?: string;
}

export interface AppendResult {
  readonly event: EventDoc;
  readonly checkpoint: CheckpointDoc;
  readonly proof: Uint8Array[];
  /** True when an earlier request with the same idempotency key already recorded it. */
  readonly replayed: boolean;
}

export class LogCorruptionError extends Error {
  override readonly name = 'LogCorruptionError';
}

/** This process's view of the tree is behind the stored head: rebuild and retry. */
export class StaleStateError extends Error {
  override readonly name = 'StaleStateError';
}

export interface SequencerDeps {
  readonly events: EventStore;
  readonly tiles: TileStore;
  readonly checkpoints: CheckpointStore;
  readonly head: LogHead;
  readonly idempotency: IdempotencyStore;
  readonly lease: Lease;
  readonly signer: NoteSigner;
  readonly origin: string;
  readonly hasher: Rfc6962Hasher;
  readonly logger: Logger;
  readonly maxBatch?: number;
}

interface Pending {
  readonly request: AppendRequest;
  resolve(result: AppendResult): void;
  reject(err: unknown): void;
  attempts: number;
}

interface TreeState {
  readonly token: number;
  readonly range: CompactRange;
  lastRecordedAt: number;
  checkpoint: CheckpointDoc;
}

const utf8 = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Sequencer {
  private readonly queue: Pending[] = [];
  private draining = false;
  private state: TreeState | undefined;
  private stopped = false;
  private syncWanted = false;
  private readonly maxBatch: number;

  constructor(private readonly deps: SequencerDeps) {
    this.maxBatch = deps.maxBatch ?? 5000;
  }

  append(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (this.stopped) return Promise.reject(new Error('the sequencer is stopped'));
    const results = requests.map(
      (request) =>
        new Promise<AppendResult>((resolve, reject) => this.queue.push({ request, resolve, reject, attempts: 0 })),
    );
    void this.drain();
    return Promise.all(results);
  }

  /** Waits for queued work, then stops taking more. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.draining) await sleep(10);
  }

  /**
   * Brings the stored log up to date (replays events stored after the last checkpoint). It runs
   * in the background through the same loop as appends, so it also waits out the lease of a
   * process that died a moment ago, and events stored just before a crash get checkpointed
   * without waiting for the next append.
   */
  recover(): void {
    this.syncWanted = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 || (this.syncWanted && !this.stopped)) {
        try {
          await this.step();
        } catch (err) {
          // A lease round trip failed (engine busy or unreachable): nothing was written; retry.
          this.deps.logger.warn({ err }, 'sequencer lease operation failed; retrying');
          await sleep(100);
        }
      }
      await this.deps.lease.release().catch(() => undefined);
    } finally {
      this.draining = false;
      // An append that arrived while the loop was winding down must not be stranded.
      if (this.queue.length > 0) void this.drain();
    }
  }

  /** One turn of the loop: hold the lease, be in sync, commit one batch. */
  private async step(): Promise<void> {
    const held = await this.deps.lease.acquire();
    if (!held) {
      await sleep(20);
      return;
    }
    const batch = this.queue.splice(0, this.maxBatch);
    try {
      if (!this.state || this.state.token !== held.token) {
        this.deps.tiles.forgetPartialTiles();
        this.state = await this.rebuild(held.token);
      }
      this.syncWanted = false;
      if (batch.length > 0) await this.commit(batch, this.state);
    } catch (err) {
      this.state = undefined;
      this.deps.logger.error({ err, batch: batch.length }, 'append batch failed');
      const retry = batch.filter((p) => ++p.attempts < 3);
      for (const p of batch) if (p.attempts >= 3) p.reject(err);
      this.queue.unshift(...retry);
      await sleep(50);
    }
    if (held.wantedBy) await this.deps.lease.release(held.wantedBy);
  }

  private async commit(batch: Pending[], state: TreeState): Promise<void> {
    const { events, tiles, hasher, head, idempotency } = this.deps;
    const keys = [...new Set(batch.flatMap((p) => (p.request.idempotencyKey ? [p.request.idempotencyKey] : [])))];
    const existing = new Map<string, EventDoc>();
    for (const [key, leafIndex] of await idempotency.lookup(keys)) {
      const doc = await events.byLeafIndex(leafIndex);
      if (doc) existing.set(key, doc);
    }
    const fresh: EventDoc[] = [];
    const docFor: EventDoc[] = [];
    const replayed: boolean[] = [];
    let now = Math.max(Date.now(), state.lastRecordedAt);
    for (const p of batch) {
      const key = p.request.idempotencyKey;
      const earlier = key ? existing.get(key) : undefined;
      if (earlier) {
        docFor.push(earlier);
        replayed.push(true);
        continue;
      }
      const id = randomUUID();
      const recordedAt = new Date(now);
      const salt = randomBytes(16).toString('hex');
      const content = p.request.content;
      const fields = {
        id,
        action: content.action,
        actor: { ...content.actor },
        ...(content.target && { target: content.target }),
        outcome: content.outcome,
        ...(content.reason !== undefined && { reason: content.reason }),
        ...(content.occurredAt !== undefined && { occurredAt: new Date(content.occurredAt) }),
        ...(content.source && { source: content.source }),
        ...(content.metadata !== undefined && { metadata: JSON.stringify(content.metadata) }),
        groups: [...content.groups],
        recordedAt,
        salt,
      };
      // The leaf is derived from the stored fields, so verify-db can re-derive it the same way.
      const leaf = leafOfDoc(fields);
      const doc: EventDoc = {
        _id: state.range.size + fresh.length,
        ...fields,
        leaf,
        leafHash: new Binary(hasher.leafHash(utf8.encode(leaf))),
        idem: key ?? `id:${id}`,
      };
      fresh.push(doc);
      docFor.push(doc);
      replayed.push(false);
      if (key) existing.set(key, doc);
      now = Math.max(now, recordedAt.getTime());
    }
    if (fresh.length > 0) {
      const from = state.range.size;
      const t0 = performance.now();
      if (!(await head.markPending(from, from + fresh.length))) {
        throw new StaleStateError(`the log head moved past ${from} under this sequencer; resyncing`);
      }
      const t1 = performance.now();
      await events.insertBatch(fresh);
      const t2 = performance.now();
      await idempotency.remember(idempotencyEntries(fresh));
      state.lastRecordedAt = now;
      const t3 = performance.now();
      await this.extend(state, fresh.map((d) => d.leafHash.buffer));
      // Per-phase timings show where a batch spends its time (the engine, usually).
      this.deps.logger.debug(
        { size: state.range.size, batch: fresh.length, pendingMs: t1 - t0, insertMs: t2 - t1, treeAndCheckpointMs: performance.now() - t3 },
        'batch committed',
      );
    }
    const checkpoint = state.checkpoint;
    const proofs = await Promise.all(
      docFor.map((doc) => inclusionProof(tiles, doc._id, checkpoint._id, hasher)),
    );
    batch.forEach((p, i) => p.resolve({ event: docFor[i]!, checkpoint, proof: proofs[i]!, replayed: replayed[i]! }));
  }

  /** Appends leaf hashes to the tree, persists the tiles, signs and stores the checkpoint. */
  private async extend(state: TreeState, leafHashes: readonly Uint8Array[]): Promise<void> {
    const completed: { id: NodeId; hash: Uint8Array }[] = [];
    state.range.append(leafHashes, this.deps.hasher, (id, hash) => completed.push({ id, hash }));
    const t0 = performance.now();
    await this.deps.tiles.write(completed);
    this.deps.logger.debug({ tilesMs: performance.now() - t0 }, 'tiles written');
    state.checkpoint = await this.publish(this.sign(state.range.size, state.range.root(this.deps.hasher)), state);
  }

  /** Archives the checkpoint and moves the head to it (which also clears `pending`). */
  private async publish(checkpoint: CheckpointDoc, state: TreeState): Promise<CheckpointDoc> {
    await this.deps.checkpoints.save(checkpoint);
    await this.deps.head.advance(checkpoint, state.lastRecordedAt);
    return checkpoint;
  }

  /** Signs a checkpoint (deterministic: the same size and root always give the same note). */
  sign(size: number, root: Uint8Array): CheckpointDoc {
    const note = signCheckpoint({ origin: this.deps.origin, treeSize: size, rootHash: root }, this.deps.signer);
    return { _id: size, rootHash: bytesToHex(root), note, createdAt: new Date() };
  }

  /** Signs and publishes the empty tree for a new log (idempotent). */
  async initialise(): Promise<void> {
    if (await this.deps.head.read()) return;
    const empty = this.sign(0, this.deps.hasher.emptyRoot());
    await this.deps.checkpoints.save(empty);
    await this.deps.head.advance(empty, 0);
  }

  private async rebuild(token: number): Promise<TreeState> {
    const { events, tiles, head, hasher, logger } = this.deps;
    const current = await head.read();
    if (!current) throw new LogCorruptionError('the log head is missing (was the database initialised?)');
    const size = current.size;
    const hashes = size > 0 ? await tiles.readNodes(rootNodes(size)) : [];
    const range = CompactRange.fromNodes(size, hashes);
    const root = bytesToHex(range.root(hasher));
    if (root !== current.rootHash) {
      throw new LogCorruptionError(
        `stored subtree hashes give root ${root} at size ${size}, but the signed head says ${current.rootHash}; ` +
          'run `audit-ledger verify-db`',
      );
    }
    const state: TreeState = {
      token,
      range,
      lastRecordedAt: current.lastRecordedAt,
      checkpoint: { _id: size, rootHash: current.rootHash, note: current.note, createdAt: current.signedAt },
    };
    if (current.pending) {
      // A batch was being written when its sequencer stopped: keep whatever prefix of it is stored.
      // The interrupted batch may have been partly covered by a later head: replay from the head.
      const from = size;
      const to = Math.max(current.pending.to, size);
      logger.warn({ from, to }, 'recovering a batch interrupted after the last checkpoint');
      const docs: EventDoc[] = [];
      for await (const doc of events.range(from, to)) docs.push(doc);
      docs.sort((a, b) => a._id - b._id);
      const contiguous = docs.filter((d, i) => d._id === from + i);
      const leafHashes = contiguous.map((doc) => {
        const hash = hasher.leafHash(utf8.encode(doc.leaf));
        if (!bytesEqual(hash, doc.leafHash.buffer)) throw new LogCorruptionError(`leaf ${doc._id}: stored leaf hash does not match its leaf text`);
        return hash;
      });
      await this.deps.idempotency.remember(idempotencyEntries(contiguous));
      if (contiguous.length > 0) state.lastRecordedAt = Math.max(state.lastRecordedAt, contiguous.at(-1)!.recordedAt.getTime());
      if (leafHashes.length > 0) await this.extend(state, leafHashes);
      else await head.advance(state.checkpoint, state.lastRecordedAt);
    }
    return state;
  }
}

function idempotencyEntries(docs: readonly EventDoc[]): { _id: string; leafIndex: number }[] {
  return docs.filter((d) => d.idem.startsWith('k:')).map((d) => ({ _id: d.idem, leafIndex: d._id }));
}
