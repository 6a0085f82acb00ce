/**
 * `verify-db`'s walk over the database: the event documents in leaf order, the stored hash
 * tiles beside them and the stored checkpoints as the tree passes their sizes, all streamed,
 * so memory stays constant. The decisions are in treeCheck.ts and eventCheck.ts; this module
 * only reads and feeds them.
 */
import type { Collection, Db, FindCursor } from 'mongodb';
import { CHECKPOINTS_COLLECTION, type CheckpointDoc } from '../log/checkpointStore';
import { EVENTS_COLLECTION } from '../log/eventStore';
import { TILES_COLLECTION, type TileDoc } from '../log/tileStore';
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import { bytesToHex, hexToBytes, parseCheckpoint, parseVerifierKey, VerificationError, verifyCheckpoint } from '../verify';
import { checkEvent, type StoredEvent } from './eventCheck';
import { TileWindow } from './tileWindow';
import { type ExpectedRoot, TreeCheck, type TreeCheckReport } from './treeCheck';

export interface DatabaseCheckOptions {
  readonly db: Db;
  /** The log's verifier key: the latest checkpoint must carry a valid signature by it. */
  readonly verifierKey: string;
  /** Events per cursor batch. */
  readonly batchSize?: number;
  readonly maxDetails?: number;
  /** Called once with the number of leaves expected, then with the number checked so far. */
  readonly onStart?: (expectedLeaves: number) => void;
  readonly onProgress?: (checkedLeaves: number) => void;
}

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
  /** True when nothing at all is wrong. */
  readonly intact: boolean;
}

const PROGRESS_EVERY = 16_384;

export async function checkDatabase(options: DatabaseCheckOptions): Promise<DatabaseCheckReport> {
  const started = performance.now();
  const { db } = options;
  const events = db.collection<StoredEvent>(EVENTS_COLLECTION.name);
  const checkpoints = db.collection<CheckpointDoc>(CHECKPOINTS_COLLECTION.name);
  const tiles = new TileWindow(db.collection<TileDoc>(TILES_COLLECTION.name));
  const verifier = parseVerifierKey(options.verifierKey);

  // Numbers only: a document with a string `_id` would sort last and pose as the latest.
  const latestDoc = await checkpoints.find({ _id: { $gte: 0 } }).sort({ _id: -1 }).limit(1).next();
  const covered = latestDoc && Number.isSafeInteger(latestDoc._id) && latestDoc._id >= 0 ? latestDoc._id : 0;
  const tree = new TreeCheck(nodeCryptoRfc6962, tiles, covered, options.maxDetails);
  let latest: LatestCheckpointStatus | undefined;
  if (latestDoc) {
    let signatureProblem: string | undefined;
    try {
      verifyCheckpoint(latestDoc.note, verifier, { origin: verifier.name });
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      signatureProblem = err.message;
      tree.problem(`checkpoint ${latestDoc._id} (the latest): ${err.message}`);
    }
    latest = { treeSize: covered, rootHash: latestDoc.rootHash, signatureProblem };
  }
  options.onStart?.(Math.max(covered, await events.estimatedDocumentCount()));

  const roots = new CheckpointFeed(checkpoints, covered, tree);
  const cursor: FindCursor<StoredEvent> = events
    .find({}, { projection: { idem: 0 } })
    .sort({ _id: 1 })
    .batchSize(options.batchSize ?? 20_000);
  let expected = 0;
  let uncovered = 0;
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

  try {
    while (await cursor.hasNext()) {
      for (const doc of cursor.readBufferedDocuments()) {
        const id: unknown = doc._id;
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < expected) {
          tree.problem(`an event document with _id ${JSON.stringify(id)} is not at a leaf position (found after ${expected} leaves)`);
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
        await roots.feedThrough(expected + 1);
        await tiles.reach(expected);
        const check = checkEvent(doc);
        if (check.problem === undefined) tree.leaf(check.leafHash!);
        else tree.affectedLeaf(`the event document is inconsistent: ${check.problem}`, check.leafHash);
        if (expected >= covered) uncovered++;
        expected++;
        if (expected >= nextProgress) {
          options.onProgress?.(expected);
          nextProgress += PROGRESS_EVERY;
        }
      }
    }
  } finally {
    await cursor.close();
  }
  await missing(covered);
  await roots.feedThrough(expected);
  await roots.close();
  for (const id of tiles.malformed) tree.problem(`tile ${id}: stored in a damaged form`);
  options.onProgress?.(expected);

  const report = tree.finish();
  return {
    ...report,
    latest,
    uncovered,
    elapsedMs: performance.now() - started,
    intact: report.affected.isEmpty && report.details.length === 0,
  };
}

/**
 * Feeds the stored checkpoints (ascending, up to the latest) to the tree check just before
 * the tree reaches their sizes, checking on the way that each document agrees with its note.
 */
class CheckpointFeed {
  private readonly cursor: FindCursor<CheckpointDoc>;
  private peeked: CheckpointDoc | null | undefined;

  constructor(
    checkpoints: Collection<CheckpointDoc>,
    latestSize: number,
    private readonly tree: TreeCheck,
  ) {
    this.cursor = checkpoints.find({ _id: { $lte: latestSize } }).sort({ _id: 1 }).batchSize(1000);
  }

  async feedThrough(size: number): Promise<void> {
    for (;;) {
      if (this.peeked === undefined) this.peeked = await this.cursor.next();
      const doc = this.peeked;
      if (doc === null || doc._id > size) return;
      this.peeked = undefined;
      const expected = this.expectation(doc);
      if (!expected) continue;
      if (expected.treeSize < this.tree.size) {
        this.tree.problem(`checkpoint ${doc._id}: not at a tree size`);
        continue;
      }
      this.tree.expectRoot(expected);
    }
  }

  close(): Promise<void> {
    return this.cursor.close();
  }

  private expectation(doc: CheckpointDoc): ExpectedRoot | undefined {
    if (!Number.isSafeInteger(doc._id) || doc._id < 0) {
      this.tree.problem(`a checkpoint document has _id ${JSON.stringify(doc._id)}, which is not a tree size`);
      return undefined;
    }
    let noteRoot: Uint8Array;
    try {
      const parsed = parseCheckpoint(doc.note);
      if (parsed.treeSize !== doc._id) {
        this.tree.problem(`checkpoint ${doc._id}: its note is for tree size ${parsed.treeSize}`);
        return undefined;
      }
      noteRoot = parsed.rootHash;
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      this.tree.problem(`checkpoint ${doc._id}: its note is malformed (${err.message})`);
      return /^[0-9a-f]{64}$/.test(doc.rootHash) ? { treeSize: doc._id, rootHash: hexToBytes(doc.rootHash) } : undefined;
    }
    if (bytesToHex(noteRoot) !== doc.rootHash) {
      this.tree.problem(`checkpoint ${doc._id}: its rootHash field ${doc.rootHash} differs from its signed note's root ${bytesToHex(noteRoot)}`);
    }
    // The signed note, not the unsigned field, is what the log has committed to.
    return { treeSize: doc._id, rootHash: noteRoot };
  }
}
