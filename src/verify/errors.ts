/**
 * The single error type of the verifier library. Callers branch on `code`, never on
 * message text, so messages can stay descriptive without becoming an API.
 */

export type VerificationErrorCode =
  /** A size, index, hash or other argument is outside what the algorithm accepts. */
  | 'INVALID_ARGUMENT'
  /** A proof has the wrong number of hashes for the tree sizes it claims to relate. */
  | 'PROOF_SIZE'
  /** A recomputed root does not match the expected root. */
  | 'ROOT_MISMATCH'
  /** A verifier key string is not a well-formed Ed25519 note verifier key. */
  | 'MALFORMED_KEY'
  /** The text is not a well-formed C2SP signed note. */
  | 'MALFORMED_NOTE'
  /** A signature by a known key does not verify. */
  | 'INVALID_SIGNATURE'
  /** The note carries no signature by any of the trusted keys. */
  | 'UNVERIFIED_NOTE'
  /** The note text is not a well-formed C2SP tlog-checkpoint. */
  | 'MALFORMED_CHECKPOINT'
  /** The checkpoint is for a different log than the caller expected. */
  | 'ORIGIN_MISMATCH'
  /** A witness policy file is not well formed. */
  | 'MALFORMED_WITNESS_POLICY'
  /** The checkpoint lacks the valid witness cosignatures that the witness policy requires. */
  | 'WITNESS_QUORUM';

export class VerificationError extends Error {
  override readonly name = 'VerificationError';
  readonly code: VerificationErrorCode;

  constructor(code: VerificationErrorCode, message: string) {
    super(message);
    this.code = code;
    // Keeps `instanceof` working when compiled to ES5-style classes by downstream bundlers.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}
