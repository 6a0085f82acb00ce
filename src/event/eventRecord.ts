/**
 * Audit events: what a client submits, what the server adds, and the leaf the tree commits to.
 *
 * The leaf is the RFC 8785 (JCS) canonical JSON of the stored event, so any verifier can
 * recompute its hash from the `leaf` text alone. Absent optional fields are omitted rather
 * than null, so one event has exactly one leaf. The leaf index is not part of the leaf: the
 * tree position already commits to it. The random salt makes a leaf hash reveal nothing about
 * an event whose content is later withheld.
 */
import canonicalize from 'canonicalize';

export const ACTOR_TYPES = ['USER', 'SERVICE', 'SYSTEM'] as const;
export type ActorType = (typeof ACTOR_TYPES)[number];
export const OUTCOMES = ['SUCCESS', 'FAILURE', 'DENIED'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface Actor {
  readonly id: string;
  readonly type: ActorType;
  readonly name?: string;
}
export interface Target {
  readonly type: string;
  readonly id: string;
  readonly name?: string;
}
export interface Source {
  readonly ip?: string;
  readonly userAgent?: string;
  readonly requestId?: string;
}
/** Provenance: the API key that submitted the event and the directory user it belongs to. */
export interface Submitter {
  readonly keyId: string;
  readonly userId: string;
}

/** What a client asks to record, after validation (see eventInput.ts). */
export interface EventContent {
  readonly action: string;
  readonly actor: Actor;
  readonly target?: Target;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** RFC 3339, as the client stated it (normalised to UTC milliseconds). */
  readonly occurredAt?: string;
  readonly source?: Source;
  readonly metadata?: JsonObject;
  readonly groups: readonly string[];
  /** Set by the server from the calling key; absent for events recorded before provenance existed. */
  readonly submitter?: Submitter;
}

/** The fields the server adds before the event becomes a leaf. */
export interface ServerStamp {
  readonly id: string;
  /** RFC 3339 UTC with milliseconds; never decreases along the log. */
  readonly recordedAt: string;
  /** 128 random bits, lowercase hex. */
  readonly salt: string;
}

export type LoggedEvent = EventContent & ServerStamp;

/** The canonical leaf text (RFC 8785) of an event. */
export function eventLeaf(event: LoggedEvent): string {
  const body: JsonObject = {
    id: event.id,
    action: event.action,
    actor: compact({ id: event.actor.id, type: event.actor.type, name: event.actor.name }),
    outcome: event.outcome,
    groups: [...event.groups],
    recordedAt: event.recordedAt,
    salt: event.salt,
  };
  if (event.target) body.target = compact({ type: event.target.type, id: event.target.id, name: event.target.name });
  if (event.reason !== undefined) body.reason = event.reason;
  if (event.occurredAt !== undefined) body.occurredAt = event.occurredAt;
  if (event.source) body.source = compact({ ...event.source });
  if (event.metadata !== undefined) body.metadata = event.metadata;
  if (event.submitter) body.submitter = { keyId: event.submitter.keyId, userId: event.submitter.userId };
  const text = canonicalize(body);
  if (text === undefined) throw new TypeError('event cannot be canonicalised');
  return text;
}

function compact(obj: Record<string, string | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}
