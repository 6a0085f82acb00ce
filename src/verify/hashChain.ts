/**
 * The hash chains that turn an audit path back into a root, after
 * transparency-dev/merkle proof/verify.go. A path to the root of a tree of size n
 * climbs through "inner" levels, where the path still lies in a perfect subtree and
 * the sibling may be on either side, and then "border" levels along the right edge of
 * the tree, where every sibling is on the left because the right side is missing.
 */
import { bitAt, bitLength, onesCount, shiftRight, xor } from './bits';
import type { Rfc6962Hasher } from './rfc6962';

/** Sizes of the inner and border parts of the inclusion proof for index in a tree of size. */
export function decomposeInclusionProof(index: number, size: number): { inner: number; border: number } {
  const inner = bitLength(xor(index, size - 1));
  const border = onesCount(shiftRight(index, inner));
  return { inner, border };
}

/** Climbs the inner levels; bit i of index says on which side the seed sits at level i. */
export function chainInner(
  hasher: Rfc6962Hasher,
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
): Uint8Array {
  let hash = seed;
  for (let i = 0; i < proof.length; i++) {
    const sibling = proof[i] as Uint8Array;
    hash = bitAt(index, i) === 0 ? hasher.nodeHash(hash, sibling) : hasher.nodeHash(sibling, hash);
  }
  return hash;
}

/**
 * Like chainInner but only for levels where the seed is a right child: this rebuilds
 * the root of the smaller tree in a consistency proof, whose right edge ends at the seed.
 */
export function chainInnerRight(
  hasher: Rfc6962Hasher,
  seed: Uint8Array,
  proof: readonly Uint8Array[],
  index: number,
): Uint8Array {
  let hash = seed;
  for (let i = 0; i < proof.length; i++) {
    if (bitAt(index, i) === 1) hash = hasher.nodeHash(proof[i] as Uint8Array, hash);
  }
  return hash;
}

/** Climbs the right border, where every sibling is a left child. */
export function chainBorderRight(hasher: Rfc6962Hasher, seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  let hash = seed;
  for (const sibling of proof) hash = hasher.nodeHash(sibling, hash);
  return hash;
}
