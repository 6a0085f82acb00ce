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
  | 'ledger.retention.applied'
  | 'ledger.webhook.created'
  | 'ledger.webhook.paused'
  | 'ledger.webhook.resumed'
  | 'ledger.webhook.deleted'
  | 'ledger.webhook.dead_lettered'
  | 'ledger.alertrule.set'
  | `ledger.alert.${string}`;

/** Self-events carry no groups of their own: `recordSelf` stamps the actor's. */
export type SelfEvent = Omit<EventContent, 'groups'> & { readonly action: SelfAction };

/** The ledger itself, acting on its own (a worker giving up on a receiver, an alert firing). */
export const LEDGER_SYSTEM: Actor = { id: 'audit-ledger', type: 'SYSTEM' };

/** Something the server did on its own, not at anyone's request. */
export function systemEvent(action: SelfAction, target: Target | undefined, metadata: JsonObject, outcome: 'SUCCESS' | 'FAILURE' = 'SUCCESS'): SelfEvent {
  return boundSelfEventFields<SelfEvent>({ action, actor: LEDGER_SYSTEM, ...(target && { target }), outcome, metadata });
}

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
 * A feed connection: one event per connection, however many events it streams (recorded
 * before the first is sent, so the count is not known).
 */
export function feedReadEvent(actor: KnownActor, filter: JsonObject, from: number, mode: string, source?: Source): SelfEvent {
  return boundSelfEventFields<SelfEvent>({
    action: 'ledger.events.read',
    actor: selfActor(actor),
    outcome: 'SUCCESS',
    metadata: { operation: 'feed', filter, from, mode },
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

/**
 * An entry bundle (`GET /tile/entries/…`): one read per request, recorded before the bundle is
 * sent, naming the leaves it holds and the signed tree size it was served under.
 */
export function entryBundleReadEvent(
  actor: KnownActor,
  details: { readonly path: string; readonly firstLeafIndex: number; readonly leaves: number; readonly treeSize: number },
  source?: Source,
): SelfEvent {
  return boundSelfEventFields<SelfEvent>({
    action: 'ledger.events.read',
    actor: selfActor(actor),
    outcome: 'SUCCESS',
    metadata: { operation: 'entryBundle', ...details },
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
