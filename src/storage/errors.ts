/** Failures the storage adapters report in the port's terms (never as a driver's error). */
import { LedgerError } from '../errors';

/** A unique key (an id, a name key, a token hash) is already stored. */
export class DuplicateKeyError extends LedgerError {
  override name = 'DuplicateKeyError';
  constructor(
    readonly field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('DUPLICATE_KEY', message, options);
  }
}

/** An append found a leaf index already stored: another sequencer got there first. */
export class LeafIndexTakenError extends LedgerError {
  override name = 'LeafIndexTakenError';
  constructor(
    readonly leafIndex: number,
    options?: { cause?: unknown },
  ) {
    super('LEAF_INDEX_TAKEN', `leaf ${leafIndex} is already stored`, options);
  }
}

/** The database refused one event (too large, invalid); the others of its batch are unaffected. */
export class EventRejectedError extends LedgerError {
  override name = 'EventRejectedError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('EVENT_REJECTED', message, options);
  }
}

/** The data folder or database holds no ledger, or another server holds it. */
export class WrongDatabaseError extends LedgerError {
  override name = 'WrongDatabaseError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('WRONG_DATABASE', message, options);
  }
}
