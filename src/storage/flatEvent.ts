/**
 * A StoredEvent as a FlatEvent (port.ts): what an adapter without a faster way answers
 * `flatPage` with, and what the contract suite holds every adapter's `flatPage` to.
 */
import type { FlatEvent, StoredEvent } from './port';

export function flatEvent(e: StoredEvent): FlatEvent {
  return {
    leafIndex: e.leafIndex,
    id: e.id,
    action: e.action,
    actorId: e.actor.id,
    actorType: e.actor.type,
    actorName: e.actor.name ?? null,
    targetType: e.target?.type ?? null,
    targetId: e.target?.id ?? null,
    targetName: e.target?.name ?? null,
    outcome: e.outcome,
    reason: e.reason ?? null,
    occurredAt: e.occurredAt ? e.occurredAt.getTime() : null,
    recordedAt: e.recordedAt.getTime(),
    source: e.source ?? null,
    metadata: e.metadata ?? null,
    groups: JSON.stringify(e.groups),
    salt: e.salt,
    submitterKeyId: e.submitter?.keyId ?? null,
    submitterUserId: e.submitter?.userId ?? null,
    leaf: e.leaf,
    leafHash: e.leafHash,
    redaction: e.redaction ?? null,
  };
}
