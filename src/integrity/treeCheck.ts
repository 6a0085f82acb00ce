/**
 * The pure core of `verify-db`: rebuilds the Merkle tree from leaf hashes derived from the
 * event documents (streaming, O(log n) state) and compares it, as it goes, with every stored
 * subtree hash and every stored checkpoint root it passes.
 *
 * Attribution: the tree derived from the documents is the reference, and every stored hash
 * must equal the reference node it claims to be. A stored hash that differs is explained
 * when a leaf it covers is already known to be affected (an edited, missing or misplaced
 * event changes every ancestor); otherwise the stored hash itself was changed, and every
 * leaf it covers is named, because proofs through it are now wrong for all of them.
 */
import { CompactRange } from '../merkle/compactRange';
import { nodeBegin, nodeEnd, type NodeId } from '../merkle/nodeId';
import { bytesToHex } from '../verify';
import type { Rfc6962Hasher } from '../verify/rfc6962';
import { sameHash } from './eventCheck';
import { LeafIndexSet } from './leafIndexSet';

/** Stored subtree hashes, by tree height (a multiple of 8) and index; undefined if not stored. */
export interface StoredNodes {
  nodeHash(height: number, index: number): Uint8Array | undefined;
}

export interface ExpectedRoot {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
}

export interface TreeCheckReport {
  readonly treeSize: number;
  readonly affected: LeafIndexSet;
  /** Human-readable findings, the first `maxDetails` of them. */
  readonly details: readonly string[];
  readonly omittedDetails: number;
  /** Stored hashes that differ only because of leaves already named. */
  readonly explainedMismatches: number;
  readonly storedHashesChecked: number;
  readonly checkpointsChecked: number;
}

/** Stored hashes are every eighth level (the tile layout of src/log/tileStore.ts). */
const TILE_HEIGHT = 8;
const ZERO_HASH = new Uint8Array(32);

export class TreeCheck {
  private readonly range = CompactRange.empty();
  private readonly affected = new LeafIndexSet();
  private readonly details: string[] = [];
  private omitted = 0;
  private explained = 0;
  private storedChecked = 0;
  private checkpointsChecked = 0;
  private readonly pending: ExpectedRoot[] = [];
  private lastGoodSize = 0;
  private readonly one: Uint8Array[] = [ZERO_HASH];
  private readonly visit = (id: NodeId, hash: Uint8Array): void => this.compareStored(id, hash);

  /**
   * @param coveredSize the latest checkpoint's size: below it every subtree hash must be stored.
   */
  constructor(
    private readonly hasher: Rfc6962Hasher,
    private readonly stored: StoredNodes,
    private readonly coveredSize: number,
    private readonly maxDetails = 1000,
  ) {}

  get size(): number {
    return this.range.size;
  }

  /** Queues a checkpoint root to compare once the tree reaches its size (sizes ascending). */
  expectRoot(expected: ExpectedRoot): void {
    const last = this.pending[this.pending.length - 1];
    if (expected.treeSize < this.range.size || (last && expected.treeSize <= last.treeSize)) {
      throw new RangeError(`checkpoint sizes must ascend and lie ahead of the tree (size ${expected.treeSize})`);
    }
    this.pending.push(expected);
    this.checkRoots();
  }

  /** The next leaf, derived from its event document and consistent with it. */
  leaf(leafHash: Uint8Array): void {
    this.append(leafHash);
  }

  /**
   * The next leaf is affected: its document is missing, unreadable or disagrees with itself.
   * `leafHash` is what its fields hash to, if anything; otherwise the stored level-0 hash
   * stands in, so that one bad leaf does not make every stored ancestor look edited too.
   */
  affectedLeaf(reason: string, leafHash?: Uint8Array): void {
    const index = this.range.size;
    this.affected.add(index);
    this.note(`leaf ${index}: ${reason}`);
    this.append(leafHash ?? this.stored.nodeHash(0, index) ?? ZERO_HASH);
  }

  /** Names leaves affected by something outside the tree walk (e.g. a stray document). */
  flag(begin: number, end: number, reason: string): void {
    this.affected.addRange(begin, end);
    this.note(reason);
  }

  /** Records a finding that names no leaf (e.g. an edited checkpoint document). */
  problem(reason: string): void {
    this.note(reason);
  }

  finish(): TreeCheckReport {
    for (const expected of this.pending) {
      this.note(`checkpoint ${expected.treeSize}: the events end at ${this.range.size}, before this checkpoint's size`);
    }
    return {
      treeSize: this.range.size,
      affected: this.affected,
      details: this.details,
      omittedDetails: this.omitted,
      explainedMismatches: this.explained,
      storedHashesChecked: this.storedChecked,
      checkpointsChecked: this.checkpointsChecked,
    };
  }

  private append(leafHash: Uint8Array): void {
    this.one[0] = leafHash;
    this.range.append(this.one, this.hasher, this.visit);
    if (this.pending.length > 0 && this.pending[0]!.treeSize === this.range.size) this.checkRoots();
  }

  private compareStored(id: NodeId, hash: Uint8Array): void {
    if (id.level % TILE_HEIGHT !== 0) return;
    const stored = this.stored.nodeHash(id.level, id.index);
    if (stored !== undefined) {
      this.storedChecked++;
      if (sameHash(stored, hash)) return;
    } else if (nodeEnd(id) > this.coveredSize) {
      // Not yet covered by a checkpoint: the sequencer may not have written it yet.
      return;
    }
    const begin = nodeBegin(id);
    const end = nodeEnd(id);
    if (this.affected.intersects(begin, end)) {
      this.explained++;
      return;
    }
    this.affected.addRange(begin, end);
    const where = id.level === 0 ? `leaf ${id.index}` : `leaves ${begin}-${end - 1}`;
    const tile = `tile ${id.level / TILE_HEIGHT}/${Math.floor(id.index / 256)} entry ${id.index % 256}`;
    if (stored === undefined) this.note(`${where}: no stored subtree hash (${tile} is missing)`);
    else if (id.level === 0) {
      this.note(
        `${where}: the event does not match the stored leaf hash (${tile}): the event was edited together with its ` +
          'leaf and hash, moved or inserted, or the stored hash was edited',
      );
    } else {
      this.note(`${where}: stored subtree hash ${tile} (height ${id.level}) differs from the one the events give: it was edited`);
    }
  }

  private checkRoots(): void {
    while (this.pending.length > 0 && this.pending[0]!.treeSize === this.range.size) {
      const expected = this.pending.shift()!;
      const root = this.range.root(this.hasher);
      this.checkpointsChecked++;
      if (sameHash(root, expected.rootHash)) {
        this.lastGoodSize = expected.treeSize;
        continue;
      }
      if (this.affected.anyBelow(expected.treeSize)) {
        this.explained++;
        continue;
      }
      // The leaves and the stored hashes agree with each other but not with what was signed:
      // both were rewritten consistently. The change lies after the last size that matched.
      this.affected.addRange(this.lastGoodSize, expected.treeSize);
      this.note(
        `checkpoint ${expected.treeSize}: signed root ${bytesToHex(expected.rootHash)} differs from the events' root ` +
          `${bytesToHex(root)}; events and stored hashes were rewritten consistently somewhere in leaves ${this.lastGoodSize}-${expected.treeSize - 1}`,
      );
    }
  }

  private note(line: string): void {
    if (this.details.length < this.maxDetails) this.details.push(line);
    else this.omitted++;
  }
}
