/**
 * `verify-db`'s walk over the database: the event documents in leaf order, the stored hash
 * tiles beside them and the stored checkpoints as the tree passes their sizes, all streamed,
 * so memory stays constant. The decisions are in treeCheck.ts and eventCheck.ts; this module
 * only reads and feeds them.
 */
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import type { EventRangeReader, IntegrityReader, RawCheckpoint, RawStoredEvent } from '../storage/port';
import { bytesToHex, hexToBytes, parseCheckpoint, parseVerifierKey, VerificationError, verifyCheckpoint } from '../verify';
import type { CheckedEvent, EventCheck } from './eventCheck';
import { type CheckedRange, LeafCheckPool } from './leafCheckPool';
import { TileWindow } from './tileWindow';
import { type ExpectedRoot, TreeCheck, type TreeCheckReport } from './treeCheck';

export interface DatabaseCheckOptions {
  readonly reader: IntegrityReader;
  /** The log's verifier key: the latest checkpoint must carry a valid signature by it. */
  readonly verifierKey: string;
  /** Events per cursor batch, or per range a worker reads (default 20,000 and 512). */
  readonly batchSize?: number;
  readonly maxDetails?: number;
  /** How many leaves to expect (for progress): e.g. the stored event count. */
  readonly expectedLeaves?: number;
  /** Called once with the number of leaves expected, then with the number checked so far. */
  readonly onStart?: (expectedLeaves: number) => void;
  readonly onProgress?: (checkedLeaves: number) => void;
  /**
   * Judges a batch's sealed events (encryption at rest, src/lifecycle/sealedCheck.ts): the
   * fields to check for an opened one, the redaction for a shredded one, or what is wrong.
   */
  readonly sealed?: (batch: readonly RawStoredEvent[]) => Promise<Map<RawStoredEvent, SealedJudgement>>;
  /**
   * Worker threads that re-derive leaves (leafCheckPool.ts) while this thread reads the next
   * batch and builds the tree; 0 (the default) re-derives them here.
   */
  readonly workers?: number;
}

export type SealedJudgement =
  | { readonly kind: 'opened'; readonly fields: Record<string, unknown> }
  | { readonly kind: 'redacted'; readonly by: number }
  | { readonly kind: 'problem'; readonly problem: string };

export interface LatestCheckpointStatus {
  readonly treeSize: number;
  readonly rootHash: string;
  /** Undefined when the signature verified, else why it did not. */
  readonly signatureProblem: string | undefined;
}

export interface DatabaseCheckReport extends TreeCheckReport {
  readonly latest: LatestCheckpointStatus | undefined;
  /** Events stored after the latest checkpoint (the server signs them on its next start). */
  readonly uncovered: number;
  readonly elapsedMs: number;
  /** Events whose content was destroyed (crypto-shredded): their stored leaf hashes were checked against the tree. */
  readonly redacted: number;
  /** True when nothing at all is wrong. */
  readonly intact: boolean;
}

const PROGRESS_EVERY = 16_384;

export async function checkDatabase(options: DatabaseCheckOptions): Promise<DatabaseCheckReport> {
  const started = performance.now();
  const { reader } = options;
  const tiles = new TileWindow(reader);
  const verifier = parseVerifierKey(options.verifierKey);

  const latestDoc = await reader.latestCheckpoint();
  const latestSize = latestDoc && typeof latestDoc.treeSize === 'number' && Number.isSafeInteger(latestDoc.treeSize) && latestDoc.treeSize >= 0 ? latestDoc.treeSize : undefined;
  const covered = latestSize ?? 0;
  const tree = new TreeCheck(nodeCryptoRfc6962, tiles, covered, options.maxDetails);
  let latest: LatestCheckpointStatus | undefined;
  if (latestDoc && latestSize !== undefined) {
    let signatureProblem: string | undefined;
    try {
      verifyCheckpoint(String(latestDoc.note), verifier, { origin: verifier.name });
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      signatureProblem = err.message;
      tree.problem(`checkpoint ${latestSize} (the latest): ${err.message}`);
    }
    latest = { treeSize: covered, rootHash: String(latestDoc.rootHash), signatureProblem };
  }
  options.onStart?.(Math.max(covered, options.expectedLeaves ?? 0));

  const roots = new CheckpointFeed(reader.checkpoints(covered)[Symbol.asyncIterator](), tree);
  let expected = 0;
  let uncovered = 0;
  let redacted = 0;
  /** Set once a document lies past a gap beyond the checkpoint: nothing after it is a leaf. */
  let strayFrom: number | undefined;
  let nextProgress = PROGRESS_EVERY;

  const missing = async (end: number): Promise<void> => {
    while (expected < end) {
      await roots.feedThrough(expected + 1);
      await tiles.reach(expected);
      tree.affectedLeaf('missing from the events collection');
      expected++;
    }
  };

  // Where the database lets other threads read it, each worker reads and checks its own
  // ranges and this thread only builds the tree; otherwise this thread reads and the workers
  // (if any) only re-derive. Sealed events are judged here, so they take the second way.
  const workers = options.workers ?? 0;
  const source = workers > 0 && !options.sealed && reader.rangeEnd && reader.eventRange ? reader.source : undefined;
  const pool = new LeafCheckPool(workers, source);
  const batches = (source ? rangeBatches(reader as Required<EventRangeReader>, pool, options.batchSize ?? RANGE_ROWS) : documentBatches(reader, pool, options))[Symbol.asyncIterator]();
  try {
    for (;;) {
      const read = await batches.next();
      if (read.done) break;
      const batch = read.value;
      for (const [position, id] of batch.positions.entries()) {
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < expected) {
          tree.problem(`a stored event at position ${JSON.stringify(id)} is not at a leaf position (found after ${expected} leaves)`);
          continue;
        }
        if (strayFrom !== undefined) {
          tree.flag(id, id + 1, `leaf ${id}: event stored beyond a gap after the end of the log (${strayFrom})`);
          continue;
        }
        if (id > expected) {
          await missing(Math.min(id, Math.max(covered, expected)));
          if (id > expected) {
            strayFrom = expected;
            tree.flag(id, id + 1, `leaf ${id}: event stored beyond a gap after the end of the log (${strayFrom})`);
            continue;
          }
        }
        // Awaited only when there is something to read: an await per leaf was a tenth of this thread's time.
        if (!roots.fedThrough(expected + 1)) await roots.feedThrough(expected + 1);
        if (!tiles.reached(expected)) await tiles.reach(expected);
        if (batch.feed(position, tree) === 'redacted') redacted++;
        if (expected >= covered) uncovered++;
        expected++;
        if (expected >= nextProgress) {
          options.onProgress?.(expected);
          nextProgress += PROGRESS_EVERY;
        }
      }
    }
  } finally {
    await Promise.allSettled([batches.return?.(undefined), pool.close()]);
    await roots.close();
  }
  await missing(covered);
  await roots.feedThrough(expected);
  for (const id of tiles.malformed) tree.problem(`tile ${id}: stored in a damaged form`);
  options.onProgress?.(expected);

  const report = tree.finish();
  return {
    ...report,
    latest,
    uncovered,
    redacted,
    elapsedMs: performance.now() - started,
    intact: report.affected.isEmpty && report.details.length === 0,
  };
}

/** Stored events in position order, each already judged: the walk places them in the tree. */
interface CheckedBatch {
  readonly positions: readonly unknown[];
  /** Gives the tree the leaf of event i (or says why it has none). */
  feed(i: number, tree: TreeCheck): 'leaf' | 'redacted';
}

function feedCheck(tree: TreeCheck, check: EventCheck): 'leaf' {
  if (check.problem === undefined) tree.leaf(check.leafHash!);
  else tree.affectedLeaf(`the event document is inconsistent: ${check.problem}`, check.leafHash);
  return 'leaf';
}

/** Rows read on this thread, judged (sealed) here, re-derived here or in the pool's workers. */
async function* documentBatches(reader: IntegrityReader, pool: LeafCheckPool, options: DatabaseCheckOptions): AsyncGenerator<CheckedBatch> {
  const batches = reader.events(options.batchSize ?? 20_000)[Symbol.asyncIterator]();
  // Handled here as well as where awaited: a read still pending when the walk stops early
  // must not surface as an unhandled rejection.
  const ahead = (): Promise<IteratorResult<RawStoredEvent[]>> => {
    const read = batches.next();
    read.catch(() => undefined);
    return read;
  };
  try {
    let next = ahead();
    for (;;) {
      const read = await next;
      if (read.done) return;
      const batch = read.value;
      const judged = options.sealed ? await options.sealed(batch) : undefined;
      // Every event that may need its leaf re-derived (a redacted or inconsistent sealed one
      // has none); a position the walk then skips (a gap, a stray) just wastes its check.
      const checking = pool.check(
        batch.map((doc) => {
          const judgement = judged?.get(doc);
          if (judgement?.kind === 'redacted' || judgement?.kind === 'problem') return undefined;
          return (judgement?.fields ?? doc.fields) as unknown as CheckedEvent;
        }),
      );
      // Reading the next batch now overlaps it with the checks of this one.
      next = ahead();
      const checks = await checking;
      yield {
        positions: batch.map((doc) => doc.position),
        feed(i, tree) {
          const doc = batch[i]!;
          const judgement = judged?.get(doc);
          if (judgement?.kind === 'redacted') {
            const stored: unknown = doc.fields.leafHash;
            if (stored instanceof Uint8Array && stored.length === 32) {
              tree.leaf(stored);
              return 'redacted';
            }
            tree.affectedLeaf('the redacted event has no stored leaf hash');
            return 'leaf';
          }
          if (judgement?.kind === 'problem') {
            tree.affectedLeaf(`the sealed event is inconsistent: ${judgement.problem}`);
            return 'leaf';
          }
          return feedCheck(tree, checks[i]!);
        },
      };
    }
  } finally {
    await batches.return?.();
  }
}

/**
 * Events per range a worker reads and checks, unless told otherwise. A range's rows stay alive
 * while it is checked, so a large one survives the young generation's scavenges and is
 * copied, then promoted and collected again: at 4096 rows GC was a quarter of the workers'
 * time. Measured at 10^6 leaves: 19.3 µs of CPU per leaf at 4096 rows, 16.8 at 1024,
 * 14.3-15.3 at 128, 256 and 512 (the noise between runs).
 */
const RANGE_ROWS = 512;
/** Ranges asked for per worker before the oldest is consumed: bounds memory, keeps workers busy. */
const RANGES_PER_WORKER = 4;

/** Ranges read and re-derived by the pool's workers on their own connections; this thread only cuts them. */
async function* rangeBatches(reader: EventRangeReader, pool: LeafCheckPool, rows: number): AsyncGenerator<CheckedBatch> {
  const pending: Promise<CheckedRange>[] = [];
  let from: number | undefined = Number.MIN_SAFE_INTEGER;
  // When every position from the first to the last is stored (the log as the ledger writes
  // it), the range of the next `rows` events is known without counting them in the database
  // (rangeEnd steps over each row: a sixth of this thread's time). Events appended meanwhile
  // lie past `last`, in the last range, which is open-ended either way.
  const span = await reader.positionSpan();
  const dense = span !== undefined && span.last - span.first + 1 === span.count ? span : undefined;
  const cut = (start: number): Promise<number | undefined> | number | undefined => {
    if (!dense) return reader.rangeEnd(start, rows);
    const end = Math.max(start, dense.first) + rows;
    return end <= dense.last ? end : undefined;
  };
  const ask = async (): Promise<void> => {
    while (from !== undefined && pending.length < pool.size * RANGES_PER_WORKER) {
      const end = await cut(from);
      const range = pool.checkRange(from, end ?? Number.MAX_SAFE_INTEGER + 1);
      range.catch(() => undefined);
      pending.push(range);
      from = end;
    }
  };
  await ask();
  while (pending.length > 0) {
    const range = await pending.shift()!;
    await ask();
    const problems = new Map(range.problems);
    const hashless = new Set(range.hashless);
    yield {
      positions: range.positions,
      feed(i, tree) {
        const leafHash = hashless.has(i) ? undefined : range.hashes.subarray(i * 32, i * 32 + 32);
        return feedCheck(tree, { leafHash, problem: problems.get(i) });
      },
    };
  }
}

/**
 * Feeds the stored checkpoints (ascending, up to the latest) to the tree check just before
 * the tree reaches their sizes, checking on the way that each document agrees with its note.
 */
class CheckpointFeed {
  private peeked: RawCheckpoint | null | undefined;

  constructor(
    private readonly cursor: AsyncIterator<RawCheckpoint>,
    private readonly tree: TreeCheck,
  ) {}

  /** Whether feedThrough(size) has nothing left to do (the next checkpoint is known and lies beyond). */
  fedThrough(size: number): boolean {
    const doc = this.peeked;
    return doc !== undefined && (doc === null || (typeof doc.treeSize === 'number' && doc.treeSize > size));
  }

  async feedThrough(size: number): Promise<void> {
    for (;;) {
      if (this.peeked === undefined) {
        const next = await this.cursor.next();
        this.peeked = next.done ? null : next.value;
      }
      const doc = this.peeked;
      if (doc === null || (typeof doc.treeSize === 'number' && doc.treeSize > size)) return;
      this.peeked = undefined;
      const expected = this.expectation(doc);
      if (!expected) continue;
      if (expected.treeSize < this.tree.size) {
        this.tree.problem(`checkpoint ${expected.treeSize}: not at a tree size`);
        continue;
      }
      this.tree.expectRoot(expected);
    }
  }

  async close(): Promise<void> {
    await this.cursor.return?.();
  }

  private expectation(doc: RawCheckpoint): ExpectedRoot | undefined {
    const size = doc.treeSize;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
      this.tree.problem(`a stored checkpoint has tree size ${JSON.stringify(size)}, which is not a tree size`);
      return undefined;
    }
    const rootField = typeof doc.rootHash === 'string' ? doc.rootHash : '';
    let noteRoot: Uint8Array;
    try {
      const parsed = parseCheckpoint(String(doc.note));
      if (parsed.treeSize !== size) {
        this.tree.problem(`checkpoint ${size}: its note is for tree size ${parsed.treeSize}`);
        return undefined;
      }
      noteRoot = parsed.rootHash;
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      this.tree.problem(`checkpoint ${size}: its note is malformed (${err.message})`);
      return /^[0-9a-f]{64}$/.test(rootField) ? { treeSize: size, rootHash: hexToBytes(rootField) } : undefined;
    }
    if (bytesToHex(noteRoot) !== rootField) {
      this.tree.problem(`checkpoint ${size}: its rootHash field ${rootField} differs from its signed note's root ${bytesToHex(noteRoot)}`);
    }
    // The signed note, not the unsigned field, is what the log has committed to.
    return { treeSize: size, rootHash: noteRoot };
  }
}
