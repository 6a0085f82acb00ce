/**
 * An event filter as the read operations take it (GraphQL `events` and `eventCounts`, and
 * `GET /export`): narrowed to what the caller may read, or refused; and as it is quoted in
 * the read's self-event.
 */
import { effectiveGroupFilter, type Principal, readScope } from '../auth/role';
import { LIMITS } from '../event/eventInput';
import type { JsonObject } from '../event/eventRecord';
import type { EventQuery } from '../storage/port';
import { AccessDenied, badInput } from './context';

/** The fields of the GraphQL `EventFilter`: the store query's, with nulls as GraphQL passes them. */
export type EventFilterFields = { readonly [K in keyof EventQuery]?: EventQuery[K] | null };

/** The store query for a filter, narrowed to what the principal may read (or refused). */
export function scopedQuery(principal: Principal, filter: EventFilterFields | undefined): EventQuery {
  // Each group id is one more term of the store's query: as many as an event can carry, no more.
  if ((filter?.groupIds?.length ?? 0) > LIMITS.groups) throw badInput(`filter.groupIds may name at most ${LIMITS.groups} groups`, 'filter.groupIds');
  const groups = effectiveGroupFilter(readScope(principal), filter?.groupIds ?? undefined);
  if (!groups.allowed) throw new AccessDenied(groups.code, groups.reason);
  return {
    ...(filter?.actorId != null && { actorId: filter.actorId }),
    ...(filter?.action != null && { action: filter.action }),
    ...(filter?.actionPrefix != null && { actionPrefix: filter.actionPrefix }),
    ...(filter?.targetType != null && { targetType: filter.targetType }),
    ...(filter?.targetId != null && { targetId: filter.targetId }),
    ...(filter?.outcome != null && { outcome: filter.outcome }),
    ...(filter?.from != null && { from: filter.from }),
    ...(filter?.to != null && { to: filter.to }),
    ...(groups.groupIds !== undefined && { groupIds: groups.groupIds }),
  };
}

/** The filter as the read's self-event quotes it. */
export function filterMetadata(filter: EventFilterFields | undefined): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(filter ?? {}) as [string, unknown][]) {
    if (v === undefined || v === null) continue;
    out[k] = v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}
