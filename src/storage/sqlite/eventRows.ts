/**
 * An event as a row of the `events` table, and back. A record read back is exactly the one
 * appended: absent optional fields stay absent (never an `undefined`-valued key), instants
 * are Dates with millisecond precision, and the leaf hash is a fresh Uint8Array.
 */
import type { ActorType, Outcome, Source } from '../../event/eventRecord';
import type { FlatEvent, Mutable, RawStoredEvent, StoredEvent } from '../port';

export type SqlValue = string | number | bigint | Uint8Array | null;

/** The columns of `events`, in the order `eventValues` binds them. */
export const EVENT_COLUMNS = [
  'leaf_index',
  'id',
  'action',
  'actor_id',
  'actor_type',
  'actor_name',
  'target_type',
  'target_id',
  'target_name',
  'outcome',
  'reason',
  'occurred_at',
  'source',
  'metadata',
  'groups',
  'recorded_at',
  'salt',
  'submitter_key_id',
  'submitter_user_id',
  'leaf',
  'leaf_hash',
  'idempotency_key',
  'content_digest',
] as const;

export type EventColumn = (typeof EVENT_COLUMNS)[number];

/** The position of each column in EVENT_COLUMNS (and in a raw row of EVENT_SELECT). */
export const COLUMN = Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c, i])) as Record<EventColumn, number>;

/** `e.leaf_index, e.id, …`: the select list of a full event row from alias `e`. */
export const EVENT_SELECT = EVENT_COLUMNS.map((c) => `e.${c}`).join(', ');

/** The values of an event's row, in EVENT_COLUMNS order. */
export function eventValues(e: StoredEvent): SqlValue[] {
  return [
    e.leafIndex,
    e.id,
    e.action,
    e.actor.id,
    e.actor.type,
    e.actor.name ?? null,
    e.target?.type ?? null,
    e.target?.id ?? null,
    e.target?.name ?? null,
    e.outcome,
    e.reason ?? null,
    e.occurredAt ? e.occurredAt.getTime() : null,
    e.source ? JSON.stringify(e.source) : null,
    e.metadata ?? null,
    JSON.stringify(e.groups),
    e.recordedAt.getTime(),
    e.salt,
    e.submitter?.keyId ?? null,
    e.submitter?.userId ?? null,
    e.leaf,
    e.leafHash,
    e.idempotencyKey ?? null,
    e.contentDigest ?? null,
  ];
}

/**
 * The record a row written by `eventValues` holds, from its values in EVENT_COLUMNS order
 * (statements in raw mode: an array costs half what a row object does to read). Built by
 * assignment in the record's key order rather than by spreading optional parts: every read
 * of events goes through here, an export hundreds of thousands of times a second, and the
 * spreads cost more than the whole SQLite read.
 */
export function storedEventOfValues(v: readonly SqlValue[]): StoredEvent {
  const actorName = v[COLUMN.actor_name] as string | null;
  const actor: Mutable<StoredEvent['actor']> = { id: v[COLUMN.actor_id] as string, type: v[COLUMN.actor_type] as ActorType };
  if (actorName !== null) actor.name = actorName;
  const e: Mutable<StoredEvent> = { leafIndex: v[COLUMN.leaf_index] as number, id: v[COLUMN.id] as string, action: v[COLUMN.action] as string, actor } as Mutable<StoredEvent>;
  const targetType = v[COLUMN.target_type] as string | null;
  const targetId = v[COLUMN.target_id] as string | null;
  if (targetType !== null && targetId !== null) {
    const targetName = v[COLUMN.target_name] as string | null;
    e.target = targetName === null ? { type: targetType, id: targetId } : { type: targetType, id: targetId, name: targetName };
  }
  e.outcome = v[COLUMN.outcome] as Outcome;
  const reason = v[COLUMN.reason] as string | null;
  if (reason !== null) e.reason = reason;
  const occurredAt = v[COLUMN.occurred_at] as number | null;
  if (occurredAt !== null) e.occurredAt = new Date(occurredAt);
  const source = v[COLUMN.source] as string | null;
  if (source !== null) e.source = JSON.parse(source) as Source;
  const metadata = v[COLUMN.metadata] as string | null;
  if (metadata !== null) e.metadata = metadata;
  e.groups = JSON.parse(v[COLUMN.groups] as string) as string[];
  e.recordedAt = new Date(v[COLUMN.recorded_at] as number);
  e.salt = v[COLUMN.salt] as string;
  const keyId = v[COLUMN.submitter_key_id] as string | null;
  const userId = v[COLUMN.submitter_user_id] as string | null;
  if (keyId !== null && userId !== null) e.submitter = { keyId, userId };
  e.leaf = v[COLUMN.leaf] as string;
  e.leafHash = bytesView(v[COLUMN.leaf_hash] as Uint8Array);
  const idempotencyKey = v[COLUMN.idempotency_key] as string | null;
  if (idempotencyKey !== null) e.idempotencyKey = idempotencyKey;
  const contentDigest = v[COLUMN.content_digest] as string | null;
  if (contentDigest !== null) e.contentDigest = contentDigest;
  return e;
}

/** The flat record (port.ts) of a row written by `eventValues`: its columns nearly as they are. */
export function flatEventOfValues(v: readonly SqlValue[]): FlatEvent {
  const source = v[COLUMN.source] as string | null;
  return {
    leafIndex: v[COLUMN.leaf_index] as number,
    id: v[COLUMN.id] as string,
    action: v[COLUMN.action] as string,
    actorId: v[COLUMN.actor_id] as string,
    actorType: v[COLUMN.actor_type] as ActorType,
    actorName: v[COLUMN.actor_name] as string | null,
    targetType: v[COLUMN.target_type] as string | null,
    targetId: v[COLUMN.target_id] as string | null,
    targetName: v[COLUMN.target_name] as string | null,
    outcome: v[COLUMN.outcome] as Outcome,
    reason: v[COLUMN.reason] as string | null,
    occurredAt: v[COLUMN.occurred_at] as number | null,
    recordedAt: v[COLUMN.recorded_at] as number,
    source: source === null ? null : (JSON.parse(source) as Source),
    metadata: v[COLUMN.metadata] as string | null,
    // Written by JSON.stringify (eventValues): already the text a flat record holds.
    groups: v[COLUMN.groups] as string,
    salt: v[COLUMN.salt] as string,
    submitterKeyId: v[COLUMN.submitter_key_id] as string | null,
    submitterUserId: v[COLUMN.submitter_user_id] as string | null,
    leaf: v[COLUMN.leaf] as string,
    leafHash: bytesView(v[COLUMN.leaf_hash] as Uint8Array),
    redaction: null,
  };
}

// ---------------------------------------------------------------------------------------
// The integrity walk reads rows without trusting them: an operator may have edited any
// column with any tool. A value keeps its stored form whenever it is not what the ledger
// writes, so that re-deriving the leaf from the fields fails on it instead of the walk
// failing (or, worse, a lenient conversion hiding the edit).

/**
 * A BLOB as a Uint8Array view on the driver's own fresh Buffer (never a Buffer, whose equality
 * and methods differ), without a second copy of the bytes.
 */
function bytesView(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** JSON text parsed, else the raw stored value (which no leaf re-derivation will accept). */
function jsonOrRaw(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

/** Integer milliseconds as a Date, else the raw value: `new Date(1.5)` would silently truncate. */
function instantOrRaw(value: unknown): unknown {
  return typeof value === 'number' && Number.isSafeInteger(value) ? new Date(value) : value;
}

function present(value: unknown): boolean {
  return value !== null && value !== undefined;
}

/**
 * A stored row as found (its values in EVENT_COLUMNS order: statements in raw mode, which
 * costs half as much to read as a row object), shaped like a StoredEvent without its leaf index.
 */
export function rawEventOfValues(v: readonly unknown[]): RawStoredEvent {
  // Built by assignment, not spreads: verify-db builds one of these per leaf of the log.
  const hash = v[COLUMN.leaf_hash];
  const actor: Record<string, unknown> = { id: v[COLUMN.actor_id], type: v[COLUMN.actor_type] };
  const actorName = v[COLUMN.actor_name];
  if (present(actorName)) actor.name = actorName;
  const fields: Record<string, unknown> = {
    id: v[COLUMN.id],
    action: v[COLUMN.action],
    actor,
    outcome: v[COLUMN.outcome],
    groups: jsonOrRaw(v[COLUMN.groups]),
    recordedAt: instantOrRaw(v[COLUMN.recorded_at]),
    salt: v[COLUMN.salt],
    leaf: v[COLUMN.leaf],
    leafHash: hash instanceof Uint8Array ? bytesView(hash) : hash,
  };
  const targetType = v[COLUMN.target_type];
  const targetId = v[COLUMN.target_id];
  const targetName = v[COLUMN.target_name];
  if (present(targetType) || present(targetId) || present(targetName)) {
    const target: Record<string, unknown> = { type: targetType, id: targetId };
    if (present(targetName)) target.name = targetName;
    fields.target = target;
  }
  if (present(v[COLUMN.reason])) fields.reason = v[COLUMN.reason];
  if (present(v[COLUMN.occurred_at])) fields.occurredAt = instantOrRaw(v[COLUMN.occurred_at]);
  if (present(v[COLUMN.source])) fields.source = jsonOrRaw(v[COLUMN.source]);
  if (present(v[COLUMN.metadata])) fields.metadata = v[COLUMN.metadata];
  if (present(v[COLUMN.submitter_key_id]) || present(v[COLUMN.submitter_user_id])) {
    fields.submitter = { keyId: v[COLUMN.submitter_key_id], userId: v[COLUMN.submitter_user_id] };
  }
  return { position: v[COLUMN.leaf_index], fields };
}
