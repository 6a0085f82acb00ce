/**
 * The query parameters of `GET /export`, validated. They mirror the GraphQL `EventFilter`
 * (which the server then narrows to the caller's read scope exactly as for `events`):
 *
 *   format=ndjson|csv|bundle   groupId (repeatable)   actorId   action (exact, or a prefix
 *   ending in `*`: `user.role.*`)   targetType   targetId   outcome   since   until (ISO-8601;
 *   recordedAt ≥ since, < until)   limit   treeSize (export, and prove against, that signed
 *   size; default the latest)   proofs=true (ndjson: each line with its inclusion proof)
 *
 * Anything else is refused (an unknown or repeated parameter, an empty value), so a typo never
 * silently widens an export to every event. Pure.
 */
import { EventInputError, LIMITS } from '../event/eventInput';
import { OUTCOMES, type Outcome } from '../event/eventRecord';
import type { EventQuery } from '../storage/port';
import { EXPORT_FORMATS, type ExportFormat } from './exportedEvent';

export interface ExportRequest {
  readonly format: ExportFormat;
  /** In the GraphQL `EventFilter`'s fields, as the store takes them (before narrowing to the caller's scope). */
  readonly filter: EventQuery;
  readonly limit?: number;
  readonly treeSize?: number;
  /** Inclusion proofs on ndjson lines (bundles always carry them). */
  readonly proofs: boolean;
}

const SINGLE = ['format', 'actorId', 'action', 'targetType', 'targetId', 'outcome', 'since', 'until', 'limit', 'treeSize', 'proofs'] as const;
const REPEATABLE = ['groupId'] as const;
const KNOWN = new Set<string>([...SINGLE, ...REPEATABLE]);
const COUNT = /^(0|[1-9]\d{0,15})$/;
/** A calendar date, or a date and time with seconds optional and a zone (Z or ±hh:mm). */
const TIME = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** Throws EventInputError (BAD_USER_INPUT, naming the parameter) on anything not listed above. */
export function parseExportRequest(params: Iterable<[string, string]>): ExportRequest {
  const values = new Map<string, string[]>();
  for (const [name, value] of params) {
    if (!KNOWN.has(name)) throw new EventInputError(name, `unknown parameter; known: ${[...KNOWN].join(', ')}`);
    if (value === '') throw new EventInputError(name, 'must not be empty');
    if (value.length > LIMITS.shortText) throw new EventInputError(name, `must be at most ${LIMITS.shortText} characters`);
    const list = values.get(name) ?? [];
    list.push(value);
    values.set(name, list);
  }
  const one = (name: (typeof SINGLE)[number]): string | undefined => {
    const list = values.get(name);
    if (list && list.length > 1) throw new EventInputError(name, 'may be given once');
    return list?.[0];
  };

  const format = one('format') ?? 'ndjson';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new EventInputError('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const outcome = one('outcome');
  if (outcome !== undefined && !(OUTCOMES as readonly string[]).includes(outcome)) throw new EventInputError('outcome', `must be one of ${OUTCOMES.join(', ')}`);
  const action = one('action');
  if (action !== undefined && action.indexOf('*') !== -1 && action.indexOf('*') !== action.length - 1) {
    throw new EventInputError('action', 'a wildcard may only end the action, as in user.role.*');
  }
  const groupIds = values.get('groupId');
  if (groupIds && groupIds.length > LIMITS.groups) throw new EventInputError('groupId', `may name at most ${LIMITS.groups} groups`);
  const from = time(one('since'), 'since');
  const to = time(one('until'), 'until');
  if (from && to && from.getTime() > to.getTime()) throw new EventInputError('until', 'must not be before since');
  const limit = count(one('limit'), 'limit');
  if (limit === 0) throw new EventInputError('limit', 'must be at least 1');
  const treeSize = count(one('treeSize'), 'treeSize');
  const proofsText = one('proofs');
  if (proofsText !== undefined && proofsText !== 'true' && proofsText !== 'false') throw new EventInputError('proofs', 'must be true or false');
  const proofs = proofsText === 'true';
  if (proofs && format !== 'ndjson') throw new EventInputError('proofs', 'applies to format=ndjson (a bundle always carries its proofs)');

  const actorId = one('actorId');
  const targetType = one('targetType');
  const targetId = one('targetId');
  const filter: EventQuery = {
    ...(actorId !== undefined && { actorId }),
    ...(action !== undefined && (action.endsWith('*') ? { actionPrefix: action.slice(0, -1) } : { action })),
    ...(targetType !== undefined && { targetType }),
    ...(targetId !== undefined && { targetId }),
    ...(outcome !== undefined && { outcome: outcome as Outcome }),
    ...(from && { from }),
    ...(to && { to }),
    ...(groupIds && { groupIds: [...new Set(groupIds)] }),
  };
  return {
    format: format as ExportFormat,
    filter,
    ...(limit !== undefined && { limit }),
    ...(treeSize !== undefined && { treeSize }),
    proofs,
  };
}

function time(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (!TIME.test(value) || Number.isNaN(ms) || !isCalendarDate(value)) throw new EventInputError(name, 'must be an ISO-8601 date or time, e.g. 2026-01-31 or 2026-01-31T12:00:00Z');
  return new Date(ms);
}

function count(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!COUNT.test(value) || !Number.isSafeInteger(n)) throw new EventInputError(name, 'must be a whole number ≥ 0');
  return n;
}

/** Date.parse rolls 2026-02-30 over to March; a mistyped date must be refused instead. */
function isCalendarDate(value: string): boolean {
  const [y, m, d] = value.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
