/**
 * Upgrading a ledger file written by an older release, done when it is opened for writing.
 *
 * Version 1 → 2 adds `event_groups.action`. Adding the column only rewrites the schema text,
 * so it is instant whatever the log's size; it is done with the new version mark in one
 * transaction. The rows already stored are then filled from their events in bounded
 * transactions (FILL_CHUNK leaves each), from a cursor kept in `meta`. Until a row is filled
 * its action is NULL, which the reads treat as "ask the event" (eventQueryPlan.ts): a fill
 * cut short by a crash or a kill leaves a database that answers correctly, only with the
 * old cost on the rows still unfilled, and the next writable open carries on from the cursor.
 * Rows appended by this release carry their action from the start, so the fill covers only
 * the leaves stored when the column was added.
 */
import type Database from 'better-sqlite3';
import { GROUPS_OF_E } from './eventQueryPlan';
import { SCHEMA_VERSION } from './schema';

export interface UpgradeLogger {
  info(obj: object, msg?: string): void;
}

/** Where the fill of `event_groups.action` has got to: leaves [next, end) are still to do. */
const FILL_KEY = 'fill_group_actions';
export interface FillCursor {
  readonly next: number;
  readonly end: number;
}

export const FILL_SQL = `UPDATE event_groups AS g SET action = (SELECT e.action FROM events e WHERE e.leaf_index = g.leaf_index)
WHERE (g.group_id, g.leaf_index) IN (SELECT j.value, e.leaf_index FROM events e NOT INDEXED CROSS JOIN ${GROUPS_OF_E} WHERE e.leaf_index >= ? AND e.leaf_index < ?)`;

/** Leaves per fill transaction: a few hundred milliseconds of work, so a writer beside us waits little. */
export const FILL_CHUNK = 20_000;
const PROGRESS_EVERY_MS = 10_000;

/**
 * Brings a ledger of an older schema version to SCHEMA_VERSION (the caller has checked it
 * knows `fromVersion`). Safe against another process upgrading the same file at once: the
 * version is read again under the write lock.
 */
export function upgradeSchema(db: Database.Database, fromVersion: number, logger?: UpgradeLogger): void {
  db.transaction(() => {
    const version = Number(db.prepare<[], string>("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get());
    if (version !== 1) return;
    db.exec('ALTER TABLE event_groups ADD COLUMN action TEXT');
    const end = db.prepare<[], number>('SELECT coalesce(max(leaf_index) + 1, 0) FROM events').pluck().get() ?? 0;
    if (end > 0) writeCursor(db, { next: 0, end });
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION));
    logger?.info({ fromVersion, toVersion: SCHEMA_VERSION, leavesToFill: end }, 'SQLite ledger schema upgraded: event_groups.action added');
  }).immediate();
}

/**
 * Fills `event_groups.action` for the leaves the upgrade left to do, one bounded transaction
 * at a time; returns at once when nothing is left.
 */
export function fillGroupActions(db: Database.Database, logger?: UpgradeLogger, chunk = FILL_CHUNK): void {
  const fill = new GroupActionFill(db, chunk);
  const first = fill.cursor();
  if (!first) return;
  const started = Date.now();
  let reported = started;
  logger?.info({ from: first.next, end: first.end }, 'filling event_groups.action from the stored events (schema upgrade)');
  for (let cursor = fill.step(); cursor; cursor = fill.step()) {
    if (Date.now() - reported >= PROGRESS_EVERY_MS) {
      reported = Date.now();
      logger?.info({ next: cursor.next, end: cursor.end }, 'filling event_groups.action');
    }
  }
  logger?.info({ end: first.end, ms: Date.now() - started }, 'event_groups.action filled');
}

/** The fill, one transaction per step. */
export class GroupActionFill {
  private readonly read: Database.Statement<[string], string>;
  private readonly fill: Database.Statement<[number, number]>;
  private readonly done: Database.Statement<[string]>;
  /** Fills the next `chunk` leaves; answers the cursor left, undefined once all is filled. */
  readonly step: () => FillCursor | undefined;

  constructor(
    private readonly db: Database.Database,
    chunk: number,
  ) {
    this.read = db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck();
    // The events' own groups name their rows, each then found by its primary key (the plan is
    // checked in test/storage/sqliteUpgrade.test.ts: never a scan of event_groups).
    this.fill = db.prepare<[number, number]>(FILL_SQL);
    this.done = db.prepare<[string]>('DELETE FROM meta WHERE key = ?');
    // Each step reads the cursor under the write lock, so two processes filling at once
    // share the work instead of repeating it.
    this.step = db.transaction((): FillCursor | undefined => {
      const cursor = this.cursor();
      if (!cursor) return undefined;
      const to = Math.min(cursor.end, cursor.next + chunk);
      this.fill.run(cursor.next, to);
      if (to >= cursor.end) {
        this.done.run(FILL_KEY);
        return undefined;
      }
      const next = { next: to, end: cursor.end };
      writeCursor(this.db, next);
      return next;
    }).immediate;
  }

  cursor(): FillCursor | undefined {
    const value = this.read.get(FILL_KEY);
    return value === undefined ? undefined : (JSON.parse(value) as FillCursor);
  }
}

function writeCursor(db: Database.Database, cursor: FillCursor): void {
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(FILL_KEY, JSON.stringify(cursor));
}
