/**
 * The one table from the ledger's error codes to GraphQL `extensions.code` (and an HTTP
 * status where one helps a client or a load balancer). Codes not listed here never reach a
 * client as themselves: they are internal errors, answered without detail.
 */
import { GraphQLError } from 'graphql';
import { LedgerError, type LedgerErrorCode } from '../errors';

export const GRAPHQL_CODES: Record<LedgerErrorCode, { readonly code: string; readonly status?: number }> = {
  BAD_INPUT: { code: 'BAD_USER_INPUT' },
  IDEMPOTENCY_CONFLICT: { code: 'IDEMPOTENCY_CONFLICT', status: 409 },
  EVENT_REJECTED: { code: 'BAD_USER_INPUT' },
  DUPLICATE_KEY: { code: 'BAD_USER_INPUT' },
  UNAVAILABLE: { code: 'UNAVAILABLE', status: 503 },
  LEAF_INDEX_TAKEN: { code: 'INTERNAL_SERVER_ERROR' },
  CORRUPT: { code: 'INTERNAL_SERVER_ERROR' },
  WRONG_DATABASE: { code: 'INTERNAL_SERVER_ERROR' },
  KEY_CONFIGURATION: { code: 'INTERNAL_SERVER_ERROR' },
  LEGAL_HOLD: { code: 'LEGAL_HOLD', status: 409 },
  EVENT_REDACTED: { code: 'EVENT_REDACTED', status: 410 },
  WITNESS_QUORUM_NOT_MET: { code: 'WITNESS_QUORUM_NOT_MET', status: 503 },
  INTERNAL: { code: 'INTERNAL_SERVER_ERROR' },
};

/** The GraphQL error a ledger error is answered with; details only for codes meant for clients. */
export function graphqlErrorOf(err: LedgerError, extra: Record<string, unknown> = {}): GraphQLError {
  const mapped = GRAPHQL_CODES[err.code];
  const internal = mapped.code === 'INTERNAL_SERVER_ERROR';
  return new GraphQLError(internal ? 'internal error' : err.message, {
    ...(internal ? {} : { originalError: err }),
    extensions: { code: mapped.code, ...(mapped.status !== undefined && { http: { status: mapped.status } }), ...extra },
  });
}
