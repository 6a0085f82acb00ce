/**
 * How a page or a count of events is read: which index drives the scan, and the SQL.
 *
 * Every read is confined to a leaf range [lo, hi): below the tree size, past the keyset
 * bound, and inside the time range. `recordedAt` never decreases along the log, so a time
 * range is a leaf range, found with two seeks on `(recorded_at, leaf_index)`; the
 * `recorded_at` conditions are still applied to the rows, so the answer stays exact (if
 * smaller) should that order ever be broken.
 *
 * Within the range one index drives, scanned in leaf order and stopped by LIMIT; the other
 * filters are applied to the joined row. Every driving index ends in the leaf index, so an
 * equality on its leading columns plus the leaf range is one ordered range scan and never
 * a sort. Some filters need several such scans, merged by leaf index (each LIMITed, so the
 * merge stays bounded): several groups (one scan of `event_groups` per group), an action
 * prefix (one scan per stored action under the prefix, listed from the maintained counts),
 * a target id without a type (one scan per stored target type).
 *
 * Two filters have no index in leaf order: a target type alone (the index orders a type's
 * rows by target id first) and a prefix covering more than MAX_STREAMS stored actions. For
 * them the index range is read whole and sorted, bounded by LIMIT: a deliberate sort, taken
 * only when the range is smaller than the other candidates (a rare type, say); when it is
 * large its events are dense, and scanning the leaf range in order finds them soonest.
 *
 * The driver is the candidate with the fewest rows in its scan, from the maintained counts
 * (counts.ts): the cost of finding `limit` matches is at most that. A target is taken as
 * the most selective without a count (a target names one object), and the plain leaf range
 * is a candidate too (its size is known), so a narrow time range scans just itself. The
 * index is forced (`INDEXED BY`, `NOT INDEXED` for the leaf range): without ANALYZE
 * statistics SQLite could prefer an index whose rows then need a sort. The plans are
 * checked with EXPLAIN QUERY PLAN in test/storage/sqlite.test.ts.
 *
 * Two kinds of count are answered from an index alone, never reading `events` rows (1.3 KB
 * each, so at 10^7 events a count over a tenth of the log read a gigabyte, or ten thousand
 * rows one by one):
 *   - within groups, by group or by action, filtered by nothing but the groups, the action and
 *     the time: from `event_groups`, whose rows carry the action (one range scan per group);
 *   - by group, action or outcome, filtered by the time alone (an AUDITOR's activity over a
 *     period): one range count per stored key on that key's index, `(key, leaf_index)`, when
 *     there are at most MAX_KEY_COUNTS such keys.
 * Both take the leaf range for the time range without testing `recorded_at` on the rows, i.e.
 * they rely on recordedAt never decreasing along the log. The sequencer guarantees that (each
 * batch is stamped with max(now, the last stamp), and the stamp is kept in the log head across
 * restarts), and the leaf commits to the stamp, so an edited row fails verify-db.
 *
 * A group scan tests the action (exact or prefix) on the group row itself: `event_groups`
 * carries each event's action, and a group's rows are adjacent, so finding the 50 events of
 * one action among a group's thousand rows reads a few pages of `event_groups` and joins only
 * the 50 events, instead of one random read of `events` per group row. A row whose action is
 * NULL (written before schema version 2, not yet filled: schemaUpgrade.ts) passes that test
 * and is decided by the joined event, where every filter is applied again.
 *
 * The one unbounded shape left is inherent to single-column indexes: a driver with many
 * rows, of which the other filters keep few (say a large actor and a rare outcome).
 * The choice above makes the scan the smallest available, never a scan of the whole log
 * when an index narrows it.
 */
import type Database from 'better-sqlite3';
import type { EventCountKey, EventPageQuery, EventQuery } from '../port';
import { EVENT_SELECT, type SqlValue } from './eventRows';

/** The dimensions of the maintained totals: the count keys, and target types for planning. */
export type CountDim = EventCountKey | 'target.type';

export interface SqlStatement {
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

/** Leaves [lo, hi), never empty. */
export interface LeafRange {
  readonly lo: number;
  readonly hi: number;
}

/** Beyond this many stored actions under a prefix (or target types), merging scans stops paying. */
const MAX_STREAMS = 32;

/**
 * Beyond this many stored keys, a count over a time range reads the range's events rather than
 * counting each key's index range (a seek per key, and a compound statement of that many parts).
 */
export const MAX_KEY_COUNTS = 256;

/** The index `(key, leaf_index)` of each count key, as the table to read and its key column. */
const KEY_INDEX: Record<Exclude<EventCountKey, 'actor.id'>, { readonly from: string; readonly column: string }> = {
  groups: { from: 'event_groups', column: 'group_id' },
  action: { from: 'events INDEXED BY events_action', column: 'action' },
  outcome: { from: 'events INDEXED BY events_outcome', column: 'outcome' },
};

type Driver =
  | { readonly kind: 'target'; readonly type: string; readonly id: string }
  | { readonly kind: 'targetId'; readonly types: readonly string[]; readonly id: string }
  /** One scan per group; `action`: the conditions on the group row's action (alias `g`). */
  | { readonly kind: 'groups'; readonly groupIds: readonly string[]; readonly action: RowConditions }
  | { readonly kind: 'actor'; readonly id: string }
  /** An exact action, or the stored actions under a prefix (pages). */
  | { readonly kind: 'actions'; readonly actions: readonly string[] }
  /** The action index range of a prefix: not in leaf order (pages sort it). */
  | { readonly kind: 'actionRange'; readonly prefix: string }
  /** A target type's index range: not in leaf order (pages sort it). */
  | { readonly kind: 'targetType'; readonly type: string }
  | { readonly kind: 'outcome'; readonly outcome: string }
  | { readonly kind: 'leaves' };

interface RowConditions {
  readonly where: readonly string[];
  readonly params: readonly SqlValue[];
}

/** One ordered range scan: its tables, its index conditions, the column it is ordered by. */
interface Scan {
  readonly from: string;
  readonly where: readonly string[];
  readonly params: readonly SqlValue[];
  readonly orderBy: string;
}

/**
 * The smallest string above every string that starts with `prefix`, in SQLite's BINARY
 * order (UTF-8 bytes, which is code point order): the prefix with its last code point
 * incremented. Undefined when nothing bounds it (the empty prefix).
 */
export function prefixUpperBound(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

export const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

/** The groups of event `e` as rows `j.value`; a damaged column counts as no groups rather than failing the count. */
export const GROUPS_OF_E = "json_each(CASE WHEN json_valid(e.groups) THEN e.groups ELSE '[]' END) j";

/** SQL conditions on alias `e` for the query's filters. */
function filterConditions(q: EventQuery, options: { readonly groups: boolean }): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, ...values: SqlValue[]): void => {
    where.push(sql);
    params.push(...values);
  };
  if (q.actorId !== undefined) add('e.actor_id = ?', q.actorId);
  const action = actionConditions('e.action', q);
  where.push(...action.where);
  params.push(...action.params);
  if (q.targetType !== undefined) add('e.target_type = ?', q.targetType);
  if (q.targetId !== undefined) add('e.target_id = ?', q.targetId);
  if (q.outcome !== undefined) add('e.outcome = ?', q.outcome);
  if (q.from !== undefined) add('e.recorded_at >= ?', q.from.getTime());
  if (q.to !== undefined) add('e.recorded_at < ?', q.to.getTime());
  if (options.groups && q.groupIds !== undefined) {
    add(
      `EXISTS (SELECT 1 FROM event_groups x WHERE x.group_id IN (${placeholders(q.groupIds.length)}) AND x.leaf_index = e.leaf_index)`,
      ...q.groupIds,
    );
  }
  return { where, params };
}

/** The query's action and action prefix as conditions on the SQL expression `action`. */
function actionConditions(action: string, q: EventQuery): RowConditions {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.action !== undefined) {
    where.push(`${action} = ?`);
    params.push(q.action);
  }
  if (q.actionPrefix !== undefined) {
    where.push(`${action} >= ?`);
    params.push(q.actionPrefix);
    const upper = prefixUpperBound(q.actionPrefix);
    if (upper !== undefined) {
      where.push(`${action} < ?`);
      params.push(upper);
    }
  }
  return { where, params };
}

/**
 * The query's action conditions on the group row `g`, each also passed by an unfilled
 * (NULL) row, which the filters on the joined event then decide.
 */
function groupActionConditions(q: EventQuery): RowConditions {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (q.action !== undefined) {
    where.push('(g.action = ? OR g.action IS NULL)');
    params.push(q.action);
  }
  if (q.actionPrefix !== undefined) {
    const upper = prefixUpperBound(q.actionPrefix);
    where.push(upper === undefined ? '(g.action >= ? OR g.action IS NULL)' : '((g.action >= ? AND g.action < ?) OR g.action IS NULL)');
    params.push(q.actionPrefix, ...(upper === undefined ? [] : [upper]));
  }
  return { where, params };
}

function eventScan(index: string, where: string[], params: SqlValue[], range: LeafRange): Scan {
  return {
    from: `events e INDEXED BY ${index}`,
    where: [...where, 'e.leaf_index >= ?', 'e.leaf_index < ?'],
    params: [...params, range.lo, range.hi],
    orderBy: 'e.leaf_index',
  };
}

/** The ordered scans a driver stands for (pages merge them). */
function scans(driver: Driver, range: LeafRange): Scan[] {
  switch (driver.kind) {
    case 'groups':
      // The conditions on `g` alone are tested on the group row, before the event is read.
      return driver.groupIds.map((g) => ({
        from: 'event_groups g CROSS JOIN events e NOT INDEXED',
        where: ['g.group_id = ?', 'g.leaf_index >= ?', 'g.leaf_index < ?', ...driver.action.where, 'e.leaf_index = g.leaf_index'],
        params: [g, range.lo, range.hi, ...driver.action.params],
        orderBy: 'g.leaf_index',
      }));
    case 'target':
      return [eventScan('events_target', ['e.target_type = ?', 'e.target_id = ?'], [driver.type, driver.id], range)];
    case 'targetId':
      return driver.types.map((t) => eventScan('events_target', ['e.target_type = ?', 'e.target_id = ?'], [t, driver.id], range));
    case 'actor':
      return [eventScan('events_actor', ['e.actor_id = ?'], [driver.id], range)];
    case 'actions':
      return driver.actions.map((a) => eventScan('events_action', ['e.action = ?'], [a], range));
    case 'actionRange': {
      const upper = prefixUpperBound(driver.prefix);
      return [
        eventScan(
          'events_action',
          ['e.action >= ?', ...(upper === undefined ? [] : ['e.action < ?'])],
          [driver.prefix, ...(upper === undefined ? [] : [upper])],
          range,
        ),
      ];
    }
    case 'targetType':
      return [eventScan('events_target', ['e.target_type = ?'], [driver.type], range)];
    case 'outcome':
      return [eventScan('events_outcome', ['e.outcome = ?'], [driver.outcome], range)];
    case 'leaves':
      return [
        {
          from: 'events e NOT INDEXED',
          where: ['e.leaf_index >= ?', 'e.leaf_index < ?'],
          params: [range.lo, range.hi],
          orderBy: 'e.leaf_index',
        },
      ];
  }
}

/** Whether the query filters by nothing but the time. */
function onlyTime(q: EventQuery): boolean {
  const { groupIds, actorId, action, actionPrefix, targetType, targetId, outcome } = q;
  return [groupIds, actorId, action, actionPrefix, targetType, targetId, outcome].every((v) => v === undefined);
}

/** The event's action as its group row `g` gives it; a row not filled yet (NULL) asks the event. */
const GROUP_ROW_ACTION = 'coalesce(g.action, (SELECT x.action FROM events x WHERE x.leaf_index = g.leaf_index))';

/**
 * Counts by group or by action of the events of `groupIds` in `range` (the time range already
 * made a leaf range: see the header), with the query's action conditions tested on the group
 * rows: the rows of `event_groups` alone, bar the rare row not filled yet.
 */
function groupRowCount(key: 'groups' | 'action', q: EventQuery, groupIds: readonly string[], range: LeafRange): SqlStatement {
  const action = actionConditions(GROUP_ROW_ACTION, q);
  const where = [`g.group_id IN (${placeholders(groupIds.length)})`, 'g.leaf_index >= ?', 'g.leaf_index < ?', ...action.where];
  const params: SqlValue[] = [...groupIds, range.lo, range.hi, ...action.params];
  const rows = `event_groups g WHERE ${where.join(' AND ')}`;
  if (key === 'groups') return { sql: `SELECT g.group_id AS key, count(*) AS n FROM ${rows} GROUP BY g.group_id`, params };
  if (groupIds.length === 1) return { sql: `SELECT ${GROUP_ROW_ACTION} AS key, count(*) AS n FROM ${rows} GROUP BY 1`, params };
  // An event in several of the groups counts once (its rows all give the same action).
  return { sql: `SELECT key, count(*) AS n FROM (SELECT DISTINCT g.leaf_index, ${GROUP_ROW_ACTION} AS key FROM ${rows}) GROUP BY key`, params };
}

const COUNT_KEY_COLUMN: Record<Exclude<EventCountKey, 'groups'>, string> = {
  action: 'e.action',
  'actor.id': 'e.actor_id',
  outcome: 'e.outcome',
};

/** The reads a plan needs from the database itself: time bounds and the maintained counts. */
export class QueryPlanner {
  private readonly firstAtOrAfter: Database.Statement<[number], number>;
  private readonly countOf: Database.Statement<[string, string], number>;
  private readonly actionsFrom: Database.Statement<[string, number], string>;
  private readonly actionsBetween: Database.Statement<[string, string, number], string>;
  private readonly actionTotal: Database.Statement<[string], number | null>;
  private readonly actionTotalBetween: Database.Statement<[string, string], number | null>;
  private readonly keysOf: Database.Statement<[string, number], string>;
  private readonly firstTargetType: Database.Statement<[], string>;
  private readonly targetTypeAfter: Database.Statement<[string], string>;

  constructor(db: Database.Database) {
    this.firstAtOrAfter = db
      .prepare<[number], number>('SELECT leaf_index FROM events INDEXED BY events_recorded_at WHERE recorded_at >= ? ORDER BY recorded_at, leaf_index LIMIT 1')
      .pluck();
    this.countOf = db.prepare<[string, string], number>('SELECT n FROM event_counts WHERE dim = ? AND key = ?').pluck();
    this.actionsFrom = db.prepare<[string, number], string>("SELECT key FROM event_counts WHERE dim = 'action' AND key >= ? ORDER BY key LIMIT ?").pluck();
    this.actionsBetween = db
      .prepare<[string, string, number], string>("SELECT key FROM event_counts WHERE dim = 'action' AND key >= ? AND key < ? ORDER BY key LIMIT ?")
      .pluck();
    this.keysOf = db.prepare<[string, number], string>('SELECT key FROM event_counts WHERE dim = ? ORDER BY key LIMIT ?').pluck();
    this.actionTotal = db.prepare<[string], number | null>("SELECT sum(n) FROM event_counts WHERE dim = 'action' AND key >= ?").pluck();
    this.actionTotalBetween = db.prepare<[string, string], number | null>("SELECT sum(n) FROM event_counts WHERE dim = 'action' AND key >= ? AND key < ?").pluck();
    // A skip scan by hand: one seek per distinct type (NULL, an event without target, sorts
    // first and fails both comparisons).
    this.firstTargetType = db
      .prepare<[], string>("SELECT target_type FROM events INDEXED BY events_target WHERE target_type >= '' ORDER BY target_type LIMIT 1")
      .pluck();
    this.targetTypeAfter = db
      .prepare<[string], string>('SELECT target_type FROM events INDEXED BY events_target WHERE target_type > ? ORDER BY target_type LIMIT 1')
      .pluck();
  }

  /** The leaves a query may read, or undefined when none. */
  leafRange(q: EventQuery, treeSize: number, keyset?: { readonly afterLeafIndex?: number; readonly newestFirst?: boolean }): LeafRange | undefined {
    let lo = 0;
    let hi = treeSize;
    const after = keyset?.afterLeafIndex;
    if (after !== undefined) {
      if (keyset?.newestFirst) hi = Math.min(hi, after);
      else lo = Math.max(lo, after + 1);
    }
    if (q.from !== undefined) {
      const first = this.firstAtOrAfter.get(q.from.getTime());
      if (first === undefined) return undefined;
      lo = Math.max(lo, first);
    }
    if (q.to !== undefined) {
      const first = this.firstAtOrAfter.get(q.to.getTime());
      if (first !== undefined) hi = Math.min(hi, first);
    }
    return lo < hi ? { lo, hi } : undefined;
  }

  /** The statements whose rows, merged by leaf index and deduplicated, make the page. Empty: no events. */
  pagePlan(q: EventPageQuery): SqlStatement[] {
    if (q.limit <= 0 || (q.groupIds !== undefined && q.groupIds.length === 0)) return [];
    const range = this.leafRange(q, q.treeSize, q);
    if (!range) return [];
    const driver = this.chooseDriver(q, range, 'page');
    const filters = filterConditions(q, { groups: driver.kind !== 'groups' });
    const direction = q.newestFirst ? 'DESC' : 'ASC';
    return scans(driver, range).map((scan) => ({
      sql: `SELECT ${EVENT_SELECT} FROM ${scan.from} WHERE ${[...scan.where, ...filters.where].join(' AND ')} ORDER BY ${scan.orderBy} ${direction} LIMIT ?`,
      params: [...scan.params, ...filters.params, q.limit],
    }));
  }

  /** An aggregate answering rows `{ key, n }` (unordered), or undefined when nothing can match. */
  countPlan(key: EventCountKey, q: EventQuery, treeSize: number): SqlStatement | undefined {
    if (q.groupIds !== undefined && q.groupIds.length === 0) return undefined;
    const range = this.leafRange(q, treeSize);
    if (!range) return undefined;
    const driver = this.chooseDriver(q, range, 'count');
    if (driver.kind === 'leaves' && key !== 'actor.id' && onlyTime(q)) {
      const perKey = this.keyIndexCount(key, range);
      if (perKey) return perKey;
    }
    // No stored event has a target type: no event can have the target id asked for.
    if (driver.kind === 'targetId' && driver.types.length === 0) return undefined;
    const filters = filterConditions(q, { groups: driver.kind !== 'groups' && key !== 'groups' });
    const groupIds = q.groupIds ?? [];
    const inGroups = `IN (${placeholders(groupIds.length)})`;
    const statement = (select: string, from: string, where: readonly string[], params: readonly SqlValue[], groupBy: string): SqlStatement => ({
      sql: `SELECT ${select} AS key, count(*) AS n FROM ${from} WHERE ${[...where, ...filters.where].join(' AND ')} GROUP BY ${groupBy}`,
      params: [...params, ...filters.params],
    });

    if (driver.kind === 'groups') {
      const onlyGroupColumns = q.actorId === undefined && q.targetType === undefined && q.targetId === undefined && q.outcome === undefined;
      if (onlyGroupColumns && (key === 'groups' || key === 'action')) return groupRowCount(key, q, groupIds, range);
      const action = driver.action;
      if (key === 'groups') {
        // A filter on the event's own columns (the group rows alone answered the others above).
        return statement(
          'g.group_id',
          'event_groups g CROSS JOIN events e NOT INDEXED',
          ['g.group_id ' + inGroups, 'g.leaf_index >= ?', 'g.leaf_index < ?', ...action.where, 'e.leaf_index = g.leaf_index'],
          [...groupIds, range.lo, range.hi, ...action.params],
          'g.group_id',
        );
      }
      // The subquery's leaf indices are a set: an event in two of the groups counts once.
      const column = COUNT_KEY_COLUMN[key];
      return statement(
        column,
        'events e NOT INDEXED',
        [`e.leaf_index IN (SELECT g.leaf_index FROM event_groups g WHERE ${['g.group_id ' + inGroups, 'g.leaf_index >= ?', 'g.leaf_index < ?', ...action.where].join(' AND ')})`],
        [...groupIds, range.lo, range.hi, ...action.params],
        column,
      );
    }

    const [scan] = driver.kind === 'targetId' ? [targetTypesScan(driver, range)] : scans(driver, range);
    if (key === 'groups') {
      const groupFilter = q.groupIds === undefined ? [] : ['j.value ' + inGroups];
      return statement(
        'j.value',
        `${scan!.from} CROSS JOIN ${GROUPS_OF_E}`,
        [...scan!.where, ...groupFilter],
        [...scan!.params, ...(q.groupIds ?? [])],
        'j.value',
      );
    }
    const column = COUNT_KEY_COLUMN[key];
    return statement(column, scan!.from, scan!.where, scan!.params, column);
  }

  /** Counts in `range` by key, one range count per stored key on its index; undefined when there are too many keys. */
  private keyIndexCount(key: Exclude<EventCountKey, 'actor.id'>, range: LeafRange): SqlStatement | undefined {
    const keys = this.keysOf.all(key, MAX_KEY_COUNTS + 1);
    if (keys.length > MAX_KEY_COUNTS) return undefined;
    if (keys.length === 0) return { sql: 'SELECT NULL AS key, 0 AS n WHERE 0', params: [] };
    const { from, column } = KEY_INDEX[key];
    const part = `SELECT ? AS key, count(*) AS n FROM ${from} WHERE ${column} = ? AND leaf_index >= ? AND leaf_index < ?`;
    return { sql: keys.map(() => part).join(' UNION ALL '), params: keys.flatMap((k) => [k, k, range.lo, range.hi]) };
  }

  private chooseDriver(q: EventQuery, range: LeafRange, use: 'page' | 'count'): Driver {
    if (q.targetType !== undefined && q.targetId !== undefined) return { kind: 'target', type: q.targetType, id: q.targetId };
    const candidates: { driver: Driver; rows: number }[] = [];
    if (q.targetId !== undefined) {
      const types = this.targetTypes();
      if (types) candidates.push({ driver: { kind: 'targetId', types, id: q.targetId }, rows: 0 });
    } else if (q.targetType !== undefined) {
      candidates.push({ driver: { kind: 'targetType', type: q.targetType }, rows: this.count('target.type', q.targetType) });
    }
    if (q.groupIds !== undefined) {
      const rows = q.groupIds.reduce((sum, g) => sum + this.count('groups', g), 0);
      candidates.push({ driver: { kind: 'groups', groupIds: q.groupIds, action: groupActionConditions(q) }, rows });
    }
    if (q.actorId !== undefined) candidates.push({ driver: { kind: 'actor', id: q.actorId }, rows: this.count('actor.id', q.actorId) });
    if (q.action !== undefined) candidates.push({ driver: { kind: 'actions', actions: [q.action] }, rows: this.count('action', q.action) });
    else if (q.actionPrefix !== undefined) candidates.push(this.prefixCandidate(q.actionPrefix, use));
    if (q.outcome !== undefined) candidates.push({ driver: { kind: 'outcome', outcome: q.outcome }, rows: this.count('outcome', q.outcome) });
    candidates.push({ driver: { kind: 'leaves' }, rows: range.hi - range.lo });
    // Stable: on a tie the earlier (more selective by nature) candidate wins.
    let best = candidates[0]!;
    for (const c of candidates) if (c.rows < best.rows) best = c;
    return best.driver;
  }

  private prefixCandidate(prefix: string, use: 'page' | 'count'): { driver: Driver; rows: number } {
    const upper = prefixUpperBound(prefix);
    const rows = (upper === undefined ? this.actionTotal.get(prefix) : this.actionTotalBetween.get(prefix, upper)) ?? 0;
    if (use === 'count') return { driver: { kind: 'actionRange', prefix }, rows };
    const actions = upper === undefined ? this.actionsFrom.all(prefix, MAX_STREAMS + 1) : this.actionsBetween.all(prefix, upper, MAX_STREAMS + 1);
    if (actions.length > MAX_STREAMS) return { driver: { kind: 'actionRange', prefix }, rows };
    return { driver: { kind: 'actions', actions }, rows };
  }

  private targetTypes(): string[] | undefined {
    const types: string[] = [];
    for (let type = this.firstTargetType.get(); type !== undefined; type = this.targetTypeAfter.get(type)) {
      types.push(type);
      if (types.length > MAX_STREAMS) return undefined;
    }
    return types;
  }

  private count(dim: CountDim, key: string): number {
    return this.countOf.get(dim, key) ?? 0;
  }
}

/** Counts need no order: one scan of the target index over every stored type. */
function targetTypesScan(driver: { readonly types: readonly string[]; readonly id: string }, range: LeafRange): Scan {
  return eventScan('events_target', [`e.target_type IN (${placeholders(driver.types.length)})`, 'e.target_id = ?'], [...driver.types, driver.id], range);
}
