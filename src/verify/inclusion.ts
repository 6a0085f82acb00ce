/**
 * Inclusion proof verification, RFC 9162 §2.1.3.2, written in the shape of
 * transparency-dev/merkle proof.VerifyInclusion so that both accept and reject exactly
 * the same inputs. Stricter in one respect: every proof hash must be 32 bytes.
 */
import { assertHash, assertHashList, assertTreePosition } from './assert';
import { bytesEqual } from './bytes';
import { VerificationError } from './errors';
import { chainBorderRight, chainInner, decomposeInclusionProof } from './hashChain';
import { rfc6962, type Rfc6962Hasher } from './rfc6962';

export interface InclusionProofInput {
  /** RFC 6962 leaf hash of the entry, i.e. SHA-256(0x00 || entry). */
  readonly leafHash: Uint8Array;
  /** Zero-based position of the entry in the log. */
  readonly leafIndex: number;
  /** Size of the tree whose root the proof leads to. */
  readonly treeSize: number;
  /** Audit path, from the leaf's sibling up to the child of the root. */
  readonly proof: readonly Uint8Array[];
}

export interface InclusionVerificationInput extends InclusionProofInput {
  /** Root hash of the tree of size treeSize, usually taken from a verified checkpoint. */
  readonly rootHash: Uint8Array;
}

/**
 * Recomputes the root implied by an inclusion proof. Useful on its own when the caller
 * wants to compare against several candidate roots.
 */
export function rootFromInclusionProof(input: InclusionProofInput, hasher: Rfc6962Hasher = rfc6962): Uint8Array {
  const { leafHash, leafIndex, treeSize, proof } = input;
  assertTreePosition('leafIndex', leafIndex);
  assertTreePosition('treeSize', treeSize);
  assertHash('leafHash', leafHash);
  assertHashList('proof', proof);
  if (leafIndex >= treeSize) {
    throw new VerificationError('INVALID_ARGUMENT', `leafIndex ${leafIndex} is beyond treeSize ${treeSize}`);
  }
  const { inner, border } = decomposeInclusionProof(leafIndex, treeSize);
  if (proof.length !== inner + border) {
    throw new VerificationError(
      'PROOF_SIZE',
      `inclusion proof for leaf ${leafIndex} in tree of size ${treeSize} must have ${inner + border} hashes, got ${proof.length}`,
    );
  }
  const innerRoot = chainInner(hasher, leafHash, proof.slice(0, inner), leafIndex);
  return chainBorderRight(hasher, innerRoot, proof.slice(inner));
}

/** Throws VerificationError unless the proof shows leafHash at leafIndex in the tree with rootHash. */
export function verifyInclusion(input: InclusionVerificationInput, hasher: Rfc6962Hasher = rfc6962): void {
  assertHash('rootHash', input.rootHash);
  const computed = rootFromInclusionProof(input, hasher);
  if (!bytesEqual(computed, input.rootHash)) {
    throw new VerificationError(
      'ROOT_MISMATCH',
      `inclusion proof for leaf ${input.leafIndex} does not lead to the given root of tree size ${input.treeSize}`,
    );
  }
}
