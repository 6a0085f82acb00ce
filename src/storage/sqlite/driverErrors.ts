/**
 * better-sqlite3's errors in the port's terms: callers of the storage port never see a
 * driver error, only a LedgerError with a code the GraphQL shell and the CLI understand.
 */
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';

/**
 * The extended SQLite result code of a driver error (`SQLITE_CONSTRAINT_UNIQUE`…), if it is one.
 * Recognised by name and code as well as by class: the native addon keeps the SqliteError
 * class of the first load of better-sqlite3, so a second module registry (Jest runs each
 * test file in its own, in a shared worker) sees errors of a class it did not load.
 */
export function sqliteCode(err: unknown): string | undefined {
  if (err instanceof Database.SqliteError) return err.code;
  // Not `instanceof Error` either: such an error may come from another realm (Jest's test context).
  if (typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'SqliteError') {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_')) return code;
  }
  return undefined;
}

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|PROTOCOL|NOLFS|INTERRUPT)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB|FORMAT)/;

/** A LedgerError for any failure (LedgerErrors pass through unchanged). */
export function translateError(err: unknown): Error {
  if (err instanceof LedgerError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return err instanceof Error ? err : new LedgerError('INTERNAL', String(err), { cause: err });
  const message = `SQLite: ${(err as Error).message} (${code})`;
  if (UNAVAILABLE.test(code)) return new LedgerError('UNAVAILABLE', message, { cause: err });
  if (CORRUPT.test(code)) return new LedgerError('CORRUPT', message, { cause: err });
  return new LedgerError('INTERNAL', message, { cause: err });
}

/** Runs one synchronous database step, answering as a promise and failing in the port's terms. */
export async function step<T>(work: () => T): Promise<T> {
  try {
    return work();
  } catch (err) {
    throw translateError(err);
  }
}
