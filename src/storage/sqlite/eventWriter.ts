/**
 * The append transaction of the `events` table: the events, their group rows, their
 * idempotency records, the maintained counts and the events' companion records, all or
 * nothing. Synchronous, on whichever connection it is given: the server's own (in-memory
 * databases, tools) or the append worker's (appendWorker.ts), so that the commit's fsync
 * does not hold up the server's event loop.
 */
import type Database from 'better-sqlite3';
import { LedgerError, type LedgerErrorCode } from '../../errors';
import { DuplicateKeyError, EventRejectedError, LeafIndexTakenError } from '../errors';
import { Sealer } from '../../lifecycle/sealBatch';
import type { AppendPart, CompanionRecords, SealingKeys, StoredEvent } from '../port';
import { MaintainedCounts } from './counts';
import { sqliteCode } from './driverErrors';
import { EVENT_COLUMNS, eventValues, type SqlValue } from './eventRows';
import { LIFECYCLE_UPSERT_SQL } from './lifecycleStore';

/** A failure that concerns the one event being inserted (rather than the database). */
const REJECTS_EVENT = /^SQLITE_(TOOBIG|CONSTRAINT|MISMATCH|RANGE)/;

export class SqliteEventWriter {
  private readonly counts: MaintainedCounts;
  private readonly insertEvent: Database.Statement<SqlValue[]>;
  private readonly insertGroup: Database.Statement<[string, number, string]>;
  private readonly insertIdempotency: Database.Statement<[string, number, string, Uint8Array, string]>;
  private readonly upsertCompanion: Database.Statement<[string, string, string]>;
  private readonly beginStatement: Database.Statement<[]>;
  private readonly commitStatement: Database.Statement<[]>;
  private readonly rollbackStatement: Database.Statement<[]>;
  /** Seals the parts that come unsealed (a sealed ledger's first part: port.ts, appendParts). */
  private readonly sealer = new Sealer();

  constructor(private readonly db: Database.Database) {
    this.counts = new MaintainedCounts(db);
    this.insertEvent = db.prepare<SqlValue[]>(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`);
    this.insertGroup = db.prepare('INSERT OR IGNORE INTO event_groups (group_id, leaf_index, action) VALUES (?, ?, ?)');
    this.insertIdempotency = db.prepare(
      'INSERT OR IGNORE INTO idempotency (key, leaf_index, event_id, leaf_hash, content_digest) VALUES (?, ?, ?, ?, ?)',
    );
    this.upsertCompanion = db.prepare(LIFECYCLE_UPSERT_SQL);
    // IMMEDIATE: take the write lock up front, so a CLI writer beside us waits (busy_timeout)
    // rather than failing part-way through with SQLITE_BUSY.
    this.beginStatement = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
    this.rollbackStatement = db.prepare('ROLLBACK');
  }

  /** Stores the events at consecutive leaf indices, with their companions, in one transaction. */
  append(events: readonly StoredEvent[], companions: CompanionRecords | undefined): void {
    if (events.length === 0) return;
    const open = this.begin();
    try {
      open.write({ events, ...(companions && { companions }) });
      open.commit();
    } catch (err) {
      open.rollback();
      throw err;
    }
  }

  /**
   * Opens the transaction of an append written part by part (the append worker receives a
   * sealed ledger's batch in parts). Nothing else may use the connection until it is
   * committed or rolled back.
   */
  begin(): OpenAppend {
    this.beginStatement.run();
    const written: (readonly StoredEvent[])[] = [];
    let next: number | undefined;
    let done = false;
    return {
      write: (part) => {
        if (done) throw new LedgerError('INTERNAL', 'append: a part came after its append ended');
        const { events, companions } = 'sealing' in part ? this.sealed(part.events, part.sealing) : part;
        const first = next ?? events[0]?.leafIndex;
        events.forEach((e, i) => {
          if (e.leafIndex !== first! + i) throw new LedgerError('INTERNAL', `append: leaf ${e.leafIndex} does not follow leaf ${first! + i - 1}`);
        });
        if (companions) for (const r of companions.records) this.upsertCompanion.run(companions.kind, r.id, r.value);
        for (const e of events) this.insertOne(e);
        if (events.length > 0) next = first! + events.length;
        written.push(events);
      },
      commit: () => {
        if (done) throw new LedgerError('INTERNAL', 'append: committed after it ended');
        // The maintained counts once per append, over all its parts.
        this.counts.record(written.length === 1 ? written[0]! : written.flat());
        this.commitStatement.run();
        done = true;
      },
      rollback: () => {
        if (done) return;
        done = true;
        // A failed statement may have ended the transaction already (SQLite rolls back on some errors).
        if (this.db.inTransaction) this.rollbackStatement.run();
      },
    };
  }

  private sealed(events: readonly StoredEvent[], sealing: SealingKeys): { events: StoredEvent[]; companions: CompanionRecords } {
    const { skeletons, records } = this.sealer.seal(events, sealing);
    return { events: skeletons, companions: { kind: 'dataKey', records } };
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
    for (const g of new Set(e.groups)) this.insertGroup.run(g, e.leafIndex, e.action);
    if (e.idempotencyKey !== undefined && e.contentDigest !== undefined) {
      this.insertIdempotency.run(e.idempotencyKey, e.leafIndex, e.id, e.leafHash, e.contentDigest);
    }
  }
}

/** An append's open transaction: parts written in leaf order, then committed or rolled back. */
export interface OpenAppend {
  /** Writes a part continuing the parts before: its events with their companions, sealed first if it asks. */
  write(part: AppendPart): void;
  commit(): void;
  /** Ends the transaction without keeping anything; harmless once it has ended. */
  rollback(): void;
}

/** A failure of an append, as it crosses from the append worker to the server thread. */
export type AppendFailure =
  | { readonly kind: 'leafIndexTaken'; readonly leafIndex: number }
  | { readonly kind: 'duplicateKey'; readonly field: string; readonly message: string }
  | { readonly kind: 'rejected'; readonly message: string }
  | { readonly kind: 'ledger'; readonly code: LedgerErrorCode; readonly message: string }
  | { readonly kind: 'sqlite'; readonly code: string; readonly message: string }
  | { readonly kind: 'other'; readonly message: string };

export function appendFailureOf(err: unknown): AppendFailure {
  if (err instanceof LeafIndexTakenError) return { kind: 'leafIndexTaken', leafIndex: err.leafIndex };
  if (err instanceof DuplicateKeyError) return { kind: 'duplicateKey', field: err.field, message: err.message };
  if (err instanceof EventRejectedError) return { kind: 'rejected', message: err.message };
  if (err instanceof LedgerError) return { kind: 'ledger', code: err.code, message: err.message };
  const code = sqliteCode(err);
  if (code !== undefined) return { kind: 'sqlite', code, message: (err as Error).message };
  return { kind: 'other', message: err instanceof Error ? err.message : String(err) };
}
