/**
 * Lifecycle records (wrapped keys, redactions, holds, retention policies, job cursors) in one
 * `lifecycle` table keyed by (kind, id). Deletion is secure: the connection runs with
 * `secure_delete = ON` (freed pages are zeroed) and a delete ends with a truncating WAL
 * checkpoint, so a destroyed data key survives neither in the main file nor in the WAL.
 */
import type Database from 'better-sqlite3';
import type { LifecycleKind, LifecycleRecord, LifecycleSnapshot, LifecycleStore } from '../port';
import { step } from './driverErrors';

/** Inserts or replaces one record (kind, id, value). */
export const LIFECYCLE_UPSERT_SQL = 'INSERT INTO lifecycle (kind, id, value) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value';

export const LIFECYCLE_DDL = 'CREATE TABLE IF NOT EXISTS lifecycle (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID';

/** The kind of the rows that count changes per kind (see LifecycleSnapshot.changeCount): the row of kind K has id K. */
export const CHANGES = 'changes';

export class SqliteLifecycleStore implements LifecycleStore {
  private readonly upsert: Database.Statement<[string, string, string]>;
  private readonly insert: Database.Statement<[string, string, string]>;
  private readonly getOne: Database.Statement<[string, string], { value: string }>;
  private readonly getMany: Database.Statement<[string, string], { id: string; value: string }>;
  private readonly remove: Database.Statement<[string, string]>;
  private readonly listFrom: Database.Statement<[string, string, number], LifecycleRecord>;
  private readonly bumpChanges: Database.Statement<[string]>;
  private readonly snapshotOne: Database.Statement<{ kind: string; id: string }, SnapshotRow>;
  private readonly snapshotMany: Database.Statement<{ kind: string; ids: string }, SnapshotRow>;

  constructor(private readonly db: Database.Database) {
    // A ledger created before this table existed, opened by a CLI command (which does not run
    // the schema): add it, or on a read-only connection read it as empty.
    const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'lifecycle'").get();
    if (!exists) db.exec(db.readonly ? 'CREATE TEMP TABLE lifecycle (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (kind, id))' : LIFECYCLE_DDL);
    this.upsert = db.prepare(LIFECYCLE_UPSERT_SQL);
    this.insert = db.prepare('INSERT INTO lifecycle (kind, id, value) VALUES (?, ?, ?)');
    this.getOne = db.prepare('SELECT value FROM lifecycle WHERE kind = ? AND id = ?');
    // One statement for a page's worth of keys: the ids arrive as one JSON array.
    this.getMany = db.prepare('SELECT id, value FROM lifecycle WHERE kind = ? AND id IN (SELECT value FROM json_each(?))');
    this.remove = db.prepare('DELETE FROM lifecycle WHERE kind = ? AND id = ?');
    this.listFrom = db.prepare('SELECT id, value FROM lifecycle WHERE kind = ? AND id > ? ORDER BY id LIMIT ?');
    // The change counts live beside the records, kind `changes` (no LifecycleKind, so no caller
    // lists or touches them), written in the transaction of the change they count.
    this.bumpChanges = db.prepare(
      `INSERT INTO lifecycle (kind, id, value) VALUES ('${CHANGES}', ?, '1') ON CONFLICT (kind, id) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)`,
    );
    // Each statement is a read transaction of its own (file locks taken and let go): the
    // records and their count in one costs one.
    const count = `UNION ALL SELECT 1, id, value FROM lifecycle WHERE kind = '${CHANGES}' AND id = @kind`;
    this.snapshotOne = db.prepare(`SELECT 0 AS counter, id, value FROM lifecycle WHERE kind = @kind AND id = @id ${count}`);
    this.snapshotMany = db.prepare(`SELECT 0 AS counter, id, value FROM lifecycle WHERE kind = @kind AND id IN (SELECT value FROM json_each(@ids)) ${count}`);
  }

  put(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<void> {
    return step(() =>
      this.db.transaction(() => {
        for (const r of records) this.upsert.run(kind, r.id, r.value);
        if (records.length > 0) this.bumpChanges.run(kind);
      })(),
    );
  }


  insertNew(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<boolean> {
    return step(() =>
      this.db.transaction(() => {
        for (const r of records) {
          if (this.getOne.get(kind, r.id)) throw new Taken();
          this.insert.run(kind, r.id, r.value);
        }
      })(),
    ).then(
      () => true,
      (err: unknown) => {
        if (err instanceof Taken || (err as { cause?: unknown }).cause instanceof Taken) return false;
        throw err;
      },
    );
  }

  get(kind: LifecycleKind, ids: readonly string[]): Promise<Map<string, string>> {
    return step(() => {
      const out = new Map<string, string>();
      if (ids.length === 1) {
        const row = this.getOne.get(kind, ids[0]!);
        if (row) out.set(ids[0]!, row.value);
      } else if (ids.length > 1) {
        for (const row of this.getMany.all(kind, JSON.stringify(ids))) out.set(row.id, row.value);
      }
      return out;
    });
  }

  delete(kind: LifecycleKind, ids: readonly string[]): Promise<number> {
    return step(() => {
      const n = this.db.transaction(() => {
        const removed = ids.reduce((sum, id) => sum + this.remove.run(kind, id).changes, 0);
        if (removed > 0) this.bumpChanges.run(kind);
        return removed;
      })();
      // Copy the zeroed pages into the main file and empty the WAL, so no old frame keeps the key.
      if (n > 0 && !this.db.memory) this.db.pragma('wal_checkpoint(TRUNCATE)');
      return n;
    });
  }

  list(kind: LifecycleKind, options: { readonly after?: string; readonly limit: number }): Promise<LifecycleRecord[]> {
    return step(() => this.listFrom.all(kind, options.after ?? '', options.limit));
  }

  snapshot(kind: LifecycleKind, ids: readonly string[]): Promise<LifecycleSnapshot> {
    return step(() => {
      const rows = ids.length === 1 ? this.snapshotOne.all({ kind, id: ids[0]! }) : this.snapshotMany.all({ kind, ids: JSON.stringify(ids) });
      const records = new Map<string, string>();
      let changeCount = 0;
      for (const row of rows) {
        if (row.counter === 1) changeCount = Number(row.value);
        else records.set(row.id, row.value);
      }
      return { records, changeCount };
    });
  }

}

class Taken extends Error {}

interface SnapshotRow {
  /** 1 on the row of the change count, 0 on the records'. */
  readonly counter: 0 | 1;
  readonly id: string;
  readonly value: string;
}
