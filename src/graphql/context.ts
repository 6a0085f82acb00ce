/**
 * Per-request context and the mapping from domain errors to GraphQL error codes. Every
 * refusal carries `extensions.code`: UNAUTHENTICATED, FORBIDDEN or BAD_USER_INPUT. Every
 * UNAUTHENTICATED or FORBIDDEN answer is first recorded in the log as `ledger.access.denied`.
 */
import { GraphQLError } from 'graphql';
import { actorOfUser, type Authentication, type KnownActor } from '../auth/authentication';
import { decide, type Decision, type DenialCode, type Operation, type Policy, type Principal } from '../auth/role';
import { DirectoryInputError } from '../directory/directory';
import { EventInputError } from '../event/eventInput';
import { LedgerError } from '../errors';
import type { Source } from '../event/eventRecord';
import type { DenialSink } from '../ledger/denialRecorder';
import { EventRedactedError, type Ledger } from '../ledger/ledger';
import { IdempotencyConflictError } from '../log/idempotency';
import { denialEvent } from '../ledger/selfEvent';
import { ProofRangeError } from '../merkle/errors';
import { SizeHistoryRangeError } from '../log/sizeHistory';
import type { SignedCheckpoint } from '../storage/port';
import { graphqlErrorOf } from './errorCodes';
import type { Checkpoint } from './types/log';
import type { Witnessing } from '../witness/witnessing';

export interface LedgerContext {
  readonly ledger: Ledger;
  readonly policy: Policy;
  /** Whether event reads by READER and AUDITOR keys are recorded as `ledger.events.read`. */
  readonly recordReads: boolean;
  readonly authentication: Authentication;
  /** Client address and user agent, recorded on refusals, directory changes and reads. */
  readonly source?: Source;
  /** Rate-limit key of the client address: refusals are aggregated per caller and address. */
  readonly clientKey?: string;
  /** Records refusals, aggregated (see denialAggregator.ts); absent: each one at once. */
  readonly denials?: DenialSink;
  /** Tells this server's webhook worker that a subscription changed. */
  readonly webhooks?: { changed(): void };
  /** Tells this server's alert evaluator that a rule changed. */
  readonly alerts?: { changed(): void };
  /** Counts refusals for /metrics. */
  readonly metrics?: { denied(operation: string, code: string): void };
  /** Witness cosigning (src/witness/): published checkpoints carry cosignatures; receipts may wait for them. */
  readonly witnessing?: Witnessing;
}

/** A refused call: the caller may not do this (as opposed to asking for something malformed). */
export class AccessDenied extends Error {
  override readonly name = 'AccessDenied';
  constructor(
    readonly code: DenialCode,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function principalOf(ctx: LedgerContext): Principal | undefined {
  return ctx.authentication.kind === 'authenticated' ? ctx.authentication.principal : undefined;
}

/** Throws AccessDenied unless the decision allows. */
export function enforce(decision: Decision): void {
  if (!decision.allowed) throw new AccessDenied(decision.code, decision.reason);
}

export function authorize(ctx: LedgerContext, operation: Operation): Principal | undefined {
  if (ctx.authentication.kind === 'refused') throw new AccessDenied('UNAUTHENTICATED', ctx.authentication.reason);
  const principal = principalOf(ctx);
  enforce(decide(principal, operation, ctx.policy));
  return principal;
}

/** For operations no policy makes public: an allowed call always has a principal. */
export function authorizeKey(ctx: LedgerContext, operation: Operation): Principal {
  const principal = authorize(ctx, operation);
  if (!principal) throw new AccessDenied('UNAUTHENTICATED', `${operation} needs an API key`);
  return principal;
}

export function actorOf(principal: Principal): KnownActor {
  return actorOfUser({ id: principal.userId, name: principal.userName, type: principal.actorType === 'USER' ? 'HUMAN' : 'SERVICE' });
}

function callerActor(ctx: LedgerContext): KnownActor | undefined {
  const auth = ctx.authentication;
  if (auth.kind === 'authenticated') return actorOf(auth.principal);
  return auth.kind === 'refused' ? auth.actor : undefined;
}

export function badInput(message: string, field?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(field && { field }) } });
}

/** The ledger cannot do its part now (its database is unreachable): HTTP 503. */
export function unavailable(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'UNAVAILABLE', http: { status: 503 } } });
}

/**
 * Records a refusal before it is answered. Refusals repeat (floods, aliases), so they go
 * through the aggregating sink, keyed by who was refused, where from, for what and why. One
 * that cannot be recorded is answered UNAVAILABLE: nobody is refused without a trace.
 */
export async function recordDenial(ctx: LedgerContext, operation: string, err: AccessDenied): Promise<void> {
  ctx.metrics?.denied(operation, err.code);
  const event = denialEvent(callerActor(ctx), operation, err.code, err.reason, ctx.source);
  const auth = ctx.authentication;
  // A caller without a key is known only by its address; sending no token and sending a bad one are told apart.
  const who = auth.kind === 'authenticated' ? `key:${auth.principal.keyId}` : `${auth.kind}:${event.actor.id}@${ctx.clientKey ?? 'unknown'}`;
  try {
    if (ctx.denials) await ctx.denials.record(`${who}|${operation}|${err.code}`, event, auth.kind !== 'authenticated');
    else await ctx.ledger.recordSelf([event]);
  } catch {
    throw unavailable('the ledger cannot record this refusal now; try again later');
  }
}

/**
 * Runs a resolver body (authorization included), turning expected domain errors into coded
 * GraphQL errors. A refusal is recorded before it is answered, so the caller cannot outrun it.
 */
export async function guard<T>(ctx: LedgerContext, operation: string, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AccessDenied) {
      await recordDenial(ctx, operation, err);
      throw new GraphQLError(err.reason, { extensions: { code: err.code } });
    }
    if (err instanceof EventInputError || err instanceof DirectoryInputError) throw badInput(err.message, err.field);
    if (err instanceof ProofRangeError || err instanceof SizeHistoryRangeError) throw badInput(err.message);
    if (err instanceof IdempotencyConflictError) {
      throw graphqlErrorOf(err, { idempotencyKey: err.idempotencyKey, leafIndex: err.leafIndex });
    }
    if (err instanceof EventRedactedError) throw graphqlErrorOf(err, { leafIndex: err.leafIndex });
    if (err instanceof LedgerError) throw graphqlErrorOf(err);
    throw err;
  }
}

export function checkpointView(ledger: Ledger, checkpoint: SignedCheckpoint): Checkpoint {
  return { origin: ledger.origin, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, note: checkpoint.note };
}

/** Bearer token from the Authorization header, if any. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}
