/**
 * The one JSON shape in which the ledger hands events to the outside (the pull feed, webhooks,
 * alerts' evidence): the GraphQL `Event` fields, plus a schema tag, with dates as RFC 3339
 * text and hashes as lowercase hex. `leaf` is the exact text the tree commits to, so a
 * receiver can recompute `leafHash` and check inclusion against a signed checkpoint; the other
 * fields are that text's content, for convenience. A redacted event (crypto-shredded content)
 * keeps its skeleton only: `leaf` and `salt` are null and the actor id is `[redacted]`.
 *
 * The CloudEvents 1.0 mapping (structured mode) is `toCloudEvent`; README documents both.
 */
import type { Actor, JsonObject, Outcome, Source, Submitter, Target } from '../event/eventRecord';
import type { StoredEvent } from '../storage/port';
import { bytesToHex } from '../verify';

export const EVENT_PAYLOAD_SCHEMA = 'audit-ledger.event.v1';

export interface EventPayload {
  readonly schema: typeof EVENT_PAYLOAD_SCHEMA;
  readonly leafIndex: number;
  readonly id: string;
  /** RFC 6962 leaf hash of `leaf`, lowercase hex. */
  readonly leafHash: string;
  /** RFC 8785 canonical JSON of the event: what the tree commits to. Null when redacted. */
  readonly leaf: string | null;
  readonly redacted: boolean;
  /** The ledger event that recorded the redaction, and why. */
  readonly redaction?: { readonly leafIndex: number | null; readonly reason: string };
  readonly action: string;
  readonly actor: Actor;
  readonly target?: Target;
  readonly outcome: Outcome;
  readonly reason?: string;
  /** RFC 3339, as the client stated it. */
  readonly occurredAt?: string;
  /** RFC 3339 UTC with milliseconds; never decreases along the log. */
  readonly recordedAt: string;
  readonly source?: Source;
  readonly metadata?: JsonObject;
  readonly groups: readonly string[];
  /** 128 random bits in the leaf, lowercase hex. Null when redacted. */
  readonly salt: string | null;
  readonly submitter?: Submitter;
}

export function eventPayload(e: StoredEvent): EventPayload {
  const common = {
    schema: EVENT_PAYLOAD_SCHEMA,
    leafIndex: e.leafIndex,
    id: e.id,
    leafHash: bytesToHex(e.leafHash),
    action: e.action,
    outcome: e.outcome,
    recordedAt: e.recordedAt.toISOString(),
    groups: [...e.groups],
  } as const;
  if (e.redaction) {
    return {
      ...common,
      leaf: null,
      redacted: true,
      redaction: { leafIndex: e.redaction.leafIndex ?? null, reason: e.redaction.reason },
      actor: { id: '[redacted]', type: e.actor.type },
      salt: null,
    };
  }
  return {
    ...common,
    leaf: e.leaf,
    redacted: false,
    actor: { id: e.actor.id, type: e.actor.type, ...(e.actor.name !== undefined && { name: e.actor.name }) },
    ...(e.target && { target: e.target }),
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.occurredAt && { occurredAt: e.occurredAt.toISOString() }),
    ...(e.source && { source: e.source }),
    ...(e.metadata !== undefined && { metadata: JSON.parse(e.metadata) as JsonObject }),
    salt: e.salt,
    ...(e.submitter && { submitter: { keyId: e.submitter.keyId, userId: e.submitter.userId } }),
  };
}

/** A CloudEvents 1.0 event in structured JSON mode, the payload as `data`. */
export interface CloudEvent {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject?: string;
  readonly time: string;
  readonly datacontenttype: 'application/json';
  readonly dataschema: string;
  /** Extension attributes (lowercase letters and digits only, per the spec). */
  readonly leafindex: number;
  readonly leafhash: string;
  readonly data: EventPayload;
}

/**
 * id: the event id (unique per log); source: the log's origin (the checkpoint's first line),
 * so (source, id) is unique across logs; type: `audit-ledger.<action>`; subject:
 * `<target type>/<target id>`; time: recordedAt.
 */
export function toCloudEvent(payload: EventPayload, origin: string): CloudEvent {
  return {
    specversion: '1.0',
    id: payload.id,
    source: origin,
    type: `audit-ledger.${payload.action}`,
    ...(payload.target && { subject: `${payload.target.type}/${payload.target.id}` }),
    time: payload.recordedAt,
    datacontenttype: 'application/json',
    dataschema: `urn:${EVENT_PAYLOAD_SCHEMA}`,
    leafindex: payload.leafIndex,
    leafhash: payload.leafHash,
    data: payload,
  };
}
