/**
 * The right frontier of a log's Merkle tree, after transparency-dev/merkle/compact with
 * the range fixed to start at leaf 0: the hashes of rootNodes(size), one per set bit of
 * size. Appending a leaf merges equal-sized subtrees like carrying in binary addition,
 * so each leaf costs amortised one node hash and the state is O(log n).
 */
import type { Rfc6962Hasher } from '../verify/rfc6962';
import { assertTreePosition, NodeCountError, ProofRangeError } from './errors';
import type { NodeId } from './nodeId';
import { rootFromNodes, rootNodes } from './proof';

/** Called for each newly completed node: every appended leaf, and each new parent. */
export type NodeVisitor = (id: NodeId, hash: Uint8Array) => void;

export class CompactRange {
  private constructor(
    private treeSize: number,
    /** Hashes of rootNodes(treeSize), left to right (highest level first). */
    private readonly hashes: Uint8Array[],
  ) {}

  static empty(): CompactRange {
    return new CompactRange(0, []);
  }

  /** Restores a range from the stored hashes of rootNodes(size), e.g. after a restart. */
  static fromNodes(size: number, hashes: readonly Uint8Array[]): CompactRange {
    assertTreePosition('size', size);
    const expected = rootNodes(size).length;
    if (hashes.length !== expected) {
      throw new NodeCountError(`a tree of size ${size} has ${expected} root nodes, got ${hashes.length} hashes`);
    }
    return new CompactRange(size, [...hashes]);
  }

  get size(): number {
    return this.treeSize;
  }

  /** Appends leaf hashes (already RFC 6962 leaf-hashed) at indices size, size+1, ... */
  append(leafHashes: readonly Uint8Array[], hasher: Rfc6962Hasher, visit?: NodeVisitor): void {
    if (this.treeSize + leafHashes.length > Number.MAX_SAFE_INTEGER) {
      throw new ProofRangeError('appending would grow the tree beyond Number.MAX_SAFE_INTEGER leaves');
    }
    const stack = this.hashes;
    let size = this.treeSize;
    for (const leaf of leafHashes) {
      let hash = leaf;
      visit?.({ level: 0, index: size }, hash);
      // Each trailing one bit of size is a left sibling waiting on the stack.
      let index = size;
      let level = 0;
      while (index % 2 === 1) {
        hash = hasher.nodeHash(stack.pop() as Uint8Array, hash);
        index = (index - 1) / 2;
        level++;
        visit?.({ level, index }, hash);
      }
      stack.push(hash);
      size++;
    }
    this.treeSize = size;
  }

  root(hasher: Rfc6962Hasher): Uint8Array {
    return rootFromNodes(this.hashes, hasher);
  }

  /** The IDs and hashes that fromNodes() needs to restore this range. */
  nodes(): { ids: NodeId[]; hashes: Uint8Array[] } {
    return { ids: rootNodes(this.treeSize), hashes: [...this.hashes] };
  }
}
