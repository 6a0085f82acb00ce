/**
 * The `events` table: appends in one transaction per call, reads by key, pages and counts.
 * better-sqlite3 is synchronous, so every read here must stay bounded: pages are index range
 * scans cut by LIMIT (eventQueryPlan.ts), and counts come from maintained totals or a worker
 * thread (counts.ts).
 */
import type Database from 'better-sqlite3';
import { LedgerError } from '../../errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import type { EventCount, EventCountKey, EventPageQuery, EventQuery, EventRepository, StoredEvent } from '../port';
import { countsOfRows, type CountRunner, MaintainedCounts } from './counts';
import { sqliteCode, step } from './driverErrors';
import { QueryPlanner } from './eventQueryPlan';
import { EVENT_COLUMNS, EVENT_SELECT, type EventRow, eventValues, type SqlValue, storedEventOfRow } from './eventRows';

/**
 * 64 MiB. SQLite itself takes rows up to 1e9 bytes (SQLITE_MAX_LENGTH) but a row is built
 * whole in memory, on the server's only thread; the ledger's own input limits keep real
 * events far below this.
 */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;

/** A failure that concerns the one event being inserted (rather than the database). */
const REJECTS_EVENT = /^SQLITE_(TOOBIG|CONSTRAINT|MISMATCH|RANGE)/;

export class SqliteEventRepository implements EventRepository {
  readonly maxEventBytes = MAX_EVENT_BYTES;
  private readonly planner: QueryPlanner;
  private readonly counts: MaintainedCounts;
  private readonly statements = new Map<string, Database.Statement<SqlValue[], EventRow>>();
  private readonly insertEvent: Database.Statement<SqlValue[]>;
  private readonly insertGroup: Database.Statement<[string, number]>;
  private readonly insertIdempotency: Database.Statement<[string, number, string, Uint8Array, string]>;
  private readonly byLeafIndexStatement: Database.Statement<[number], EventRow>;
  private readonly byIdStatement: Database.Statement<[string], EventRow>;
  private readonly rangeStatement: Database.Statement<[number, number], EventRow>;
  private readonly lastLeaf: Database.Statement<[], number | null>;
  private readonly appendAll: (events: readonly StoredEvent[]) => void;

  /**
   * @param inline runs statements on this connection (small, indexed reads)
   * @param offThread runs aggregates away from the event loop (the count worker)
   */
  constructor(
    private readonly db: Database.Database,
    private readonly inline: CountRunner,
    private readonly offThread: CountRunner,
  ) {
    this.planner = new QueryPlanner(db);
    this.counts = new MaintainedCounts(db);
    this.insertEvent = db.prepare<SqlValue[]>(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`);
    this.insertGroup = db.prepare('INSERT OR IGNORE INTO event_groups (group_id, leaf_index) VALUES (?, ?)');
    this.insertIdempotency = db.prepare(
      'INSERT OR IGNORE INTO idempotency (key, leaf_index, event_id, leaf_hash, content_digest) VALUES (?, ?, ?, ?, ?)',
    );
    this.byLeafIndexStatement = db.prepare(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index = ?`);
    this.byIdStatement = db.prepare(`SELECT ${EVENT_SELECT} FROM events e WHERE e.id = ?`);
    this.rangeStatement = db.prepare(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index >= ? AND e.leaf_index < ? ORDER BY e.leaf_index`);
    this.lastLeaf = db.prepare<[], number | null>('SELECT max(leaf_index) FROM events').pluck();
    // IMMEDIATE: take the write lock up front, so a CLI writer beside us waits (busy_timeout)
    // rather than failing part-way through with SQLITE_BUSY.
    this.appendAll = db.transaction((events: readonly StoredEvent[]) => {
      for (const e of events) this.insertOne(e);
      this.counts.record(events);
    }).immediate;
  }

  append(events: readonly StoredEvent[]): Promise<void> {
    return step(() => {
      if (events.length === 0) return;
      const first = events[0]!.leafIndex;
      events.forEach((e, i) => {
        if (e.leafIndex !== first + i) throw new LedgerError('INTERNAL', `append: leaf ${e.leafIndex} does not follow leaf ${first + i - 1}`);
      });
      this.appendAll(events);
    });
  }

  range(from: number, to: number): Promise<StoredEvent[]> {
    return step(() => this.rangeStatement.all(from, to).map(storedEventOfRow));
  }

  byLeafIndex(leafIndex: number): Promise<StoredEvent | undefined> {
    return step(() => {
      const row = this.byLeafIndexStatement.get(leafIndex);
      return row && storedEventOfRow(row);
    });
  }

  byId(id: string): Promise<StoredEvent | undefined> {
    return step(() => {
      const row = this.byIdStatement.get(id);
      return row && storedEventOfRow(row);
    });
  }

  page(query: EventPageQuery): Promise<StoredEvent[]> {
    return step(() => {
      const plan = this.planner.pagePlan(query);
      if (plan.length === 0) return [];
      const rows = plan.flatMap((s) => this.prepared(s.sql).all(...s.params));
      if (plan.length > 1) {
        // Merging scans: each is ordered and LIMITed, so their union holds the page.
        rows.sort(query.newestFirst ? (a, b) => b.leaf_index - a.leaf_index : (a, b) => a.leaf_index - b.leaf_index);
      }
      const page: StoredEvent[] = [];
      let previous: number | undefined;
      for (const row of rows) {
        if (page.length >= query.limit) break;
        if (row.leaf_index === previous) continue;
        previous = row.leaf_index;
        page.push(storedEventOfRow(row));
      }
      return page;
    });
  }

  async countBy(key: EventCountKey, query: EventQuery, treeSize: number): Promise<EventCount[]> {
    const plan = await step(() => {
      const maintained = this.counts.statement(key, query, treeSize);
      // The totals of a key have one row per value: a few for outcome, action and groups,
      // but one per actor for actor.id, which may be millions: that read goes off-thread too.
      if (maintained) return { statement: maintained, runner: key === 'actor.id' ? this.offThread : this.inline };
      const aggregate = this.planner.countPlan(key, query, treeSize);
      return aggregate && { statement: aggregate, runner: this.offThread };
    });
    if (!plan) return [];
    return countsOfRows(await plan.runner.run(plan.statement));
  }

  estimatedCount(): Promise<number> {
    return step(() => (this.lastLeaf.get() ?? -1) + 1);
  }

  private insertOne(e: StoredEvent): void {
    try {
      this.insertEvent.run(...eventValues(e));
    } catch (err) {
      const code = sqliteCode(err);
      if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new LeafIndexTakenError(e.leafIndex, { cause: err });
      // A colliding event id is not the event's fault: built again (a new id), it is stored.
      if (code === 'SQLITE_CONSTRAINT_UNIQUE' && (err as Error).message.includes('events.id')) {
        throw new DuplicateKeyError('id', `event id ${e.id} is already stored`, { cause: err });
      }
      if (code !== undefined && REJECTS_EVENT.test(code)) {
        throw new EventRejectedError(`event ${e.id} (leaf ${e.leafIndex}) cannot be stored: ${(err as Error).message}`, { cause: err });
      }
      throw err;
    }
    for (const g of new Set(e.groups)) this.insertGroup.run(g, e.leafIndex);
    if (e.idempotencyKey !== undefined && e.contentDigest !== undefined) {
      this.insertIdempotency.run(e.idempotencyKey, e.leafIndex, e.id, e.leafHash, e.contentDigest);
    }
  }

  private prepared(sql: string): Database.Statement<SqlValue[], EventRow> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<SqlValue[], EventRow>(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
