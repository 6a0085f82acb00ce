/**
 * Building the record of a new leaf: the server's stamp (id, recordedAt, salt), the stored
 * fields, and the leaf derived from exactly those fields (so `verify-db` can re-derive it).
 */
import { eventId } from '../event/eventId';
import type { EventContent } from '../event/eventRecord';
import { directLeafOfFields } from '../event/directLeaf';
import { newSalt } from '../event/salt';
import { fieldsOfEvent, leafOfFields } from '../event/storedEvent';
import type { Mutable, StoredEvent } from '../storage/port';
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

export function buildEvent(leaf: NewLeaf, hasher: Rfc6962Hasher): StoredEvent {
  const fields = fieldsOfEvent(leaf.content, { id: eventId(leaf.recordedAt), recordedAt: new Date(leaf.recordedAt), salt: newSalt() });
  // The direct writer is the general canonicaliser's output at a fraction of its cost (a
  // property test holds them equal); a shape it does not know falls back to the reference.
  const text = directLeafOfFields(fields) ?? leafOfFields(fields);
  // The record's own keys added to the fields by assignment (after the leaf is made of them).
  const event = fields as Mutable<StoredEvent>;
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
