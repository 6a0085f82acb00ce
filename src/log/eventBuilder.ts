/**
 * Building the record of a new leaf: the server's stamp (id, recordedAt, salt), the stored
 * fields, and the leaf derived from exactly those fields (so `verify-db` can re-derive it).
 */
import { eventId } from '../event/eventId';
import type { EventContent } from '../event/eventRecord';
import { directLeafOfFields } from '../event/directLeaf';
import { newSalt } from '../event/salt';
import { leafOfFields } from '../event/storedEvent';
import type { EventFields, StoredEvent } from '../storage/port';
import type { Rfc6962Hasher } from '../verify/rfc6962';

const utf8 = new TextEncoder();

export interface NewLeaf {
  readonly content: EventContent;
  readonly leafIndex: number;
  /** ms since the epoch; the caller keeps it from decreasing along the log. */
  readonly recordedAt: number;
  readonly idempotencyKey?: string;
  readonly contentDigest?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export function buildEvent(leaf: NewLeaf, hasher: Rfc6962Hasher): StoredEvent {
  const { content } = leaf;
  // Built by assignment, in the record's key order: conditional spreads cost a new object
  // shape each, and this runs once per appended event on the server's event loop.
  const event = {} as Mutable<StoredEvent>;
  event.id = eventId(leaf.recordedAt);
  event.action = content.action;
  event.actor = { ...content.actor };
  if (content.target) event.target = content.target;
  event.outcome = content.outcome;
  if (content.reason !== undefined) event.reason = content.reason;
  if (content.occurredAt !== undefined) event.occurredAt = new Date(content.occurredAt);
  if (content.source) event.source = content.source;
  if (content.metadata !== undefined) event.metadata = JSON.stringify(content.metadata);
  event.groups = [...content.groups];
  event.recordedAt = new Date(leaf.recordedAt);
  event.salt = newSalt();
  if (content.submitter) event.submitter = { keyId: content.submitter.keyId, userId: content.submitter.userId };
  // The leaf of exactly these fields (read before the record's own keys are added). The direct
  // writer is the general canonicaliser's output at a fraction of its cost (a property test
  // holds them equal); a shape it does not know falls back to the reference.
  const fields: EventFields = event;
  const text = directLeafOfFields(fields) ?? leafOfFields(fields);
  event.leafIndex = leaf.leafIndex;
  event.leaf = text;
  event.leafHash = hasher.leafHash(utf8.encode(text));
  if (leaf.idempotencyKey !== undefined) event.idempotencyKey = leaf.idempotencyKey;
  if (leaf.contentDigest !== undefined) event.contentDigest = leaf.contentDigest;
  return event;
}

/** A generous estimate of an event's stored size: what an engine's document limit is checked against. */
export function storedSizeEstimate(event: StoredEvent): number {
  // The leaf holds every field once; the fields are stored beside it again, plus keys and hashes.
  return 2 * Buffer.byteLength(event.leaf, 'utf8') + 1024;
}
