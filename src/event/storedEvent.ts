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
  return {
    id: e.id,
    action: e.action,
    actor: e.actor,
    ...(e.target && { target: e.target }),
    outcome: e.outcome,
    ...(e.reason !== undefined && { reason: e.reason }),
    ...(e.occurredAt !== undefined && { occurredAt: new Date(e.occurredAt) }),
    ...(e.source && { source: e.source }),
    ...(e.metadata !== undefined && { metadata: JSON.stringify(e.metadata) }),
    groups: e.groups,
    recordedAt: new Date(e.recordedAt),
    salt: e.salt,
    ...(e.submitter && { submitter: e.submitter }),
  };
}
