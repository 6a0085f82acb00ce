/**
 * Events as the GraphQL API takes and serves them: what a service records, how a reader
 * filters, what comes back, and what a leaf holds.
 */

export type ActorType = 'USER' | 'SERVICE' | 'SYSTEM';
export type Outcome = 'SUCCESS' | 'FAILURE' | 'DENIED';
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** An event to record (GraphQL `EventInput`). */
export interface EventInput {
  /** Dotted verb, e.g. `user.role.grant`; `ledger.` is reserved for the server. */
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: ActorType; readonly name?: string };
  readonly target?: { readonly type: string; readonly id: string; readonly name?: string };
  /** Default SUCCESS. */
  readonly outcome?: Outcome;
  readonly reason?: string;
  /** When it happened, by the client's clock. */
  readonly occurredAt?: Date | string;
  readonly source?: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string };
  /** A JSON object, at most 16 KiB as canonical JSON. */
  readonly metadata?: { readonly [key: string]: JsonValue };
  /**
   * A retry with the same key (and content) is answered with the original receipt. The client
   * makes one per event when none is given, and reuses it on every retry of that event.
   */
  readonly idempotencyKey?: string;
  /** Groups to add to the actor's, within the API key's groups. */
  readonly groups?: readonly string[];
}

/** Which events to read (GraphQL `EventFilter`). */
export interface EventFilter {
  readonly actorId?: string;
  /** Exact action. */
  readonly action?: string;
  /** Action prefix: `user.role.` matches user.role.grant and user.role.revoke. */
  readonly actionPrefix?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly outcome?: Outcome;
  /** recordedAt >= from */
  readonly from?: Date | string;
  /** recordedAt < to */
  readonly to?: Date | string;
  /** Events in any of these groups. */
  readonly groupIds?: readonly string[];
}

/** An event as the API serves it (GraphQL `Event`; null for absent optional fields). */
export interface LedgerEvent {
  readonly leafIndex: number;
  readonly leafHash: string;
  /** The canonical leaf text; null once the event is redacted (its content crypto-shredded): only the leaf hash is left to prove. */
  readonly leaf: string | null;
  /** Absent from servers without data lifecycle. */
  readonly redacted?: boolean;
  readonly redaction?: { readonly leafIndex: number | null; readonly reason: string } | null;
  readonly id: string;
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: ActorType; readonly name: string | null };
  readonly target: { readonly type: string; readonly id: string; readonly name: string | null } | null;
  readonly outcome: Outcome;
  readonly reason: string | null;
  readonly occurredAt: string | null;
  readonly recordedAt: string;
  readonly source: { readonly ip: string | null; readonly userAgent: string | null; readonly requestId: string | null } | null;
  readonly metadata: Record<string, unknown> | null;
  readonly groups: string[];
  readonly salt: string | null;
  readonly submitter: { readonly keyId: string; readonly userId: string } | null;
}

/** Every field of `LedgerEvent`, as a GraphQL selection. */
export const EVENT_FIELDS =
  'leafIndex leafHash leaf redacted redaction { leafIndex reason } id action actor { id type name } target { type id name } outcome reason occurredAt recordedAt ' +
  'source { ip userAgent requestId } metadata groups salt submitter { keyId userId }';

/**
 * What a leaf holds: the event as the server recorded it (RFC 8785 canonical JSON, absent
 * optional fields omitted), with the fields the server added: id, recordedAt, salt, groups
 * and the submitting key.
 */
export interface RecordedLeaf {
  readonly id: string;
  readonly action: string;
  readonly actor: { readonly id: string; readonly type: ActorType; readonly name?: string };
  readonly target?: { readonly type: string; readonly id: string; readonly name?: string };
  readonly outcome: Outcome;
  readonly reason?: string;
  readonly occurredAt?: string;
  readonly recordedAt: string;
  readonly source?: { readonly ip?: string; readonly userAgent?: string; readonly requestId?: string };
  readonly metadata?: { readonly [key: string]: JsonValue };
  readonly groups: readonly string[];
  readonly salt: string;
  readonly submitter?: { readonly keyId: string; readonly userId: string };
}
