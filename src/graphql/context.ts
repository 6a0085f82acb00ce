/**
 * Per-request context and the mapping from domain errors to GraphQL error codes. Every
 * refusal carries `extensions.code`: UNAUTHENTICATED, FORBIDDEN or BAD_USER_INPUT.
 */
import { GraphQLError } from 'graphql';
import { decide, type Operation, type Policy, type Principal } from '../auth/role';
import { EventInputError } from '../event/eventInput';
import { LedgerInputError, type Ledger } from '../ledger/ledger';
import { ProofRangeError } from '../merkle/errors';
import type { CheckpointDoc } from '../log/checkpointStore';
import type { Checkpoint } from './types/log';

export interface LedgerContext {
  readonly ledger: Ledger;
  readonly policy: Policy;
  readonly principal: Principal | undefined;
  /** Set when the request carried a token that is unknown or revoked. */
  readonly badCredential: boolean;
}

export function authorize(ctx: LedgerContext, operation: Operation): Principal | undefined {
  if (ctx.badCredential) throw new GraphQLError('unknown or revoked API key', { extensions: { code: 'UNAUTHENTICATED' } });
  const decision = decide(ctx.principal, operation, ctx.policy);
  if (!decision.allowed) throw new GraphQLError(decision.reason, { extensions: { code: decision.code } });
  return ctx.principal;
}

export function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field && { field }) } });
}

/** Runs a resolver body, turning expected domain errors into coded GraphQL errors. */
export async function mapErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof EventInputError) throw badInput(err.message, err.field);
    if (err instanceof LedgerInputError || err instanceof ProofRangeError) throw badInput(err.message);
    throw err;
  }
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

export function checkpointView(ledger: Ledger, doc: CheckpointDoc): Checkpoint {
  return { origin: ledger.origin, treeSize: doc._id, rootHash: doc.rootHash, note: doc.note };
}

/** Bearer token from the Authorization header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
