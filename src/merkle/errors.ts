/**
 * Errors of the server-side tree maths. These signal caller bugs or corrupt storage,
 * not untrusted input failing verification (that is VerificationError in src/verify).
 */

/** A tree size, leaf index or node coordinate is negative, unsafe or out of order. */
export class ProofRangeError extends RangeError {
  override readonly name = 'ProofRangeError';
}

/** A list of node hashes does not line up with the node IDs it is supposed to match. */
export class NodeCountError extends Error {
  override readonly name = 'NodeCountError';
}

export function assertTreePosition(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ProofRangeError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}
