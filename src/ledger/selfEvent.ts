/**
 * The events the ledger records about itself: directory and key changes, reads, and refused
 * calls. Pure builders; the shell hands them to `Ledger.recordSelf`, which stamps groups and
 * appends them through the ordinary sequencer like any other event. Every builder bounds what
 * the caller could have sent (see boundedMetadata.ts), so no self-event can grow without limit.
 */
import type { KnownActor } from '../auth/authentication';
import type { DenialCode } from '../auth/role';
import type { Actor, EventContent, JsonObject, Source, Target } from '../event/eventRecord';
import { boundSelfEventFields } from './boundedMetadata';

export type SelfAction =
  | 'ledger.user.created'
  | 'ledger.user.updated'
  | 'ledger.group.created'
  | 'ledger.group.member.added'
  | 'ledger.group.member.removed'
  | 'ledger.apikey.created'
  | 'ledger.apikey.revoked'
  | 'ledger.events.read'
  | 'ledger.access.denied'
  | 'ledger.event.redacted'
  | 'ledger.actor.erased'
  | 'ledger.hold.placed'
  | 'ledger.hold.released'
  | 'ledger.retention.policy.set'
  | 'ledger.retention.applied';

/** Self-events carry no groups of their own: `recordSelf` stamps the actor's. */
export type SelfEvent = Omit<EventContent, 'groups'> & { readonly action: SelfAction };

/** A caller no key identifies. */
export const ANONYMOUS: Actor = { id: 'anonymous', type: 'SYSTEM' };

export function selfActor(actor: KnownActor): Actor {
  return { id: actor.id, type: actor.type, name: actor.name };
}

/** Where a request came from (client address, user agent), as recorded on the event. */
function sourceField(source: Source | undefined): { source?: Source } {
  return source && (source.ip !== undefined || source.userAgent !== undefined || source.requestId !== undefined) ? { source } : {};
}

export function changeEvent(action: SelfAction, actor: KnownActor, target: Target, metadata?: JsonObject, source?: Source): SelfEvent {
  return boundSelfEventFields<SelfEvent>({ action, actor: selfActor(actor), target, outcome: 'SUCCESS', ...(metadata && { metadata }), ...sourceField(source) });
}

export function readEvent(actor: KnownActor, operation: string, filter: JsonObject, results: number, source?: Source): SelfEvent {
  return boundSelfEventFields<SelfEvent>({
    action: 'ledger.events.read',
    actor: selfActor(actor),
    outcome: 'SUCCESS',
    metadata: { operation, filter, results },
    ...sourceField(source),
  });
}

/**
 * An export (`GET /export`): the whole export is one read, recorded before its first event is
 * sent, naming the signed tree size it covers (the number of events is not known yet).
 */
export function exportReadEvent(
  actor: KnownActor,
  details: { readonly format: string; readonly filter: JsonObject; readonly treeSize: number; readonly limit?: number; readonly proofs?: boolean },
  source?: Source,
): SelfEvent {
  return boundSelfEventFields<SelfEvent>({
    action: 'ledger.events.read',
    actor: selfActor(actor),
    outcome: 'SUCCESS',
    metadata: { operation: 'export', ...details },
    ...sourceField(source),
  });
}

export function denialEvent(actor: KnownActor | undefined, operation: string, code: DenialCode, reason: string, source?: Source): SelfEvent {
  return boundSelfEventFields<SelfEvent>({
    action: 'ledger.access.denied',
    actor: actor ? selfActor(actor) : ANONYMOUS,
    outcome: 'DENIED',
    reason,
    metadata: { operation, code, reason },
    ...sourceField(source),
  });
}
