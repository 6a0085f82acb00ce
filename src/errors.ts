/**
 * The one error base of the server side. Every failure the ledger means to report carries a
 * code; the GraphQL shell maps codes to `extensions.code` through one table
 * (graphql/errorCodes.ts), the CLI to exit codes. Errors of the verification library
 * (`src/verify`) stay apart: that library ships on its own.
 */
export type LedgerErrorCode =
  /** The request is malformed or names something that cannot exist. */
  | 'BAD_INPUT'
  /** An idempotency key was reused with different content. */
  | 'IDEMPOTENCY_CONFLICT'
  /** One event cannot be stored (too large for the engine, refused by it). */
  | 'EVENT_REJECTED'
  /** The database cannot be reached or is not answering in time. */
  | 'UNAVAILABLE'
  /** A unique key is already taken. */
  | 'DUPLICATE_KEY'
  /** A leaf index is already stored: another sequencer wrote it. */
  | 'LEAF_INDEX_TAKEN'
  /** The stored log contradicts itself. */
  | 'CORRUPT'
  /** The database is not a ledger, or is locked by another server. */
  | 'WRONG_DATABASE'
  /** The key-encryption key is missing, wrong, or cannot open the ledger's keys (start-up). */
  | 'KEY_CONFIGURATION'
  /** The event's content was crypto-shredded (redacted): what was asked for no longer exists. */
  | 'EVENT_REDACTED'
  /** A held event would be shredded (legal hold). */
  | 'LEGAL_HOLD'
  /** A receipt was to wait for witness cosignatures (LEDGER_WITNESS_WAIT) and the quorum did not cosign in time. */
  | 'WITNESS_QUORUM_NOT_MET'
  /** A bug or an unexpected state. */
  | 'INTERNAL';

export class LedgerError extends Error {
  override name = 'LedgerError';
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
