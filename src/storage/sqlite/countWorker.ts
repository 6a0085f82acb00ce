/**
 * The worker thread that runs count aggregates the maintained counts cannot answer. It
 * holds its own read-only connection to the database file: WAL lets it read beside the
 * server's writer, and an aggregate over millions of rows then costs the server's event
 * loop nothing. It runs whatever statement it is sent (built by eventQueryPlan.ts), one at a
 * time, in order (connectionWorker.ts).
 */
import Database from 'better-sqlite3';
import { serveOnConnection } from './connectionWorker';
import type { SqlValue } from './eventRows';
import { BUSY_TIMEOUT_MS } from './schema';

export interface CountRequest {
  readonly id: number;
  readonly sql: string;
  readonly params: readonly SqlValue[];
}

export interface CountRow {
  readonly key: unknown;
  readonly n: number;
}

/** Runs each statement, prepared once per distinct text. */
function countRunner(): (db: Database.Database, request: CountRequest) => CountRow[] {
  const statements = new Map<string, Database.Statement<SqlValue[], CountRow>>();
  return (db, request) => {
    let statement = statements.get(request.sql);
    if (!statement) {
      statement = db.prepare<SqlValue[], CountRow>(request.sql);
      statements.set(request.sql, statement);
    }
    return statement.all(...request.params);
  };
}

serveOnConnection((file) => new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS }), countRunner());
