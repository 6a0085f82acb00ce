/**
 * Which stored nodes make up a proof, after transparency-dev/merkle proof/nodes.go.
 *
 * An RFC 6962 audit path may contain one "ephemeral" node: the sibling on the right
 * border of a tree whose size is not a power of two. It covers an incomplete range, so
 * it is never stored; the IDs here list the perfect subtrees covering that range
 * instead, and rehash() folds them into the ephemeral hash. Every ID is therefore a
 * complete subtree, and a proof costs O(log n) node reads.
 */
import type { Rfc6962Hasher } from '../verify/rfc6962';
import { bitLength, shiftRight, trailingZeros, xor } from '../verify/bits';
import { assertTreePosition, NodeCountError, ProofRangeError } from './errors';
import { nodeBegin, nodeEnd, nodeId, parent, rangeNodes, sibling, type NodeId } from './nodeId';

export interface ProofNodes {
  /** Stored nodes to read, in the order rehash() expects their hashes. */
  readonly ids: readonly NodeId[];
  /** Turns the hashes of `ids` into the proof, rebuilding the ephemeral node if any. */
  rehash(hashes: readonly Uint8Array[], hasher: Rfc6962Hasher): Uint8Array[];
}

/** Reads stored complete-subtree hashes, e.g. from the database. */
export interface SubtreeReader {
  /** Must return one hash per ID, in the same order. */
  readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]>;
}

class ProofNodeList implements ProofNodes {
  /**
   * @param ids nodes to fetch
   * @param begin,end ids[begin, end) are the ephemeral node's cover, lowest level first;
   *   begin === end means the proof has no ephemeral node.
   */
  constructor(
    readonly ids: readonly NodeId[],
    private readonly begin: number,
    private readonly end: number,
  ) {}

  rehash(hashes: readonly Uint8Array[], hasher: Rfc6962Hasher, ephemeral?: Map<number, Uint8Array>): Uint8Array[] {
    if (hashes.length !== this.ids.length) {
      throw new NodeCountError(`got ${hashes.length} hashes for ${this.ids.length} proof nodes`);
    }
    const proof: Uint8Array[] = [];
    for (let i = 0; i < hashes.length; i++) {
      let hash = hashes[i] as Uint8Array;
      if (i === this.begin && this.begin < this.end) {
        // In one tree, the cover's leftmost node (listed last) starts where the fork ends, which fixes the whole cover.
        const key = nodeBegin(this.ids[this.end - 1]!);
        const known = ephemeral?.get(key);
        if (known) hash = known;
        else {
          // The cover is ordered right to left, so each next node is a left child.
          for (let j = i + 1; j < this.end; j++) hash = hasher.nodeHash(hashes[j] as Uint8Array, hash);
          ephemeral?.set(key, hash);
        }
        i = this.end - 1;
      }
      proof.push(hash);
    }
    return proof;
  }

  /** Drops ids[0], the node being proven, which the verifier already has. */
  skipFirst(): ProofNodeList {
    const shift = this.begin < this.end ? 1 : 0;
    return new ProofNodeList(this.ids.slice(1), this.begin - shift, this.end - shift);
  }
}

/** Nodes of the inclusion proof for leaf `index` in the tree of `size` leaves. */
export function inclusionNodes(index: number, size: number): ProofNodes {
  return inclusionNodeList(index, size);
}

function inclusionNodeList(index: number, size: number): ProofNodeList {
  assertTreePosition('index', index);
  assertTreePosition('size', size);
  if (index >= size) throw new ProofRangeError(`index ${index} is out of bounds for tree size ${size}`);
  return pathNodes(index, 0, size).skipFirst();
}

/** Nodes of the consistency proof from the tree of fromSize leaves to that of toSize. */
export function consistencyNodes(fromSize: number, toSize: number): ProofNodes {
  assertTreePosition('fromSize', fromSize);
  assertTreePosition('toSize', toSize);
  if (fromSize > toSize) throw new ProofRangeError(`fromSize ${fromSize} is larger than toSize ${toSize}`);
  if (fromSize === toSize || fromSize === 0) return new ProofNodeList([], 0, 0);

  // The proof is the path from the old tree's last perfect subtree to the new root. That
  // subtree opens the proof unless it is the whole old tree, which the verifier has.
  const level = trailingZeros(fromSize);
  const index = shiftRight(fromSize - 1, level);
  const nodes = pathNodes(index, level, toSize);
  return index === 0 ? nodes.skipFirst() : nodes;
}

/** The perfect subtrees that make up the tree of `size` leaves, left to right. */
export function rootNodes(size: number): NodeId[] {
  assertTreePosition('size', size);
  return rangeNodes(0, size);
}

/** Folds the hashes of rootNodes(size) right to left into the tree's root hash. */
export function rootFromNodes(hashes: readonly Uint8Array[], hasher: Rfc6962Hasher): Uint8Array {
  if (hashes.length === 0) return hasher.emptyRoot();
  let root = hashes[hashes.length - 1] as Uint8Array;
  for (let i = hashes.length - 2; i >= 0; i--) root = hasher.nodeHash(hashes[i] as Uint8Array, root);
  return root;
}

export async function rootHash(reader: SubtreeReader, size: number, hasher: Rfc6962Hasher): Promise<Uint8Array> {
  const ids = rootNodes(size);
  return rootFromNodes(await readExactly(reader, ids), hasher);
}

export async function inclusionProof(
  reader: SubtreeReader,
  index: number,
  size: number,
  hasher: Rfc6962Hasher,
): Promise<Uint8Array[]> {
  const nodes = inclusionNodes(index, size);
  return nodes.rehash(await readExactly(reader, nodes.ids), hasher);
}

/**
 * Inclusion proofs of several leaves in the tree of `size` leaves, from one read of the
 * reader, each with the leaf hash as the tree stores it. Meant for pages of an export:
 * consecutive leaves share most of their nodes, so each distinct node is read once and each
 * distinct ephemeral node folded once, and a node shared by several proofs is the same
 * Uint8Array in each (callers may cache per node, e.g. its hex).
 */
export async function inclusionProofsWithLeaves(
  reader: SubtreeReader,
  indices: readonly number[],
  size: number,
  hasher: Rfc6962Hasher,
): Promise<{ leafHash: Uint8Array; hashes: Uint8Array[] }[]> {
  assertTreePosition('size', size);
  const paths = indices.map((index) => {
    assertTreePosition('index', index);
    if (index >= size) throw new ProofRangeError(`index ${index} is out of bounds for tree size ${size}`);
    return pathNodes(index, 0, size);
  });
  // The path starts with the leaf itself, never part of the ephemeral node's cover.
  return (await sharedRehash(reader, paths, hasher)).map(([leafHash, ...proof]) => ({ leafHash: leafHash!, hashes: proof }));
}

/**
 * Inclusion proofs of several leaves in the tree of `size` leaves, from one read of the
 * reader: what a batch's receipts need. The leaves of one batch sit together at the tree's
 * right edge, so their proofs share most nodes and the same ephemeral node, read and folded
 * once here instead of once per leaf.
 */
export async function inclusionProofs(reader: SubtreeReader, indices: readonly number[], size: number, hasher: Rfc6962Hasher): Promise<Uint8Array[][]> {
  const lists = indices.map((index) => inclusionNodeList(index, size));
  return sharedRehash(reader, lists, hasher);
}

/** Rehashes several node lists from one read of their distinct nodes, sharing the folded ephemeral nodes. */
async function sharedRehash(reader: SubtreeReader, lists: readonly ProofNodeList[], hasher: Rfc6962Hasher): Promise<Uint8Array[][]> {
  // A node's key: levels are below 64 and indices below 2^47 in any tree a safe integer can size.
  const keyOf = (id: NodeId): number => id.index * 64 + id.level;
  const slot = new Map<number, number>();
  const unique: NodeId[] = [];
  for (const list of lists) {
    for (const id of list.ids) {
      const key = keyOf(id);
      if (!slot.has(key)) {
        slot.set(key, unique.length);
        unique.push(id);
      }
    }
  }
  const hashes = await readExactly(reader, unique);
  const ephemeral = new Map<number, Uint8Array>();
  return lists.map((list) => list.rehash(list.ids.map((id) => hashes[slot.get(keyOf(id))!]!), hasher, ephemeral));
}

export async function consistencyProof(
  reader: SubtreeReader,
  fromSize: number,
  toSize: number,
  hasher: Rfc6962Hasher,
): Promise<Uint8Array[]> {
  const nodes = consistencyNodes(fromSize, toSize);
  return nodes.rehash(await readExactly(reader, nodes.ids), hasher);
}

async function readExactly(reader: SubtreeReader, ids: readonly NodeId[]): Promise<Uint8Array[]> {
  if (ids.length === 0) return [];
  const hashes = await reader.readNodes(ids);
  if (hashes.length !== ids.length) {
    throw new NodeCountError(`reader returned ${hashes.length} hashes for ${ids.length} nodes`);
  }
  return hashes;
}

/**
 * The node (level, index) followed by its audit path up to the root of the tree of
 * `size` leaves. The path climbs siblings up to the "fork", the highest ancestor that
 * is still a perfect subtree; above it the sibling is the ephemeral node (listed as its
 * cover), and the perfect subtrees left of the fork complete the path.
 */
function pathNodes(index: number, level: number, size: number): ProofNodeList {
  const inner = bitLength(xor(index, shiftRight(size, level))) - 1;
  const fork = nodeId(level + inner, shiftRight(index, inner));
  const forkBegin = nodeBegin(fork);
  const forkEnd = nodeEnd(fork);

  const ids: NodeId[] = [nodeId(level, index)];
  for (let node = nodeId(level, index); node.level < fork.level; node = parent(node)) {
    ids.push(sibling(node));
  }
  const begin = ids.length;
  // Both covers are reversed so that hashes go from low to high levels, i.e. nearest first.
  ids.push(...rangeNodes(forkEnd, size).reverse());
  const end = ids.length;
  ids.push(...rangeNodes(0, forkBegin).reverse());
  return begin < end ? new ProofNodeList(ids, begin, end) : new ProofNodeList(ids, 0, 0);
}
