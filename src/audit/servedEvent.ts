/**
 * Whether an event the API serves is the one the log committed to, pure. The leaf text must
 * hash to the leaf hash (which the inclusion proof then ties to the signed root), and the
 * fields shown beside it must be exactly the ones in the leaf: otherwise a database edit to
 * a field would be served to readers while the untouched leaf still verified.
 */
import { eventLeaf, type JsonObject, type LoggedEvent } from '../event/eventRecord';
import type { ExportedEvent } from '../export/exportedEvent';
import { bytesToHex, type Rfc6962Hasher, rfc6962 } from '../verify';
import type { ServedEvent } from './logClient';

const utf8 = new TextEncoder();

/**
 * Whether the event is served as redacted: its content was destroyed (crypto-shredding), so
 * there is no leaf text to hash and only its leaf hash can be proven in the signed tree.
 */
export function isRedacted(event: ServedEvent): boolean {
  return event.redacted === true && event.leaf === null;
}

/** Why the served event disagrees with itself, or undefined if it does not (a redacted one has nothing to agree with). */
export function servedEventProblem(event: ServedEvent, hasher: Rfc6962Hasher = rfc6962): string | undefined {
  if (isRedacted(event)) return undefined;
  if (event.leaf === null || event.salt === null) return `leaf ${event.leafIndex}: served without its leaf text, yet not as redacted`;
  if (bytesToHex(hasher.leafHash(utf8.encode(event.leaf))) !== event.leafHash) {
    return `leaf ${event.leafIndex}: its leaf text does not hash to its leaf hash ${event.leafHash}`;
  }
  let derived: string;
  try {
    derived = eventLeaf(loggedEvent(event));
  } catch (err) {
    return `leaf ${event.leafIndex}: its fields do not form an event (${(err as Error).message})`;
  }
  if (derived !== event.leaf) return `leaf ${event.leafIndex}: the fields served differ from its leaf text`;
  return undefined;
}

/** An exported event (absent optional fields) as the API serves it (nulls), so one check covers both. */
export function servedEventOf(e: ExportedEvent): ServedEvent {
  return {
    leafIndex: e.leafIndex,
    leafHash: e.leafHash,
    leaf: e.leaf ?? null,
    redacted: e.redacted,
    redaction: e.redaction ?? null,
    id: e.id,
    action: e.action,
    actor: { id: e.actor.id, type: e.actor.type, name: e.actor.name ?? null },
    target: e.target ? { type: e.target.type, id: e.target.id, name: e.target.name ?? null } : null,
    outcome: e.outcome,
    reason: e.reason ?? null,
    occurredAt: e.occurredAt ?? null,
    recordedAt: e.recordedAt,
    source: e.source ? { ip: e.source.ip ?? null, userAgent: e.source.userAgent ?? null, requestId: e.source.requestId ?? null } : null,
    metadata: e.metadata ? { ...e.metadata } : null,
    groups: [...e.groups],
    salt: e.salt ?? null,
    submitter: e.submitter ? { keyId: e.submitter.keyId, userId: e.submitter.userId } : null,
  };
}

function loggedEvent(e: ServedEvent): LoggedEvent {
  return {
    id: e.id,
    action: e.action,
    actor: { id: e.actor.id, type: e.actor.type, ...(e.actor.name !== null && { name: e.actor.name }) },
    ...(e.target && { target: { type: e.target.type, id: e.target.id, ...(e.target.name !== null && { name: e.target.name }) } }),
    outcome: e.outcome,
    ...(e.reason !== null && { reason: e.reason }),
    ...(e.occurredAt !== null && { occurredAt: e.occurredAt }),
    ...(e.source && { source: withoutNulls(e.source) }),
    ...(e.metadata !== null && { metadata: e.metadata as JsonObject }),
    groups: e.groups,
    recordedAt: e.recordedAt,
    salt: e.salt!,
    ...(e.submitter && { submitter: { keyId: e.submitter.keyId, userId: e.submitter.userId } }),
  };
}

function withoutNulls<T extends object>(obj: T): { [K in keyof T]?: Exclude<T[K], null> } {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== null)) as { [K in keyof T]?: Exclude<T[K], null> };
}
