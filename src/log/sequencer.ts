/**
 * The sequencer turns append requests into leaves, tiles and a signed checkpoint.
 *
 * Concurrent callers share batches (group commit): while one batch is being written the
 * next one queues. A submission (one recordEvent or recordEvents call) is all or nothing: it
 * is never split across batches, and a submission the database refuses fails alone (the
 * batch is retried with each submission in a batch of its own). Each batch is written in an
 * order that makes every crash recoverable:
 *   0. the log head records the batch's leaf range as pending (compare-and-set on its size:
 *      the fencing check of the lease);
 *   1. the events, in leaf order, with their idempotency records: the durable truth;
 *   2. the hash tiles they complete;
 *   3. the signed checkpoint for the new size, archived, and the head moved to it;
 * and only then are callers answered. On start, or whenever the lease changed hands, the
 * tree state is rebuilt from the head (recovery.ts), and leaves stored by an interrupted
 * batch are replayed, tiled and signed. Every checkpoint is therefore the root of a prefix
 * of one append-only sequence of stored leaves: two signed checkpoints can never disagree.
 */
import type { NoteSigner } from '../checkpoint/signer';
import { signCheckpoint } from '../checkpoint/signer';
import type { EventContent } from '../event/eventRecord';
import type { Logger } from '../logger';
import type { NodeId } from '../merkle/nodeId';
import { inclusionProofs } from '../merkle/proof';
import { EventRejectedError, LeafIndexTakenError } from '../storage/errors';
import type {
  EventRepository,
  IdempotencyRecord,
  IdempotencyRepository,
  LogHeadRepository,
  SignedCheckpoint,
  StoredEvent,
  CheckpointRepository,
} from '../storage/port';
import { bytesToHex } from '../verify';
import type { Rfc6962Hasher } from '../verify/rfc6962';
import { buildEvent, storedSizeEstimate } from './eventBuilder';
import { clientKeyOf, IdempotencyConflictError, sameContent } from './idempotency';
import type { Lease } from './lease';
import { type LedgerMetrics, NO_METRICS } from './metrics';
import { recoverTree, type TreeState } from './recovery';
import type { TileCache } from './tileCache';
import { LedgerError } from '../errors';

export interface AppendRequest {
  readonly content: EventContent;
  /** Idempotency key, already scoped to the caller; absent for none. */
  readonly idempotencyKey?: string;
  /** Digest of the requested content (idempotency.ts); required with a key. */
  readonly contentDigest?: string;
}

export interface AppendResult {
  readonly leafIndex: number;
  readonly eventId: string;
  readonly leafHash: Uint8Array;
  /** The leaf text; absent when the result replays an earlier request. */
  readonly leaf?: string;
  readonly checkpoint: SignedCheckpoint;
  readonly proof: Uint8Array[];
  /** True when an earlier request with the same idempotency key already recorded it. */
  readonly replayed: boolean;
}

/** This process's view of the tree is behind the stored head: rebuild and retry. */
export class StaleStateError extends LedgerError {
  override name = 'StaleStateError';
  constructor(message: string) {
    super('INTERNAL', message);
  }
}

/** The sequencer was stopped before the request could be taken. */
export class SequencerStoppedError extends LedgerError {
  override name = 'SequencerStoppedError';
  constructor() {
    super('UNAVAILABLE', 'the ledger is shutting down');
  }
}

export interface SequencerDeps {
  readonly events: EventRepository;
  readonly tiles: TileCache;
  readonly checkpoints: CheckpointRepository;
  readonly head: LogHeadRepository;
  readonly idempotency: IdempotencyRepository;
  readonly lease: Lease;
  readonly signer: NoteSigner;
  readonly origin: string;
  readonly hasher: Rfc6962Hasher;
  readonly logger: Logger;
  /** Events per batch (a larger single submission still goes whole, alone). */
  readonly maxBatch?: number;
  readonly metrics?: LedgerMetrics;
  /** Told the new size after every checkpoint this sequencer publishes (live feeds, webhooks). */
  readonly onCheckpoint?: (checkpoint: SignedCheckpoint) => void;
  /**
   * While the database does not answer, an append that has waited this long in the queue
   * (never tried in a batch) fails UNAVAILABLE instead of holding its caller: default 30 s.
   */
  readonly queueTimeoutMs?: number;
}

/** An append that waited out a database outage in the queue: nothing of it was written. */
export class AppendQueueTimeoutError extends LedgerError {
  constructor(waitedMs: number, cause: unknown) {
    super(
      'UNAVAILABLE',
      `the database did not answer for ${Math.round(waitedMs / 1000)} s: the event was not recorded; retry it (with the same idempotency key)`,
      { cause },
    );
  }
}

interface Submission {
  readonly requests: readonly AppendRequest[];
  resolve(results: AppendResult[]): void;
  reject(err: unknown): void;
  attempts: number;
  /** After a failed shared batch: commit in a batch of its own, so a bad one fails only itself. */
  alone: boolean;
  /** performance.now() when it was queued: append latency. */
  readonly queuedAt: number;
}

/** Where one request's answer comes from: a leaf of this batch, or an earlier one. */
type Outcome = { readonly event: StoredEvent } | { readonly earlier: IdempotencyRecord };

const MAX_ATTEMPTS = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Sequencer {
  private readonly queue: Submission[] = [];
  private draining = false;
  private state: TreeState | undefined;
  private stopped = false;
  /** Shutting down: a database that fails a round trip is not waited for again (windDown). */
  private windingDown = false;
  /** The last round trip failed: the lease is left to expire rather than released through a dead database. */
  private lastRoundTripFailed = false;
  private syncWanted = false;
  private givenUp = 0;
  private readonly maxBatch: number;
  private readonly queueTimeoutMs: number;
  private readonly metrics: LedgerMetrics;

  constructor(private readonly deps: SequencerDeps) {
    this.maxBatch = deps.maxBatch ?? 5000;
    this.queueTimeoutMs = deps.queueTimeoutMs ?? 30_000;
    this.metrics = deps.metrics ?? NO_METRICS;
  }

  append(requests: readonly AppendRequest[]): Promise<AppendResult[]> {
    if (this.stopped) return Promise.reject(new SequencerStoppedError());
    if (requests.length === 0) return Promise.resolve([]);
    const done = new Promise<AppendResult[]>((resolve, reject) =>
      this.queue.push({ requests, resolve, reject, attempts: 0, alone: false, queuedAt: performance.now() }),
    );
    void this.drain();
    return done;
  }

  /**
   * The server is shutting down: appends are still taken and committed while the database
   * answers (in-flight requests, refusal summaries and dead letters are owed to the log), but a
   * round trip that fails is no longer retried until the database comes back: what is queued
   * fails instead, unacknowledged, so that shutdown never waits on a database that is gone.
   */
  windDown(): void {
    this.windingDown = true;
  }

  /** Waits for queued work (given up as windDown says), then stops taking more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.windingDown = true;
    while (this.draining) await sleep(10);
  }

  /**
   * Brings the stored log up to date (replays events stored after the last checkpoint). It runs
   * in the background through the same loop as appends, so it also waits out the lease of a
   * process that died a moment ago.
   */
  recover(): void {
    this.syncWanted = true;
    void this.drain();
  }

  /** Events whose appends failed because the database did not answer during shutdown. */
  get givenUpEvents(): number {
    return this.givenUp;
  }

  /** The queue's length in events: for metrics and back-pressure. */
  get queuedEvents(): number {
    return this.queue.reduce((n, s) => n + s.requests.length, 0);
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0 || (this.syncWanted && !this.stopped)) {
        // Let pending I/O run first: on a synchronous engine (SQLite) every storage call resolves
        // at once, so without this the loop would commit each request alone and hold the event
        // loop while others wait to be parsed; with it, requests that arrived meanwhile join
        // the batch (group commit).
        await new Promise<void>((resolve) => setImmediate(resolve));
        try {
          await this.step();
        } catch (err) {
          // A lease round trip failed (engine busy or unreachable): nothing was written.
          this.lastRoundTripFailed = true;
          if (this.windingDown) {
            this.failAllQueued(err);
            continue;
          }
          this.deps.logger.warn({ err }, 'sequencer lease operation failed; retrying');
          this.failStale(err);
          await sleep(100);
        }
      }
      if (!this.lastRoundTripFailed) await this.deps.lease.release().catch(() => undefined);
    } finally {
      this.draining = false;
      // An append that arrived while the loop was winding down must not be stranded.
      if (this.queue.length > 0) void this.drain();
    }
  }

  /** Shutting down with the database unreachable: everything queued fails, unacknowledged. */
  private failAllQueued(err: unknown): void {
    this.syncWanted = false;
    this.givenUp += this.failQueued(
      () => true,
      () => err,
      err,
      'shutting down: the database does not answer; queued appends fail unacknowledged',
    );
  }

  /**
   * The database has not answered a lease round trip: appends queued longer than the timeout
   * fail, so callers learn of the outage instead of hanging on it. Only those never tried in a
   * batch: nothing of them can have been written, so failing them can never lose an
   * acknowledged event nor hide a recorded one from a retry.
   */
  private failStale(err: unknown): void {
    const now = performance.now();
    this.failQueued(
      (s) => s.attempts === 0 && now - s.queuedAt >= this.queueTimeoutMs,
      (s) => new AppendQueueTimeoutError(now - s.queuedAt, err),
      err,
      'the database does not answer: appends queued too long fail unrecorded',
    );
  }

  /** Takes the submissions `which` picks out of the queue and fails each; answers how many events they held. */
  private failQueued(which: (s: Submission) => boolean, errorOf: (s: Submission) => unknown, cause: unknown, message: string): number {
    const failed = this.queue.filter(which);
    if (failed.length === 0) return 0;
    this.queue.splice(0, this.queue.length, ...this.queue.filter((s) => !which(s)));
    const events = failed.reduce((n, s) => n + s.requests.length, 0);
    this.deps.logger.error({ err: cause, submissions: failed.length, events }, message);
    for (const s of failed) s.reject(errorOf(s));
    return events;
  }

  private takeBatch(): Submission[] {
    const first = this.queue[0];
    if (!first) return [];
    if (first.alone) return this.queue.splice(0, 1);
    let events = 0;
    let n = 0;
    for (const s of this.queue) {
      if (s.alone || (n > 0 && events + s.requests.length > this.maxBatch)) break;
      events += s.requests.length;
      n++;
    }
    return this.queue.splice(0, n);
  }

  /** One turn of the loop: hold the lease, be in sync, commit one batch. */
  private async step(): Promise<void> {
    const held = await this.deps.lease.acquire();
    if (!held) {
      await sleep(20);
      return;
    }
    const batch = this.takeBatch();
    try {
      if (!this.state || this.state.token !== held.token) {
        this.deps.tiles.forgetPartialTiles();
        this.state = await this.rebuild(held.token);
      }
      this.syncWanted = false;
      if (batch.length > 0) await this.commit(batch, this.state);
      this.lastRoundTripFailed = false;
    } catch (err) {
      this.state = undefined;
      this.lastRoundTripFailed = true;
      this.deps.logger.error({ err, submissions: batch.length }, 'append batch failed');
      const shared = batch.length > 1;
      const retry: Submission[] = [];
      for (const s of batch) {
        s.attempts++;
        // Refused by the database on its own: retrying cannot help.
        const hopeless = !shared && err instanceof EventRejectedError;
        if (hopeless || s.attempts >= MAX_ATTEMPTS) s.reject(err);
        else retry.push(Object.assign(s, { alone: s.alone || shared }));
      }
      this.queue.unshift(...retry);
      if (!shared) await sleep(50);
    }
    if (held.wantedBy) await this.deps.lease.release(held.wantedBy);
  }

  private async commit(batch: Submission[], state: TreeState): Promise<void> {
    const { events, tiles, hasher, head, idempotency } = this.deps;
    const keys = [...new Set(batch.flatMap((s) => s.requests.flatMap((r) => (r.idempotencyKey ? [r.idempotencyKey] : []))))];
    const known = keys.length > 0 ? await idempotency.lookup(keys) : new Map<string, IdempotencyRecord>();
    const from = state.range.size;
    const fresh: StoredEvent[] = [];
    /** Keys first used in this batch: the event and the digest it was sent with. */
    const batchKeys = new Map<string, StoredEvent>();
    let now = Math.max(Date.now(), state.lastRecordedAt);
    const accepted: { submission: Submission; outcomes: Outcome[] }[] = [];
    for (const submission of batch) {
      const mark = fresh.length;
      const added: string[] = [];
      try {
        const outcomes = submission.requests.map((request): Outcome => {
          const key = request.idempotencyKey;
          if (key !== undefined) {
            const earlier = known.get(key);
            if (earlier) {
              if (!sameContent(earlier.contentDigest, request.contentDigest)) throw new IdempotencyConflictError(clientKeyOf(key), earlier.leafIndex);
              return { earlier };
            }
            const sibling = batchKeys.get(key);
            if (sibling) {
              if (!sameContent(sibling.contentDigest, request.contentDigest)) throw new IdempotencyConflictError(clientKeyOf(key), sibling.leafIndex);
              return { event: sibling };
            }
          }
          const event = buildEvent(
            {
              content: request.content,
              leafIndex: from + fresh.length,
              recordedAt: now,
              ...(key !== undefined && { idempotencyKey: key, contentDigest: request.contentDigest ?? '' }),
            },
            hasher,
          );
          if (storedSizeEstimate(event) > events.maxEventBytes) {
            throw new EventRejectedError(`the event is too large to store (limit ${events.maxEventBytes} bytes)`);
          }
          fresh.push(event);
          if (key !== undefined) {
            batchKeys.set(key, event);
            added.push(key);
          }
          return { event };
        });
        accepted.push({ submission, outcomes });
      } catch (err) {
        // Only this submission fails; its leaves are taken back before anyone else's follow.
        fresh.length = mark;
        for (const key of added) batchKeys.delete(key);
        submission.reject(err);
      }
    }
    if (fresh.length > 0) {
      const t0 = performance.now();
      if (!(await head.markPending(from, from + fresh.length))) {
        throw new StaleStateError(`the log head moved past ${from} under this sequencer; resyncing`);
      }
      const t1 = performance.now();
      try {
        await events.append(fresh);
      } catch (err) {
        if (err instanceof LeafIndexTakenError) throw new StaleStateError(`leaf ${err.leafIndex} was written by another sequencer; resyncing`);
        throw err;
      }
      const t2 = performance.now();
      state.lastRecordedAt = now;
      await this.extend(state, fresh.map((e) => e.leafHash));
      // Per-phase timings show where a batch spends its time (the engine, usually).
      const timing = { events: fresh.length, pendingMs: t1 - t0, insertMs: t2 - t1, treeAndCheckpointMs: performance.now() - t2 };
      this.metrics.batchCommitted(timing);
      const { events: batch, ...phases } = timing;
      this.deps.logger.debug({ size: state.range.size, batch, ...phases }, 'batch committed');
    }
    now = state.lastRecordedAt;
    const checkpoint = state.checkpoint;
    // Every receipt's proof at once: the batch's leaves share most of their audit paths.
    const indices = accepted.flatMap(({ outcomes }) => outcomes.map((o) => ('event' in o ? o.event.leafIndex : o.earlier.leafIndex)));
    const proofs = await inclusionProofs(tiles, indices, checkpoint.treeSize, hasher);
    let next = 0;
    for (const { submission, outcomes } of accepted) {
      const results = outcomes.map((o): AppendResult => {
        const proof = proofs[next++]!;
        return 'event' in o
          ? { leafIndex: o.event.leafIndex, eventId: o.event.id, leafHash: o.event.leafHash, leaf: o.event.leaf, checkpoint, proof, replayed: false }
          : { leafIndex: o.earlier.leafIndex, eventId: o.earlier.eventId, leafHash: o.earlier.leafHash, checkpoint, proof, replayed: true };
      });
      submission.resolve(results);
      this.metrics.appendAnswered((performance.now() - submission.queuedAt) / 1000);
    }
  }

  /** Appends leaf hashes to the tree, persists the tiles, signs and publishes the checkpoint. */
  private async extend(state: TreeState, leafHashes: readonly Uint8Array[]): Promise<void> {
    const completed: { id: NodeId; hash: Uint8Array }[] = [];
    state.range.append(leafHashes, this.deps.hasher, (id, hash) => completed.push({ id, hash }));
    await this.deps.tiles.write(completed);
    const checkpoint = this.sign(state.range.size, state.range.root(this.deps.hasher));
    await this.deps.checkpoints.save(checkpoint);
    await this.deps.head.advance(checkpoint, state.lastRecordedAt);
    state.checkpoint = checkpoint;
    this.deps.onCheckpoint?.(checkpoint);
  }

  /** Signs a checkpoint (deterministic: the same size and root always give the same note). */
  sign(size: number, root: Uint8Array): SignedCheckpoint {
    const note = signCheckpoint({ origin: this.deps.origin, treeSize: size, rootHash: root }, this.deps.signer);
    return { treeSize: size, rootHash: bytesToHex(root), note, createdAt: new Date() };
  }

  /** Signs and publishes the empty tree for a new log (idempotent). */
  async initialise(): Promise<void> {
    if (await this.deps.head.read()) return;
    const empty = this.sign(0, this.deps.hasher.emptyRoot());
    await this.deps.checkpoints.save(empty);
    await this.deps.head.advance(empty, 0);
  }

  private async rebuild(token: number): Promise<TreeState> {
    const { events, tiles, head, hasher, logger, idempotency } = this.deps;
    const recovered = await recoverTree({ head: await head.read(), token, tiles, range: (a, b) => events.range(a, b), hasher });
    const { state, replay } = recovered;
    if (!recovered.interrupted) return state;
    logger.warn({ from: state.range.size, stored: replay.length }, 'recovering a batch interrupted after the last checkpoint');
    // Engines without transactions may have stored the events but not their idempotency records.
    await idempotency.remember(
      replay.flatMap((e) =>
        e.idempotencyKey !== undefined
          ? [{ key: e.idempotencyKey, leafIndex: e.leafIndex, eventId: e.id, leafHash: e.leafHash, contentDigest: e.contentDigest ?? '' }]
          : [],
      ),
    );
    if (replay.length > 0) {
      state.lastRecordedAt = Math.max(state.lastRecordedAt, replay.at(-1)!.recordedAt.getTime());
      await this.extend(state, replay.map((e) => e.leafHash));
    } else {
      await head.advance(state.checkpoint, state.lastRecordedAt);
    }
    return state;
  }
}
