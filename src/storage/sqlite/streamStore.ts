/**
 * Stream records (webhook subscriptions, alert rules, worker cursors, the delivery lease) in
 * one `stream_records` table keyed by (kind, id), with a version for compare-and-set.
 */
import type Database from 'better-sqlite3';
import type { StreamKind, StreamStore, VersionedRecord } from '../port';
import { step } from './driverErrors';

export const STREAM_RECORDS_DDL =
  'CREATE TABLE IF NOT EXISTS stream_records (kind TEXT NOT NULL, id TEXT NOT NULL, value TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (kind, id)) WITHOUT ROWID';

export class SqliteStreamStore implements StreamStore {
  private readonly insertOne: Database.Statement<[string, string, string]>;
  private readonly getOne: Database.Statement<[string, string], VersionedRecord>;
  private readonly listFrom: Database.Statement<[string, string, number], VersionedRecord>;
  private readonly updateOne: Database.Statement<[string, string, string, number]>;

  constructor(db: Database.Database) {
    // A ledger created before this table existed, opened by a CLI command (which does not run
    // the schema): add it, or on a read-only connection read it as empty.
    const exists = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'stream_records'").get();
    if (!exists) db.exec(db.readonly ? STREAM_RECORDS_DDL.replace('CREATE TABLE IF NOT EXISTS', 'CREATE TEMP TABLE').replace(' WITHOUT ROWID', '') : STREAM_RECORDS_DDL);
    this.insertOne = db.prepare('INSERT INTO stream_records (kind, id, value, version) VALUES (?, ?, ?, 1) ON CONFLICT (kind, id) DO NOTHING');
    this.getOne = db.prepare('SELECT id, value, version FROM stream_records WHERE kind = ? AND id = ?');
    this.listFrom = db.prepare('SELECT id, value, version FROM stream_records WHERE kind = ? AND id > ? ORDER BY id LIMIT ?');
    this.updateOne = db.prepare('UPDATE stream_records SET value = ?, version = version + 1 WHERE kind = ? AND id = ? AND version = ?');
  }

  insert(kind: StreamKind, id: string, value: string): Promise<boolean> {
    return step(() => this.insertOne.run(kind, id, value).changes === 1);
  }

  get(kind: StreamKind, id: string): Promise<VersionedRecord | undefined> {
    return step(() => this.getOne.get(kind, id));
  }

  list(kind: StreamKind, options: { readonly after?: string; readonly limit: number }): Promise<VersionedRecord[]> {
    return step(() => this.listFrom.all(kind, options.after ?? '', options.limit));
  }

  update(kind: StreamKind, id: string, version: number, value: string): Promise<boolean> {
    return step(() => this.updateOne.run(value, kind, id, version).changes === 1);
  }
}
