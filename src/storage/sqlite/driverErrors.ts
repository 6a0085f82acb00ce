/**
 * better-sqlite3's errors in the port's terms: callers of the storage port never see a
 * driver error, only a LedgerError with a code the GraphQL shell and the CLI understand.
 */
import Database from 'better-sqlite3';
import { LedgerError } from '../../errors';

/**
 * The extended SQLite result code of a driver error (`SQLITE_CONSTRAINT_UNIQUE`…), if it is one.
 * Recognised by shape, not `instanceof`: the native addon keeps the error class of the first
 * copy of the module that loaded it, so a second copy (another module registry or realm, as in a
 * test runner) would otherwise fail the check.
 */
export function sqliteCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { name, code } = err as { name?: unknown; code?: unknown };
  if (name !== 'SqliteError') return undefined;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|CANTOPEN|READONLY|PROTOCOL|NOLFS|INTERRUPT)/;
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB|FORMAT)/;

/** A LedgerError for any failure (LedgerErrors pass through unchanged). */
export function translateError(err: unknown): Error {
  if (err instanceof LedgerError) return err;
  const code = sqliteCode(err);
  if (code === undefined) return err instanceof Error ? err : new LedgerError('INTERNAL', String(err));
  const message = `SQLite: ${String((err as { message?: unknown }).message)} (${code})`;
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

/** A failure as it crosses from a worker thread (count, checkpoint) to the server thread. */
export interface WorkerFailure {
  readonly message: string;
  readonly code: string | undefined;
}

/** What a worker sends back for a failed request. */
export function workerFailureOf(err: unknown): WorkerFailure {
  return { message: err instanceof Error ? err.message : String(err), code: sqliteCode(err) };
}

/** The failure in the port's terms, as the statement would have thrown it on this thread. */
export function errorOfWorkerFailure(worker: string, failure: WorkerFailure): Error {
  const { message, code } = failure;
  return code === undefined ? new LedgerError('INTERNAL', `${worker}: ${message}`) : translateError(new Database.SqliteError(message, code));
}
