/**
 * What can go wrong when a service talks to the ledger, as typed errors carrying a code:
 * the server refused (its GraphQL `extensions.code` or HTTP JSON error code), it could not be
 * reached, it answered something the API does not promise, or a receipt did not verify.
 */

export class LedgerClientError extends Error {
  override name = 'LedgerClientError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The server answered with an error: `code` is its `extensions.code` (GraphQL) or `error.code` (HTTP JSON). */
export class LedgerApiError extends LedgerClientError {
  override name = 'LedgerApiError';
  constructor(
    code: string,
    message: string,
    /** The HTTP status of the answer. */
    readonly status: number,
    /** The GraphQL error's `extensions` (for an HTTP JSON error: its code alone). */
    readonly extensions: Readonly<Record<string, unknown>> = { code },
  ) {
    super(code, message);
  }
}

/** The idempotency key was used before for other content: nothing was recorded for this call. */
export class IdempotencyConflictError extends LedgerApiError {
  override name = 'IdempotencyConflictError';
  /** The key, as the caller sent it. */
  readonly idempotencyKey: string;
  /** Where the content first sent with this key was recorded. */
  readonly leafIndex: number;
  constructor(message: string, status: number, extensions: Readonly<Record<string, unknown>>) {
    super('IDEMPOTENCY_CONFLICT', message, status, extensions);
    this.idempotencyKey = String(extensions.idempotencyKey);
    this.leafIndex = Number(extensions.leafIndex);
  }
}

/** A retry names an event whose content was redacted since: no receipt can carry its leaf. */
export class EventRedactedError extends LedgerApiError {
  override name = 'EventRedactedError';
  readonly leafIndex: number;
  constructor(message: string, status: number, extensions: Readonly<Record<string, unknown>>) {
    super('EVENT_REDACTED', message, status, extensions);
    this.leafIndex = Number(extensions.leafIndex);
  }
}

/** The server could not be reached (every attempt failed), or the connection broke mid-answer. */
export class LedgerNetworkError extends LedgerClientError {
  override name = 'LedgerNetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETWORK', message, options);
  }
}

/** The server answered something other than what the API promises. */
export class LedgerResponseError extends LedgerClientError {
  override name = 'LedgerResponseError';
  constructor(message: string) {
    super('BAD_RESPONSE', message);
  }
}

/** Which part of a receipt failed to verify. */
export type ReceiptProblem =
  /** The receipt's fields are missing, malformed or disagree with each other. */
  | 'RECEIPT'
  /** The checkpoint note is not signed by the verifier key, or disagrees with the receipt's checkpoint fields. */
  | 'CHECKPOINT'
  /** The leaf text does not hash (RFC 6962) to the receipt's leaf hash. */
  | 'LEAF_HASH'
  /** The inclusion proof does not lead from the leaf hash to the signed root. */
  | 'INCLUSION'
  /** The checkpoint lacks the witness cosignatures the caller's witness policy requires. */
  | 'WITNESSES'
  /** The leaf text is not the JSON of the event the receipt names. */
  | 'LEAF';

export class ReceiptVerificationError extends LedgerClientError {
  override name = 'ReceiptVerificationError';
  constructor(
    readonly problem: ReceiptProblem,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(problem, message, options);
  }
}

/** The typed error for a server's error answer. */
export function apiError(code: string, message: string, status: number, extensions: Readonly<Record<string, unknown>> = { code }): LedgerApiError {
  if (code === 'IDEMPOTENCY_CONFLICT') return new IdempotencyConflictError(message, status, extensions);
  if (code === 'EVENT_REDACTED') return new EventRedactedError(message, status, extensions);
  return new LedgerApiError(code, message, status, extensions);
}
