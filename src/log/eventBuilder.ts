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

export function buildEvent(leaf: NewLeaf, hasher: Rfc6962Hasher): StoredEvent {
  const { content } = leaf;
  const fields: EventFields = {
    id: eventId(leaf.recordedAt),
    action: content.action,
    actor: { ...content.actor },
    ...(content.target && { target: content.target }),
    outcome: content.outcome,
    ...(content.reason !== undefined && { reason: content.reason }),
    ...(content.occurredAt !== undefined && { occurredAt: new Date(content.occurredAt) }),
    ...(content.source && { source: content.source }),
    ...(content.metadata !== undefined && { metadata: JSON.stringify(content.metadata) }),
    groups: [...content.groups],
    recordedAt: new Date(leaf.recordedAt),
    salt: newSalt(),
    ...(content.submitter && { submitter: { keyId: content.submitter.keyId, userId: content.submitter.userId } }),
  };
  // The direct writer is the general canonicaliser's output at a fraction of its cost (a
  // property test holds them equal); a shape it does not know falls back to the reference.
  const text = directLeafOfFields(fields) ?? leafOfFields(fields);
  return {
    ...fields,
    leafIndex: leaf.leafIndex,
    leaf: text,
    leafHash: hasher.leafHash(utf8.encode(text)),
    ...(leaf.idempotencyKey !== undefined && { idempotencyKey: leaf.idempotencyKey }),
    ...(leaf.contentDigest !== undefined && { contentDigest: leaf.contentDigest }),
  };
}

/** A generous estimate of an event's stored size: what an engine's document limit is checked against. */
export function storedSizeEstimate(event: StoredEvent): number {
  // The leaf holds every field once; the fields are stored beside it again, plus keys and hashes.
  return 2 * Buffer.byteLength(event.leaf, 'utf8') + 1024;
}
