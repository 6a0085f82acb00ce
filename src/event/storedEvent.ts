/**
 * The bridge between an event's stored fields and its canonical leaf: the sequencer derives
 * the leaf from the fields it stores, and `verify-db` re-derives it the same way, so an edit
 * to any stored field is caught.
 */
import { type EventContent, eventLeaf, type JsonObject, type LoggedEvent } from './eventRecord';
import type { EventFields, Mutable } from '../storage/port';

/** The logged event that stored fields describe (the inverse of how the sequencer stores it). */
export function eventOfFields(fields: EventFields): LoggedEvent {
  return {
    id: fields.id,
    action: fields.action,
    actor: fields.actor,
    ...(fields.target && { target: fields.target }),
    outcome: fields.outcome,
    ...(fields.reason !== undefined && { reason: fields.reason }),
    ...(fields.occurredAt && { occurredAt: fields.occurredAt.toISOString() }),
    ...(fields.source && { source: fields.source }),
    ...(fields.metadata !== undefined && { metadata: JSON.parse(fields.metadata) as JsonObject }),
    groups: fields.groups,
    recordedAt: fields.recordedAt.toISOString(),
    salt: fields.salt,
    ...(fields.submitter && { submitter: fields.submitter }),
  };
}

/** The canonical leaf text of stored fields. */
export function leafOfFields(fields: EventFields): string {
  return eventLeaf(eventOfFields(fields));
}

/** The stored fields a canonical leaf text describes (the inverse of leafOfFields). */
export function fieldsOfLeaf(leaf: string): EventFields {
  const e = JSON.parse(leaf) as LoggedEvent;
  return fieldsOfEvent(e, { id: e.id, recordedAt: new Date(e.recordedAt), salt: e.salt });
}

/**
 * The stored fields of an event's content and its server stamp: instants as Dates, metadata
 * as its JSON text; the actor, groups and submitter copied, so the record shares nothing with
 * what it was made from. Assigned in the order spreads would give, not spread: this runs for
 * every appended event and every read of a sealed one, and spreads of fresh objects cost
 * more than the rest of the work.
 */
export function fieldsOfEvent(content: EventContent, stamp: { readonly id: string; readonly recordedAt: Date; readonly salt: string }): EventFields {
  const f = { id: stamp.id, action: content.action, actor: { ...content.actor } } as Mutable<EventFields>;
  if (content.target) f.target = content.target;
  f.outcome = content.outcome;
  if (content.reason !== undefined) f.reason = content.reason;
  if (content.occurredAt !== undefined) f.occurredAt = new Date(content.occurredAt);
  if (content.source) f.source = content.source;
  if (content.metadata !== undefined) f.metadata = JSON.stringify(content.metadata);
  f.groups = [...content.groups];
  f.recordedAt = stamp.recordedAt;
  f.salt = stamp.salt;
  if (content.submitter) f.submitter = { keyId: content.submitter.keyId, userId: content.submitter.userId };
  return f;
}
