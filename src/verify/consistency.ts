/**
 * Consistency proof verification, RFC 9162 §2.1.4.2, written in the shape of
 * transparency-dev/merkle proof.VerifyConsistency so that both agree on every proof
 * between non-empty trees.
 *
 * Edge cases, which the RFC leaves undefined (it only covers 0 < fromSize < toSize):
 * - fromSize > toSize: rejected.
 * - fromSize = toSize: the proof must be empty and the two roots equal (as in Go).
 * - fromSize = 0: the empty tree is a prefix of every tree, so the proof must be empty
 *   and toRoot is unconstrained. Unlike transparency-dev (which ignores root1 here) we
 *   also require fromRoot to be the empty-tree root SHA-256(""): a caller that claims to
 *   hold a size-0 tree with any other root holds something that is not a tree head, and
 *   accepting it would hide that bug. (golang.org/x/mod/sumdb/tlog.CheckTree rejects
 *   size 0 outright; we accept it because a fresh client legitimately starts there.)
 * Every hash must be 32 bytes.
 */
import { assertHash, assertHashList, assertTreePosition } from './assert';
import { shiftRight, trailingZeros } from './bits';
import { bytesEqual } from './bytes';
import { VerificationError } from './errors';
import { chainBorderRight, chainInner, chainInnerRight, decomposeInclusionProof } from './hashChain';
import { rfc6962, type Rfc6962Hasher } from './rfc6962';

export interface ConsistencyVerificationInput {
  readonly fromSize: number;
  readonly toSize: number;
  readonly fromRoot: Uint8Array;
  readonly toRoot: Uint8Array;
  readonly proof: readonly Uint8Array[];
}

/** Throws VerificationError unless the tree with toRoot is an append-only extension of the one with fromRoot. */
export function verifyConsistency(input: ConsistencyVerificationInput, hasher: Rfc6962Hasher = rfc6962): void {
  const { fromSize, toSize, fromRoot, toRoot, proof } = input;
  assertTreePosition('fromSize', fromSize);
  assertTreePosition('toSize', toSize);
  assertHash('fromRoot', fromRoot);
  assertHash('toRoot', toRoot);
  assertHashList('proof', proof);

  if (fromSize > toSize) {
    throw new VerificationError('INVALID_ARGUMENT', `fromSize ${fromSize} is larger than toSize ${toSize}`);
  }
  if (fromSize === 0 && !bytesEqual(fromRoot, hasher.emptyRoot())) {
    throw new VerificationError('ROOT_MISMATCH', 'fromRoot of a size-0 tree must be the empty-tree root');
  }
  if (fromSize === toSize) {
    requireEmptyProof(proof, 'the tree sizes are equal');
    if (!bytesEqual(fromRoot, toRoot)) {
      throw new VerificationError('ROOT_MISMATCH', `roots differ for the same tree size ${fromSize}`);
    }
    return;
  }
  if (fromSize === 0) {
    requireEmptyProof(proof, 'fromSize is 0');
    return;
  }
  if (proof.length === 0) {
    throw new VerificationError('PROOF_SIZE', 'consistency proof is empty');
  }

  // The proof is the inclusion proof of the last node of the old tree's rightmost
  // perfect subtree (of 2^shift leaves), taken from level `shift` upwards.
  const decomposition = decomposeInclusionProof(fromSize - 1, toSize);
  const shift = trailingZeros(fromSize);
  const inner = decomposition.inner - shift;
  const border = decomposition.border;

  // That subtree's hash opens the proof, unless the whole old tree is that subtree,
  // in which case the verifier already has it as fromRoot.
  const fromIsPerfect = fromSize === 2 ** shift;
  const seed = fromIsPerfect ? fromRoot : (proof[0] as Uint8Array);
  const path = fromIsPerfect ? proof : proof.slice(1);
  if (path.length !== inner + border) {
    throw new VerificationError(
      'PROOF_SIZE',
      `consistency proof from ${fromSize} to ${toSize} must have ${inner + border + (fromIsPerfect ? 0 : 1)} hashes, got ${proof.length}`,
    );
  }
  const innerPath = path.slice(0, inner);
  const borderPath = path.slice(inner);
  const mask = shiftRight(fromSize - 1, shift);

  const computedFrom = chainBorderRight(hasher, chainInnerRight(hasher, seed, innerPath, mask), borderPath);
  if (!bytesEqual(computedFrom, fromRoot)) {
    throw new VerificationError('ROOT_MISMATCH', `consistency proof does not lead to the given root of tree size ${fromSize}`);
  }
  const computedTo = chainBorderRight(hasher, chainInner(hasher, seed, innerPath, mask), borderPath);
  if (!bytesEqual(computedTo, toRoot)) {
    throw new VerificationError('ROOT_MISMATCH', `consistency proof does not lead to the given root of tree size ${toSize}`);
  }
}

function requireEmptyProof(proof: readonly Uint8Array[], reason: string): void {
  if (proof.length !== 0) {
    throw new VerificationError('PROOF_SIZE', `consistency proof must be empty when ${reason}, got ${proof.length} hashes`);
  }
}
