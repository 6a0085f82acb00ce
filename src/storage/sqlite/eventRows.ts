/**
 * An event as a row of the `events` table, and back. A record read back is exactly the one
 * appended: absent optional fields stay absent (never an `undefined`-valued key), instants
 * are Dates with millisecond precision, and the leaf hash is a fresh Uint8Array.
 */
import type { ActorType, Outcome, Source } from '../../event/eventRecord';
import type { RawStoredEvent, StoredEvent } from '../port';

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

/** `e.leaf_index, e.id, …`: the select list of a full event row from alias `e`. */
export const EVENT_SELECT = EVENT_COLUMNS.map((c) => `e.${c}`).join(', ');

export interface EventRow {
  readonly leaf_index: number;
  readonly id: string;
  readonly action: string;
  readonly actor_id: string;
  readonly actor_type: string;
  readonly actor_name: string | null;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly target_name: string | null;
  readonly outcome: string;
  readonly reason: string | null;
  readonly occurred_at: number | null;
  readonly source: string | null;
  readonly metadata: string | null;
  readonly groups: string;
  readonly recorded_at: number;
  readonly salt: string;
  readonly submitter_key_id: string | null;
  readonly submitter_user_id: string | null;
  readonly leaf: string;
  readonly leaf_hash: Uint8Array;
  readonly idempotency_key: string | null;
  readonly content_digest: string | null;
}

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

/** The record a row written by `eventValues` holds. */
export function storedEventOfRow(row: EventRow): StoredEvent {
  return {
    leafIndex: row.leaf_index,
    id: row.id,
    action: row.action,
    actor: { id: row.actor_id, type: row.actor_type as ActorType, ...(row.actor_name !== null && { name: row.actor_name }) },
    ...(row.target_type !== null &&
      row.target_id !== null && {
        target: { type: row.target_type, id: row.target_id, ...(row.target_name !== null && { name: row.target_name }) },
      }),
    outcome: row.outcome as Outcome,
    ...(row.reason !== null && { reason: row.reason }),
    ...(row.occurred_at !== null && { occurredAt: new Date(row.occurred_at) }),
    ...(row.source !== null && { source: JSON.parse(row.source) as Source }),
    ...(row.metadata !== null && { metadata: row.metadata }),
    groups: JSON.parse(row.groups) as string[],
    recordedAt: new Date(row.recorded_at),
    salt: row.salt,
    ...(row.submitter_key_id !== null && row.submitter_user_id !== null && { submitter: { keyId: row.submitter_key_id, userId: row.submitter_user_id } }),
    leaf: row.leaf,
    leafHash: new Uint8Array(row.leaf_hash),
    ...(row.idempotency_key !== null && { idempotencyKey: row.idempotency_key }),
    ...(row.content_digest !== null && { contentDigest: row.content_digest }),
  };
}

// ---------------------------------------------------------------------------------------
// The integrity walk reads rows without trusting them: an operator may have edited any
// column with any tool. A value keeps its stored form whenever it is not what the ledger
// writes, so that re-deriving the leaf from the fields fails on it instead of the walk
// failing (or, worse, a lenient conversion hiding the edit).

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

const at = Object.fromEntries(EVENT_COLUMNS.map((c, i) => [c, i])) as Record<EventColumn, number>;

/**
 * A stored row as found (its values in EVENT_COLUMNS order: statements in raw mode, which
 * costs half as much to read as a row object), shaped like a StoredEvent without its leaf index.
 */
export function rawEventOfValues(v: readonly unknown[]): RawStoredEvent {
  const actorName = v[at.actor_name];
  const fields: Record<string, unknown> = {
    id: v[at.id],
    action: v[at.action],
    actor: { id: v[at.actor_id], type: v[at.actor_type], ...(present(actorName) && { name: actorName }) },
    outcome: v[at.outcome],
    groups: jsonOrRaw(v[at.groups]),
    recordedAt: instantOrRaw(v[at.recorded_at]),
    salt: v[at.salt],
    leaf: v[at.leaf],
    leafHash: v[at.leaf_hash] instanceof Uint8Array ? new Uint8Array(v[at.leaf_hash] as Uint8Array) : v[at.leaf_hash],
  };
  const [targetType, targetId, targetName] = [v[at.target_type], v[at.target_id], v[at.target_name]];
  if (present(targetType) || present(targetId) || present(targetName)) {
    fields.target = { type: targetType, id: targetId, ...(present(targetName) && { name: targetName }) };
  }
  if (present(v[at.reason])) fields.reason = v[at.reason];
  if (present(v[at.occurred_at])) fields.occurredAt = instantOrRaw(v[at.occurred_at]);
  if (present(v[at.source])) fields.source = jsonOrRaw(v[at.source]);
  if (present(v[at.metadata])) fields.metadata = v[at.metadata];
  if (present(v[at.submitter_key_id]) || present(v[at.submitter_user_id])) {
    fields.submitter = { keyId: v[at.submitter_key_id], userId: v[at.submitter_user_id] };
  }
  return { position: v[at.leaf_index], fields };
}
