/**
 * The auditor's decision, pure: given the checkpoint it trusted before, the checkpoint the
 * log shows now (both already signature-verified) and the log's consistency proof between
 * them, is the log still the same append-only history? A log may only grow; any other
 * answer is evidence, signed by the log itself, that history was rewritten or forked.
 */
import { bytesToHex, verifyConsistency, VerificationError } from '../verify';

/** A checkpoint whose signature by the pinned key has been verified. */
export interface TrustedCheckpoint {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  /** The signed note, kept verbatim as evidence. */
  readonly note: string;
}

export type InconsistencyReason = 'rollback' | 'fork' | 'bad-consistency-proof';

export type AuditVerdict =
  | { readonly kind: 'first' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'grown'; readonly growth: number }
  | { readonly kind: 'inconsistent'; readonly reason: InconsistencyReason; readonly message: string };

export interface ProofRequest {
  readonly fromSize: number;
  readonly toSize: number;
}

/** The consistency proof needed to judge `current` against `previous`, if any. */
export function proofNeeded(previous: TrustedCheckpoint | undefined, current: TrustedCheckpoint): ProofRequest | undefined {
  if (!previous || current.treeSize <= previous.treeSize) return undefined;
  return { fromSize: previous.treeSize, toSize: current.treeSize };
}

/**
 * Judges `current` against `previous`. `proof` must be given exactly when proofNeeded()
 * asked for one. A proof that is malformed counts as a failed proof: the log could not
 * show that it only grew, and the two signed checkpoints are what the caller keeps.
 */
export function judgeCheckpoints(
  previous: TrustedCheckpoint | undefined,
  current: TrustedCheckpoint,
  proof?: readonly Uint8Array[],
): AuditVerdict {
  if (!previous) return { kind: 'first' };
  const from = previous.treeSize;
  const to = current.treeSize;
  if (to < from) {
    return {
      kind: 'inconsistent',
      reason: 'rollback',
      message: `the log shrank from ${from} to ${to} leaves: a signed log never loses entries`,
    };
  }
  if (to === from) {
    if (bytesToHex(previous.rootHash) === bytesToHex(current.rootHash)) return { kind: 'unchanged' };
    return {
      kind: 'inconsistent',
      reason: 'fork',
      message: `two signed checkpoints for tree size ${to} have different roots (${shortHex(previous.rootHash)}… and ${shortHex(current.rootHash)}…)`,
    };
  }
  if (!proof) throw new TypeError(`judging size ${from} → ${to} needs a consistency proof`);
  try {
    verifyConsistency({ fromSize: from, toSize: to, fromRoot: previous.rootHash, toRoot: current.rootHash, proof });
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    return {
      kind: 'inconsistent',
      reason: 'bad-consistency-proof',
      message: `the log's consistency proof from size ${from} to ${to} does not verify (${err.message}): the tree of ${to} leaves does not extend the one seen before`,
    };
  }
  return { kind: 'grown', growth: to - from };
}

function shortHex(hash: Uint8Array): string {
  return bytesToHex(hash).slice(0, 16);
}
