/**
 * The `events` table: appends in one transaction per call, reads by key, pages and counts.
 * better-sqlite3 is synchronous, so every read here must stay bounded: pages are index range
 * scans cut by LIMIT (eventQueryPlan.ts), and counts come from maintained totals or a worker
 * thread (counts.ts).
 */
import type Database from 'better-sqlite3';
import type {
  AppendPart,
  CompanionRecords,
  EventCount,
  EventCountKey,
  EventKey,
  EventPageQuery,
  EventQuery,
  EventRepository,
  EventWithCompanion,
  FlatEvent,
  LifecycleKind,
  StoredEvent,
} from '../port';
import type { AppendRunner } from './appendRunner';
import { countsOfRows, type CountRunner, MaintainedCounts } from './counts';
import { step } from './driverErrors';
import { QueryPlanner } from './eventQueryPlan';
import { COLUMN, EVENT_COLUMNS, EVENT_SELECT, flatEventOfValues, type SqlValue, storedEventOfValues } from './eventRows';
import { CHANGES } from './lifecycleStore';

type CompanionStatement = Database.Statement<[{ kind: string; key: number | string }], SqlValue[]>;

/** Where a companion read's record value sits in its row: right after the event's columns. */
const COMPANION_VALUE = EVENT_COLUMNS.length;

/**
 * 64 MiB. SQLite itself takes rows up to 1e9 bytes (SQLITE_MAX_LENGTH) but a row is built
 * whole in memory, on the server's only thread; the ledger's own input limits keep real
 * events far below this.
 */
export const MAX_EVENT_BYTES = 64 * 1024 * 1024;

export class SqliteEventRepository implements EventRepository {
  readonly maxEventBytes = MAX_EVENT_BYTES;
  private readonly planner: QueryPlanner;
  private readonly counts: MaintainedCounts;
  /** Event statements run in raw mode: rows as value arrays in EVENT_COLUMNS order. */
  private readonly statements = new Map<string, Database.Statement<SqlValue[], SqlValue[]>>();
  private readonly byLeafIndexStatement: Database.Statement<[number], SqlValue[]>;
  private readonly byIdStatement: Database.Statement<[string], SqlValue[]>;
  private readonly rangeStatement: Database.Statement<[number, number], SqlValue[]>;
  private readonly lastLeaf: Database.Statement<[], number | null>;
  /** Prepared on first use: a ledger from before the lifecycle table gets it from SqliteLifecycleStore. */
  private companionStatements: { byLeafIndex: CompanionStatement; byId: CompanionStatement } | undefined;

  /**
   * @param inline runs statements on this connection (small, indexed reads)
   * @param offThread runs aggregates away from the event loop (the background worker)
   * @param appends commits appends (eventWriter.ts), here or in the append worker
   */
  constructor(
    private readonly db: Database.Database,
    private readonly inline: CountRunner,
    private readonly offThread: CountRunner,
    private readonly appends: AppendRunner,
  ) {
    this.planner = new QueryPlanner(db);
    this.counts = new MaintainedCounts(db);
    this.byLeafIndexStatement = db.prepare<[number], SqlValue[]>(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index = ?`).raw(true);
    this.byIdStatement = db.prepare<[string], SqlValue[]>(`SELECT ${EVENT_SELECT} FROM events e WHERE e.id = ?`).raw(true);
    this.rangeStatement = db.prepare<[number, number], SqlValue[]>(`SELECT ${EVENT_SELECT} FROM events e WHERE e.leaf_index >= ? AND e.leaf_index < ? ORDER BY e.leaf_index`).raw(true);
    this.lastLeaf = db.prepare<[], number | null>('SELECT max(leaf_index) FROM events').pluck();
  }

  append(events: readonly StoredEvent[], companions?: CompanionRecords): Promise<void> {
    return this.appends.append(events, companions);
  }

  appendParts(parts: Iterable<AppendPart>): Promise<void> {
    return this.appends.appendParts(parts);
  }

  range(from: number, to: number): Promise<StoredEvent[]> {
    return step(() => this.rangeStatement.all(from, to).map(storedEventOfValues));
  }

  byLeafIndex(leafIndex: number): Promise<StoredEvent | undefined> {
    return step(() => {
      const row = this.byLeafIndexStatement.get(leafIndex);
      return row && storedEventOfValues(row);
    });
  }

  byId(id: string): Promise<StoredEvent | undefined> {
    return step(() => {
      const row = this.byIdStatement.get(id);
      return row && storedEventOfValues(row);
    });
  }

  withCompanion(key: EventKey, kind: LifecycleKind): Promise<EventWithCompanion | undefined> {
    return step(() => {
      const statements = (this.companionStatements ??= {
        byLeafIndex: this.companionStatement('e.leaf_index = @key'),
        byId: this.companionStatement('e.id = @key'),
      });
      const row = 'leafIndex' in key ? statements.byLeafIndex.get({ kind, key: key.leafIndex }) : statements.byId.get({ kind, key: key.id });
      if (!row) return undefined;
      const event = storedEventOfValues(row);
      const record = row[COMPANION_VALUE] as string | null;
      const count = row[COMPANION_VALUE + 1] as string | null;
      return { event, companion: { records: record === null ? new Map() : new Map([[event.id, record]]), changeCount: count === null ? 0 : Number(count) } };
    });
  }

  /** An event row with its record of a kind and that kind's change count (lifecycleStore.ts) after its columns. */
  private companionStatement(where: string): CompanionStatement {
    return this.db
      .prepare<[{ kind: string; key: number | string }], SqlValue[]>(
        `SELECT ${EVENT_SELECT}, k.value, c.value FROM events e ` +
          'LEFT JOIN lifecycle k ON k.kind = @kind AND k.id = e.id ' +
          `LEFT JOIN lifecycle c ON c.kind = '${CHANGES}' AND c.id = @kind WHERE ${where}`,
      )
      .raw(true);
  }

  page(query: EventPageQuery): Promise<StoredEvent[]> {
    return step(() => this.pageRows(query).map(storedEventOfValues));
  }

  flatPage(query: EventPageQuery): Promise<FlatEvent[]> {
    return step(() => this.pageRows(query).map(flatEventOfValues));
  }

  /** The raw rows of a page, in its order. */
  private pageRows(query: EventPageQuery): SqlValue[][] {
    const plan = this.planner.pagePlan(query);
    if (plan.length === 0) return [];
    const rows = plan.flatMap((s) => this.prepared(s.sql).all(...s.params));
    const leaf = COLUMN.leaf_index;
    if (plan.length > 1) {
      // Merging scans: each is ordered and LIMITed, so their union holds the page.
      rows.sort(query.newestFirst ? (a, b) => (b[leaf] as number) - (a[leaf] as number) : (a, b) => (a[leaf] as number) - (b[leaf] as number));
    }
    const page: SqlValue[][] = [];
    let previous: SqlValue | undefined;
    for (const row of rows) {
      if (page.length >= query.limit) break;
      const leafIndex = row[leaf];
      if (leafIndex === previous) continue;
      previous = leafIndex;
      page.push(row);
    }
    return page;
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

  private prepared(sql: string): Database.Statement<SqlValue[], SqlValue[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare<SqlValue[], SqlValue[]>(sql).raw(true);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}
