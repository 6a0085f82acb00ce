/**
 * Addresses of complete subtrees, as in transparency-dev/merkle/compact. Only complete
 * (perfect) subtrees have a hash that never changes as the log grows, so they are the
 * only nodes the server stores and the only ones proofs are assembled from.
 */
import { bitLength, shiftLeft, trailingZeros } from '../verify/bits';

/** The perfect subtree of 2^level leaves [index * 2^level, (index + 1) * 2^level). */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

export function nodeId(level: number, index: number): NodeId {
  return { level, index };
}

/** First leaf index covered by the node. */
export function nodeBegin(id: NodeId): number {
  return shiftLeft(id.index, id.level);
}

/** One past the last leaf index covered by the node. */
export function nodeEnd(id: NodeId): number {
  return shiftLeft(id.index + 1, id.level);
}

export function sibling(id: NodeId): NodeId {
  return { level: id.level, index: id.index % 2 === 0 ? id.index + 1 : id.index - 1 };
}

export function parent(id: NodeId): NodeId {
  return { level: id.level + 1, index: Math.floor(id.index / 2) };
}

export function sameNode(a: NodeId, b: NodeId): boolean {
  return a.level === b.level && a.index === b.index;
}

/**
 * The compact range of leaves [begin, end): the fewest perfect subtrees that exactly
 * cover it, left to right (levels rise then fall). Greedy: at each position take the
 * largest aligned subtree that still fits.
 */
export function rangeNodes(begin: number, end: number): NodeId[] {
  const ids: NodeId[] = [];
  let pos = begin;
  while (pos < end) {
    // Aligned: no more than pos's trailing zeros; fits: 2^level <= end - pos.
    let level = bitLength(end - pos) - 1;
    if (pos !== 0) level = Math.min(level, trailingZeros(pos));
    const width = 2 ** level;
    ids.push({ level, index: pos / width });
    pos += width;
  }
  return ids;
}
