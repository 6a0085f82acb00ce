/**
 * Event counts per key. The totals per key, overall and within each group, are maintained
 * by the append transaction (`event_counts`, `group_counts`), so the counts a dashboard asks
 * for most (everything, or one reader's group) are a small indexed read however long the
 * log. Counts are over the leaves below the tree size: the leaves stored past it (a batch
 * being written, normally none or a handful) are subtracted in the same statement, from a
 * primary-key range read.
 *
 * Any other filter needs an aggregate over the matching rows, which may be millions: it runs
 * in a worker thread with its own read-only connection (backgroundWorker.ts), so the server keeps
 * answering meanwhile. An in-memory database cannot be shared with a worker; its counts run
 * inline (tests and tools only).
 */
import Database from 'better-sqlite3';
import type { EventCount, EventCountKey, EventQuery, StoredEvent } from '../port';
import type { BackgroundWorker } from './backgroundClient';
import type { CountRow } from './backgroundWorker';
import { translateError } from './driverErrors';
import { type CountDim, GROUPS_OF_E, placeholders, type SqlStatement } from './eventQueryPlan';

/**
 * Beyond this many leaves stored past the tree size (only when asked for an old tree size:
 * normally there are none or one batch), subtracting them is no small read any more: the
 * worker's aggregate answers instead.
 */
const MAX_TAIL = 10_000;

const DIMS = ['action', 'actor.id', 'outcome'] as const;
type Dim = (typeof DIMS)[number];

function dimValue(dim: Dim, e: { readonly action: string; readonly actorId: string; readonly outcome: string }): string {
  return dim === 'action' ? e.action : dim === 'actor.id' ? e.actorId : e.outcome;
}

/**
 * Unordered aggregate rows as counts in the port's order: most frequent first, then by key
 * (sorted here, in JavaScript's string order, whichever statement produced them); keys left
 * with no events are dropped.
 */
export function countsOfRows(rows: readonly CountRow[]): EventCount[] {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(String(r.key), (counts.get(String(r.key)) ?? 0) + r.n);
  const out: EventCount[] = [];
  for (const [key, count] of counts) if (count > 0) out.push({ key, count });
  return out.sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

const COUNT_COLUMN: Record<Dim, string> = { action: 'e.action', 'actor.id': 'e.actor_id', outcome: 'e.outcome' };


export class MaintainedCounts {
  private readonly bumpEvent: Database.Statement<[string, string, number]>;
  private readonly bumpGroup: Database.Statement<[string, string, string, number]>;
  private readonly lastLeaf: Database.Statement<[], number | null>;

  constructor(db: Database.Database) {
    this.bumpEvent = db.prepare('INSERT INTO event_counts (dim, key, n) VALUES (?, ?, ?) ON CONFLICT (dim, key) DO UPDATE SET n = n + excluded.n');
    this.bumpGroup = db.prepare(
      'INSERT INTO group_counts (group_id, dim, key, n) VALUES (?, ?, ?, ?) ON CONFLICT (group_id, dim, key) DO UPDATE SET n = n + excluded.n',
    );
    this.lastLeaf = db.prepare<[], number | null>('SELECT max(leaf_index) FROM events').pluck();
  }

  /** Adds appended events to the totals; call inside the append transaction. */
  record(events: readonly StoredEvent[]): void {
    // Summed per key first: a batch has few distinct keys, so few upserts.
    const overall = new Map<string, Map<string, number>>();
    const perGroup = new Map<string, Map<string, Map<string, number>>>();
    const bump = (m: Map<string, Map<string, number>>, dim: string, key: string): void => {
      let keys = m.get(dim);
      if (!keys) m.set(dim, (keys = new Map()));
      keys.set(key, (keys.get(key) ?? 0) + 1);
    };
    for (const e of events) {
      const values = { action: e.action, actorId: e.actor.id, outcome: e.outcome };
      for (const dim of DIMS) bump(overall, dim, dimValue(dim, values));
      if (e.target) bump(overall, 'target.type' satisfies CountDim, e.target.type);
      for (const g of new Set(e.groups)) {
        bump(overall, 'groups', g);
        let dims = perGroup.get(g);
        if (!dims) perGroup.set(g, (dims = new Map()));
        for (const dim of DIMS) bump(dims, dim, dimValue(dim, values));
      }
    }
    for (const [dim, keys] of overall) for (const [key, n] of keys) this.bumpEvent.run(dim, key, n);
    for (const [g, dims] of perGroup) for (const [dim, keys] of dims) for (const [key, n] of keys) this.bumpGroup.run(g, dim, key, n);
  }

  /**
   * A statement answering rows `{ key, n }` from the maintained totals, less the leaves
   * stored at or past the tree size; undefined when the query is not one the totals answer
   * (a filter other than groups, several groups unless counting by group, or none) or when
   * too many leaves lie past the tree size.
   */
  statement(key: EventCountKey, q: EventQuery, treeSize: number): SqlStatement | undefined {
    const { groupIds } = q;
    const others = [q.actorId, q.action, q.actionPrefix, q.targetType, q.targetId, q.outcome, q.from, q.to];
    if (others.some((v) => v !== undefined)) return undefined;
    if (groupIds !== undefined && (groupIds.length === 0 || (groupIds.length > 1 && key !== 'groups'))) return undefined;
    const from = Math.max(treeSize, 0);
    const last = this.lastLeaf.get() ?? -1;
    if (last + 1 - from > MAX_TAIL) return undefined;
    const hasTail = last >= from;

    // The leaves past the tree size are read by primary key (NOT INDEXED): left to itself,
    // SQLite would rather scan a whole index in key order to spare the GROUP BY a sort.
    let base: SqlStatement;
    let tail: SqlStatement;
    if (key === 'groups') {
      const only = groupIds === undefined ? '' : ` AND key IN (${placeholders(groupIds.length)})`;
      const onlyTail = groupIds === undefined ? '' : ` AND j.value IN (${placeholders(groupIds.length)})`;
      base = { sql: `SELECT key, n FROM event_counts WHERE dim = 'groups'${only}`, params: [...(groupIds ?? [])] };
      tail = {
        sql: `SELECT j.value AS key, -count(*) AS n FROM events e NOT INDEXED CROSS JOIN ${GROUPS_OF_E} WHERE e.leaf_index >= ?${onlyTail} GROUP BY j.value`,
        params: [from, ...(groupIds ?? [])],
      };
    } else if (groupIds === undefined) {
      base = { sql: 'SELECT key, n FROM event_counts WHERE dim = ?', params: [key] };
      tail = { sql: `SELECT ${COUNT_COLUMN[key]} AS key, -count(*) AS n FROM events e NOT INDEXED WHERE e.leaf_index >= ? GROUP BY 1`, params: [from] };
    } else {
      const group = groupIds[0]!;
      base = { sql: 'SELECT key, n FROM group_counts WHERE group_id = ? AND dim = ?', params: [group, key] };
      tail = {
        sql: `SELECT ${COUNT_COLUMN[key]} AS key, -count(*) AS n FROM events e NOT INDEXED WHERE e.leaf_index >= ? AND EXISTS (SELECT 1 FROM event_groups x WHERE x.group_id = ? AND x.leaf_index = e.leaf_index) GROUP BY 1`,
        params: [from, group],
      };
    }
    if (!hasTail) return base;
    return { sql: `SELECT key, sum(n) AS n FROM (${base.sql} UNION ALL ${tail.sql}) GROUP BY key`, params: [...base.params, ...tail.params] };
  }
}

// ---------------------------------------------------------------------------------------
// Running the aggregates

export interface CountRunner {
  run(statement: SqlStatement): Promise<CountRow[]>;
  close(): Promise<void>;
}

/** On the main thread: for in-memory databases, which no other connection can open. */
export class InlineCountRunner implements CountRunner {
  private readonly statements = new Map<string, Database.Statement<unknown[], CountRow>>();

  constructor(private readonly db: Database.Database) {}

  async run(statement: SqlStatement): Promise<CountRow[]> {
    try {
      let prepared = this.statements.get(statement.sql);
      if (!prepared) {
        prepared = this.db.prepare<unknown[], CountRow>(statement.sql);
        this.statements.set(statement.sql, prepared);
      }
      return prepared.all(...statement.params);
    } catch (err) {
      throw translateError(err);
    }
  }

  async close(): Promise<void> {}
}

/**
 * Off the server thread, on the background worker's read-only connection. The worker keeps
 * the process alive only while a count is pending, so an idle server (or a CLI command) can exit.
 */
export class WorkerCountRunner implements CountRunner {
  constructor(private readonly background: BackgroundWorker) {}

  run(statement: SqlStatement): Promise<CountRow[]> {
    return this.background.count(statement.sql, statement.params);
  }

  /** The background worker is closed by whoever opened the storage (it also checkpoints). */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
