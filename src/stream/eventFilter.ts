/**
 * Event filters outside GraphQL: the same fields as the `events` filter, read from a query
 * string (the feed), stored as JSON (webhook subscriptions), narrowed to what a principal may
 * read, and matched against one event in memory (subscriptions to the ledger's own alerts).
 */
import { effectiveGroupFilter, type Principal, readScope } from '../auth/role';
import { LIMITS } from '../event/eventInput';
import { OUTCOMES, type JsonObject, type Outcome } from '../event/eventRecord';
import { LedgerError } from '../errors';
import type { EventQuery, StoredEvent } from '../storage/port';

/** A filter that cannot be read: BAD_USER_INPUT naming the field. */
export class FilterInputError extends LedgerError {
  override name = 'FilterInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_INPUT', `${field}: ${message}`);
  }
}

/** A filter outside the caller's read scope. */
export class FilterScopeError extends LedgerError {
  override name = 'FilterScopeError';
  constructor(readonly reason: string) {
    super('BAD_INPUT', reason);
  }
}

export const FILTER_FIELDS = ['actorId', 'action', 'actionPrefix', 'targetType', 'targetId', 'outcome', 'from', 'to', 'groupIds'] as const;
type FilterField = (typeof FILTER_FIELDS)[number];

/** Raw values: strings (query string, JSON), Dates (GraphQL), string arrays (groupIds). */
export type RawFilter = Partial<Record<FilterField, unknown>>;

/** Reads a filter; `prefix` names the fields in errors (`filter.` or nothing for a query string). */
export function parseFilter(raw: RawFilter, prefix = ''): EventQuery {
  const out: { -readonly [K in keyof EventQuery]: EventQuery[K] } = {};
  const text = (field: FilterField): string | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'string' || v.length === 0 || v.length > LIMITS.shortText) {
      throw new FilterInputError(prefix + field, `must be text of 1-${LIMITS.shortText} characters`);
    }
    return v;
  };
  const time = (field: 'from' | 'to'): Date | undefined => {
    const v = raw[field];
    if (v === undefined || v === null) return undefined;
    const d = v instanceof Date ? v : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v) ? new Date(v) : undefined;
    if (!d || Number.isNaN(d.getTime())) throw new FilterInputError(prefix + field, 'must be an RFC 3339 date-time such as 2026-01-31T12:00:00Z');
    return d;
  };
  for (const field of ['actorId', 'action', 'actionPrefix', 'targetType', 'targetId'] as const) {
    const v = text(field);
    if (v !== undefined) out[field] = v;
  }
  const outcome = text('outcome');
  if (outcome !== undefined) {
    if (!OUTCOMES.includes(outcome as Outcome)) throw new FilterInputError(`${prefix}outcome`, `must be one of ${OUTCOMES.join(', ')}`);
    out.outcome = outcome as Outcome;
  }
  const from = time('from');
  const to = time('to');
  if (from) out.from = from;
  if (to) out.to = to;
  const groups = raw.groupIds;
  if (groups !== undefined && groups !== null) {
    const list = typeof groups === 'string' ? groups.split(',').filter((g) => g !== '') : groups;
    if (!Array.isArray(list) || list.some((g) => typeof g !== 'string' || g.length === 0 || g.length > LIMITS.shortText)) {
      throw new FilterInputError(`${prefix}groupIds`, 'must be a list of group ids');
    }
    // Each group id is one more term of the store's query: as many as an event can carry, no more.
    if (list.length > LIMITS.groups) throw new FilterInputError(`${prefix}groupIds`, `may name at most ${LIMITS.groups} groups`);
    out.groupIds = list as string[];
  }
  return out;
}

/** The filter narrowed to what the principal may read; asking beyond its groups is refused. */
export function scopedFilter(principal: Principal, query: EventQuery): EventQuery {
  const groups = effectiveGroupFilter(readScope(principal), query.groupIds);
  if (!groups.allowed) throw new FilterScopeError(groups.reason);
  const { groupIds: _asked, ...rest } = query;
  return { ...rest, ...(groups.groupIds !== undefined && { groupIds: groups.groupIds }) };
}

/** The same test the storage port applies, on one event in memory. */
export function matchesFilter(e: StoredEvent, q: EventQuery): boolean {
  if (q.actorId !== undefined && e.actor.id !== q.actorId) return false;
  if (q.action !== undefined && e.action !== q.action) return false;
  if (q.actionPrefix !== undefined && !e.action.startsWith(q.actionPrefix)) return false;
  if (q.targetType !== undefined && e.target?.type !== q.targetType) return false;
  if (q.targetId !== undefined && e.target?.id !== q.targetId) return false;
  if (q.outcome !== undefined && e.outcome !== q.outcome) return false;
  if (q.from !== undefined && e.recordedAt.getTime() < q.from.getTime()) return false;
  if (q.to !== undefined && e.recordedAt.getTime() >= q.to.getTime()) return false;
  if (q.groupIds !== undefined && !e.groups.some((g) => q.groupIds!.includes(g))) return false;
  return true;
}

/** As JSON (dates as RFC 3339): stored with a subscription, recorded in events about it. */
export function filterJson(q: EventQuery): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(q) as [string, unknown][]) {
    if (v === undefined) continue;
    out[k] = v instanceof Date ? v.toISOString() : Array.isArray(v) ? v.map(String) : String(v);
  }
  return out;
}
