/**
 * Witness cosigning on the log side (C2SP tlog-witness): after a checkpoint is signed, each
 * configured witness is sent it with a consistency proof from the size that witness last
 * cosigned, and the cosignature it answers with is stored (storage port, shared by every
 * server on the database) to be published with that checkpoint.
 *
 * - Never in the append path: appends and publishing go on whatever the witnesses do. Each
 *   witness has one request in flight at most, always for the newest head; checkpoints
 *   signed meanwhile are skipped (the next request's proof covers them).
 * - 409 tells the witness's size: retried at once with a proof from it (a few times).
 *   Other refusals and timeouts are logged and counted, and retried with exponential
 *   back-off a bounded number of times; then the next checkpoint or republish tries again.
 * - The witness's size is learned from its answers (200 and 409), not persisted: a restart
 *   costs one 409.
 * - A quiet log re-sends its head every republish interval, so the cosignatures' timestamps
 *   show a monitor that the log is quiet, not frozen.
 * - With `waitForQuorum`, receipts wait (bounded) for a checkpoint covering them that
 *   `quorum` witnesses cosigned, and carry it.
 */
import type { WitnessEndpoint, WitnessingConfig } from '../config';
import { LedgerError } from '../errors';
import type { Logger } from '../logger';
import type { CosignatureRepository, LogHeadRepository, SignedCheckpoint } from '../storage/port';
import { parseWitnessKey, type WitnessVerifier } from '../verify/cosignature';
import { formatKeyId } from '../verify/note';
import { withCosignatures } from './addCheckpoint';
import { addCheckpoint, type AddCheckpointOutcome, type FetchLike } from './witnessClient';

/** How a witness request ended, for metrics. */
export type WitnessOutcomeLabel = 'cosigned' | 'conflict' | 'refused' | 'unreachable' | 'ahead';

export interface WitnessMetrics {
  witnessRequest(witness: string, outcome: WitnessOutcomeLabel): void;
  /** The witness's newest cosignature: the size it covers and its timestamp (Unix seconds). */
  witnessCosigned(witness: string, treeSize: number, timestamp: number): void;
}

export const NO_WITNESS_METRICS: WitnessMetrics = { witnessRequest: () => undefined, witnessCosigned: () => undefined };

/** Receipts were asked to wait for witness cosignatures, and not enough came in time. */
export class WitnessQuorumNotMetError extends LedgerError {
  override name = 'WitnessQuorumNotMetError';
  constructor(message: string) {
    super('WITNESS_QUORUM_NOT_MET', message);
  }
}

export interface WitnessingDeps {
  readonly config: WitnessingConfig;
  readonly head: LogHeadRepository;
  readonly cosignatures: CosignatureRepository;
  /** RFC 6962 consistency proof between two sizes of the log, the larger at most the head. */
  readonly consistencyProof: (fromSize: number, toSize: number) => Promise<Uint8Array[]>;
  readonly logger: Logger;
  readonly metrics?: WitnessMetrics;
  readonly fetch?: FetchLike;
}

interface WitnessState {
  readonly endpoint: WitnessEndpoint;
  readonly verifier: WitnessVerifier;
  /** Key ID, 8 hex digits: how its cosignature is stored. */
  readonly id: string;
  /** The size the witness last cosigned, as far as we know (undefined: not yet known). */
  knownSize: number | undefined;
  /** Newest cosignature we hold from it: the size and timestamp (Unix seconds). */
  cosigned: { treeSize: number; timestamp: number } | undefined;
  running: boolean;
  /** Asked to run again while running. */
  again: boolean;
  /** Consecutive failed rounds (reset by a cosignature): the back-off grows with them. */
  failures: number;
  /** No request before this time (ms since epoch): backing off. */
  notBefore: number;
  retry: NodeJS.Timeout | undefined;
}

interface Waiter {
  readonly minSize: number;
  resolve(checkpoint: SignedCheckpoint): void;
}

/** A 409 answered again after this many retries in a row means a witness that keeps changing: back off. */
const MAX_CONFLICT_RETRIES = 3;
/** Retries on a timer after failures in a row; then only a new checkpoint or republish (once backed off) tries again. */
const MAX_FAILURE_RETRIES = 6;
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 5 * 60_000;
/** Checkpoints remembered with their cosignatures for waiting receipts. */
const RECENT_CHECKPOINTS = 16;

export class Witnessing {
  private readonly witnesses: WitnessState[];
  private readonly recent = new Map<number, { checkpoint: SignedCheckpoint; lines: Map<string, string> }>();
  private readonly waiters = new Set<Waiter>();
  private readonly metrics: WitnessMetrics;
  private republish: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly deps: WitnessingDeps) {
    this.metrics = deps.metrics ?? NO_WITNESS_METRICS;
    this.witnesses = deps.config.witnesses.map((endpoint) => {
      const verifier = parseWitnessKey(endpoint.verifierKey);
      return {
        endpoint,
        verifier,
        id: formatKeyId(verifier.keyId),
        knownSize: undefined,
        cosigned: undefined,
        running: false,
        again: false,
        failures: 0,
        notBefore: 0,
        retry: undefined,
      };
    });
  }

  get enabled(): boolean {
    return this.witnesses.length > 0;
  }

  /** Whether receipts wait for the quorum (witnessedReceipts.ts). */
  get receiptsWait(): boolean {
    return this.enabled && this.deps.config.waitForQuorum;
  }

  /** Sends the current head now, and starts the republish timer. */
  start(): void {
    if (!this.enabled) return;
    const interval = this.deps.config.republishIntervalMs;
    if (interval > 0) {
      this.republish = setInterval(() => this.kick(), interval);
      this.republish.unref();
    }
    this.kick();
  }

  /** A checkpoint was signed (by this process; others' are found on the next kick). */
  checkpointSigned(): void {
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.republish) clearInterval(this.republish);
    for (const w of this.witnesses) if (w.retry) clearTimeout(w.retry);
    for (const waiter of this.waiters) this.waiters.delete(waiter);
    await Promise.allSettled([...this.inFlight]);
  }

  /** The checkpoint with the cosignatures stored for its size by the configured witnesses. */
  async published(checkpoint: SignedCheckpoint): Promise<SignedCheckpoint> {
    return (await this.withStoredCosignatures(checkpoint)).checkpoint;
  }

  /**
   * What the log publishes (GET /checkpoint, the checkpoint query): the head when the quorum
   * has cosigned it, else the newest checkpoint the quorum has cosigned, with those
   * cosignatures. So a client holding the witness policy can check whatever it is served,
   * even on a busy log whose head is always on its way to the witnesses; receipts still carry
   * the head at once (unless they wait). Until a quorum is known (just started, or the
   * witnesses down since), the head with the cosignatures it has: the client's policy then
   * refuses it, naming the witnesses that are missing.
   */
  async publishable(head: SignedCheckpoint): Promise<SignedCheckpoint> {
    const own = await this.withStoredCosignatures(head);
    if (!this.enabled || own.count >= this.deps.config.quorum) return own.checkpoint;
    return this.findQuorum(0) ?? own.checkpoint;
  }

  private async withStoredCosignatures(checkpoint: SignedCheckpoint): Promise<{ checkpoint: SignedCheckpoint; count: number }> {
    if (!this.enabled) return { checkpoint, count: 0 };
    const stored = await this.deps.cosignatures.forTreeSize(checkpoint.treeSize);
    const lines = this.witnesses.flatMap((w) => stored.find((c) => c.witness === w.id)?.line ?? []);
    return { checkpoint: lines.length === 0 ? checkpoint : { ...checkpoint, note: withCosignatures(checkpoint.note, lines) }, count: lines.length };
  }

  /**
   * A checkpoint of at least `minSize` leaves cosigned by the quorum, waiting for one up to
   * the configured bound; the largest known when several qualify.
   */
  async quorumCheckpoint(minSize: number): Promise<SignedCheckpoint> {
    const found = this.findQuorum(minSize);
    if (found) return found;
    const { waitTimeoutMs, quorum } = this.deps.config;
    return new Promise<SignedCheckpoint>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new WitnessQuorumNotMetError(
            `the event is recorded, but ${quorum} of ${this.witnesses.length} witness cosignatures on a checkpoint covering it did not arrive within ${waitTimeoutMs} ms ` +
              `(${this.describeWitnesses()}); retry with the same idempotency key for the receipt`,
          ),
        );
      }, waitTimeoutMs);
      const waiter: Waiter = {
        minSize,
        resolve: (checkpoint) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(checkpoint);
        },
      };
      this.waiters.add(waiter);
      this.kick();
    });
  }

  private describeWitnesses(): string {
    return this.witnesses
      .map((w) => `${w.endpoint.name}: ${w.cosigned ? `cosigned size ${w.cosigned.treeSize}` : 'no cosignature yet'}${w.failures > 0 ? `, ${w.failures} failed attempt(s)` : ''}`)
      .join('; ');
  }

  private findQuorum(minSize: number): SignedCheckpoint | undefined {
    let best: { checkpoint: SignedCheckpoint; lines: Map<string, string> } | undefined;
    for (const entry of this.recent.values()) {
      if (entry.checkpoint.treeSize >= minSize && entry.lines.size >= this.deps.config.quorum && (!best || entry.checkpoint.treeSize > best.checkpoint.treeSize)) {
        best = entry;
      }
    }
    if (!best) return undefined;
    const lines = this.witnesses.flatMap((w) => best.lines.get(w.id) ?? []);
    return { ...best.checkpoint, note: withCosignatures(best.checkpoint.note, lines) };
  }

  private kick(): void {
    if (this.stopped) return;
    for (const w of this.witnesses) this.schedule(w);
  }

  private schedule(w: WitnessState): void {
    if (w.running) {
      w.again = true;
      return;
    }
    w.running = true;
    const run = this.run(w)
      .catch((err: unknown) => this.deps.logger.error({ err, witness: w.endpoint.name }, 'witness round failed'))
      .finally(() => {
        w.running = false;
        this.inFlight.delete(run);
        if (w.again && !this.stopped) {
          w.again = false;
          this.schedule(w);
        }
      });
    this.inFlight.add(run);
  }

  /** Brings one witness up to the head: send, follow 409s, record the outcome. */
  private async run(w: WitnessState): Promise<void> {
    const head = (await this.deps.head.read())?.checkpoint;
    if (!head || this.stopped) return;
    if (!this.due(w, head) || Date.now() < w.notBefore) return;
    for (let conflicts = 0; ; conflicts++) {
      const oldSize = w.knownSize ?? 0;
      if (oldSize > head.treeSize) {
        // Another server may have sent a newer head: read again before calling it a fork.
        const latest = (await this.deps.head.read())?.checkpoint;
        if (latest && latest.treeSize > head.treeSize) {
          w.again = true;
          return;
        }
        this.failed(w, head, 'ahead', `the witness has cosigned size ${oldSize} of this log, more than its ${head.treeSize} leaves: another history with this key and origin?`);
        return;
      }
      const proof = oldSize === 0 || oldSize === head.treeSize ? [] : await this.deps.consistencyProof(oldSize, head.treeSize);
      const outcome = await addCheckpoint(w.endpoint, w.verifier, { oldSize, consistencyProof: proof, checkpointNote: head.note }, {
        timeoutMs: this.deps.config.requestTimeoutMs,
        ...(this.deps.fetch && { fetch: this.deps.fetch }),
      });
      if (this.stopped) return;
      if (outcome.kind === 'conflict') {
        this.metrics.witnessRequest(w.endpoint.name, 'conflict');
        this.deps.logger.debug({ witness: w.endpoint.name, sent: oldSize, witnessSize: outcome.witnessSize }, 'witness has another size of the log; retrying from it');
        if (conflicts >= MAX_CONFLICT_RETRIES || outcome.witnessSize === oldSize) {
          this.failed(w, head, 'conflict', `the witness keeps answering 409 (its size ${outcome.witnessSize})`);
          return;
        }
        w.knownSize = outcome.witnessSize;
        continue;
      }
      if (outcome.kind === 'cosigned') {
        await this.cosigned(w, head, outcome);
        return;
      }
      this.failed(w, head, outcome.kind, outcome.kind === 'refused' ? outcome.message : `unreachable: ${outcome.message}`);
      return;
    }
  }

  /** Whether the witness should be sent the head: not yet cosigned, or its cosignature is getting old. */
  private due(w: WitnessState, head: SignedCheckpoint): boolean {
    if (!w.cosigned || w.cosigned.treeSize !== head.treeSize) return true;
    const interval = this.deps.config.republishIntervalMs;
    // Half the interval: the timer fires once per interval, and a cosignature made just after
    // the previous tick must still be renewed at this one.
    return interval > 0 && Date.now() / 1000 - w.cosigned.timestamp >= interval / 2000;
  }

  private async cosigned(w: WitnessState, head: SignedCheckpoint, outcome: Extract<AddCheckpointOutcome, { kind: 'cosigned' }>): Promise<void> {
    const { line, timestamp } = outcome.cosignature;
    w.knownSize = head.treeSize;
    w.cosigned = { treeSize: head.treeSize, timestamp };
    w.failures = 0;
    w.notBefore = 0;
    if (w.retry) clearTimeout(w.retry);
    w.retry = undefined;
    await this.deps.cosignatures.save({ witness: w.id, treeSize: head.treeSize, line });
    this.metrics.witnessRequest(w.endpoint.name, 'cosigned');
    this.metrics.witnessCosigned(w.endpoint.name, head.treeSize, timestamp);
    this.deps.logger.debug({ witness: w.endpoint.name, treeSize: head.treeSize, timestamp }, 'witness cosigned the checkpoint');
    let entry = this.recent.get(head.treeSize);
    if (!entry) {
      entry = { checkpoint: head, lines: new Map() };
      this.recent.set(head.treeSize, entry);
      // Maps iterate in insertion order: the first key is the oldest remembered.
      while (this.recent.size > RECENT_CHECKPOINTS) this.recent.delete(this.recent.keys().next().value as number);
    }
    entry.lines.set(w.id, line);
    for (const waiter of [...this.waiters]) {
      const found = this.findQuorum(waiter.minSize);
      if (found) waiter.resolve(found);
    }
  }

  private failed(w: WitnessState, head: SignedCheckpoint, outcome: WitnessOutcomeLabel, message: string): void {
    w.failures++;
    this.metrics.witnessRequest(w.endpoint.name, outcome);
    const retrying = w.failures <= MAX_FAILURE_RETRIES;
    const delay = Math.min(RETRY_BASE_MS * 2 ** Math.min(w.failures - 1, 20), RETRY_MAX_MS);
    w.notBefore = Date.now() + delay;
    this.deps.logger.warn(
      { witness: w.endpoint.name, url: w.endpoint.url, treeSize: head.treeSize, outcome, attempt: w.failures, ...(retrying && { retryInMs: delay }) },
      `witness did not cosign the checkpoint: ${message}${retrying ? '' : `; trying again with the next checkpoint or republish after ${delay} ms`}`,
    );
    if (!retrying || this.stopped) return;
    if (w.retry) clearTimeout(w.retry);
    w.retry = setTimeout(() => {
      w.retry = undefined;
      this.schedule(w);
    }, delay);
    w.retry.unref();
  }
}
