/**
 * The bridge between an event's stored fields and its canonical leaf: the sequencer derives
 * the leaf from the fields it stores, and `verify-db` re-derives it the same way, so an edit
 * to any stored field is caught.
 */
import { eventLeaf, type JsonObject, type LoggedEvent } from './eventRecord';
import type { EventFields } from '../storage/port';

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
  // Assigned in the order spreads would give, not spread: a sealed event is opened into this
  // on every read of it, and spreads of fresh objects cost more than the rest of the work.
  const f = { id: e.id, action: e.action, actor: e.actor } as Mutable<EventFields>;
  if (e.target) f.target = e.target;
  f.outcome = e.outcome;
  if (e.reason !== undefined) f.reason = e.reason;
  if (e.occurredAt !== undefined) f.occurredAt = new Date(e.occurredAt);
  if (e.source) f.source = e.source;
  if (e.metadata !== undefined) f.metadata = JSON.stringify(e.metadata);
  f.groups = e.groups;
  f.recordedAt = new Date(e.recordedAt);
  f.salt = e.salt;
  if (e.submitter) f.submitter = e.submitter;
  return f;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
