/**
 * Validation of client-submitted events. Pure: it decides, the GraphQL shell maps the
 * resulting `EventInputError` to a BAD_USER_INPUT error naming the field.
 */
import canonicalize from 'canonicalize';
import { LedgerError } from '../errors';
import {
  ACTOR_TYPES,
  type ActorType,
  type EventContent,
  type JsonObject,
  OUTCOMES,
  type Outcome,
} from './eventRecord';

export const LIMITS = {
  metadataBytes: 16 * 1024,
  metadataDepth: 8,
  shortText: 256,
  reasonText: 2048,
  groups: 64,
  idempotencyKey: 128,
} as const;

export class EventInputError extends LedgerError {
  override name = 'EventInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_INPUT', `${field}: ${message}`);
  }
}

export interface RawEventInput {
  action?: unknown;
  actor?: { id?: unknown; type?: unknown; name?: unknown } | null;
  target?: { type?: unknown; id?: unknown; name?: unknown } | null;
  outcome?: unknown;
  reason?: unknown;
  occurredAt?: unknown;
  source?: { ip?: unknown; userAgent?: unknown; requestId?: unknown } | null;
  metadata?: unknown;
  idempotencyKey?: unknown;
  groups?: unknown;
}

export interface ValidEventInput {
  readonly content: Omit<EventContent, 'groups'>;
  readonly idempotencyKey?: string;
  /** Groups the appender asked to add explicitly (scoped by its key). */
  readonly explicitGroups: readonly string[];
}

/** The ledger's own events (`ledger.access.denied`, …): no client may record one that looks like them. */
export const RESERVED_ACTION_NAMESPACE = 'ledger.';

// Dotted lowercase verbs: `user.role.grant`, `invoice.paid`, `ledger.events.read`.
const ACTION = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

export function validateEventInput(raw: RawEventInput, field = 'input'): ValidEventInput {
  const action = text(raw.action, `${field}.action`, LIMITS.shortText, true)!;
  if (!ACTION.test(action)) {
    throw new EventInputError(`${field}.action`, 'must be a dotted lowercase verb such as "user.role.grant"');
  }
  if (action === RESERVED_ACTION_NAMESPACE.slice(0, -1) || action.startsWith(RESERVED_ACTION_NAMESPACE)) {
    throw new EventInputError(`${field}.action`, `actions under "${RESERVED_ACTION_NAMESPACE}" are the ledger's own and cannot be recorded by clients`);
  }
  if (!raw.actor) throw new EventInputError(`${field}.actor`, 'is required');
  const actorType = raw.actor.type as ActorType;
  if (!ACTOR_TYPES.includes(actorType)) throw new EventInputError(`${field}.actor.type`, `must be one of ${ACTOR_TYPES.join(', ')}`);
  const actor = {
    id: text(raw.actor.id, `${field}.actor.id`, LIMITS.shortText, true)!,
    type: actorType,
    ...opt('name', text(raw.actor.name, `${field}.actor.name`, LIMITS.shortText)),
  };
  const target = raw.target
    ? {
        type: text(raw.target.type, `${field}.target.type`, LIMITS.shortText, true)!,
        id: text(raw.target.id, `${field}.target.id`, LIMITS.shortText, true)!,
        ...opt('name', text(raw.target.name, `${field}.target.name`, LIMITS.shortText)),
      }
    : undefined;
  const outcome = (raw.outcome ?? 'SUCCESS') as Outcome;
  if (!OUTCOMES.includes(outcome)) throw new EventInputError(`${field}.outcome`, `must be one of ${OUTCOMES.join(', ')}`);
  const source = raw.source
    ? {
        ...opt('ip', text(raw.source.ip, `${field}.source.ip`, 64)),
        ...opt('userAgent', text(raw.source.userAgent, `${field}.source.userAgent`, 1024)),
        ...opt('requestId', text(raw.source.requestId, `${field}.source.requestId`, LIMITS.shortText)),
      }
    : undefined;
  const content: Omit<EventContent, 'groups'> = {
    action,
    actor,
    outcome,
    ...opt('target', target),
    ...opt('reason', text(raw.reason, `${field}.reason`, LIMITS.reasonText)),
    ...opt('occurredAt', occurredAt(raw.occurredAt, `${field}.occurredAt`)),
    ...opt('source', source && Object.keys(source).length > 0 ? source : undefined),
    ...opt('metadata', metadata(raw.metadata, `${field}.metadata`)),
  };
  const idempotencyKey = text(raw.idempotencyKey, `${field}.idempotencyKey`, LIMITS.idempotencyKey);
  return { content, explicitGroups: groupList(raw.groups, `${field}.groups`), ...opt('idempotencyKey', idempotencyKey) };
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function text(value: unknown, field: string, max: number, required = false): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new EventInputError(field, 'is required');
    return undefined;
  }
  if (typeof value !== 'string') throw new EventInputError(field, 'must be a string');
  if (required && value.trim() === '') throw new EventInputError(field, 'must not be empty');
  if (value.length > max) throw new EventInputError(field, `must be at most ${max} characters`);
  // Lone surrogates cannot be encoded as UTF-8, so they could not be part of a canonical leaf.
  if (!value.isWellFormed()) throw new EventInputError(field, 'must be well-formed Unicode');
  return value;
}

function occurredAt(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  const date = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!date || Number.isNaN(date.getTime())) throw new EventInputError(field, 'must be an RFC 3339 date-time');
  return date.toISOString();
}

function groupList(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new EventInputError(field, 'must be a list of group ids');
  if (value.length > LIMITS.groups) throw new EventInputError(field, `must have at most ${LIMITS.groups} groups`);
  return [...new Set(value.map((g, i) => text(g, `${field}[${i}]`, LIMITS.shortText, true)!))].sort();
}

function metadata(value: unknown, field: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new EventInputError(field, 'must be a JSON object');
  checkJson(value, field, 0);
  const canonical = canonicalize(value);
  if (canonical === undefined) throw new EventInputError(field, 'must be JSON');
  if (new TextEncoder().encode(canonical).length > LIMITS.metadataBytes) {
    throw new EventInputError(field, `must be at most ${LIMITS.metadataBytes} bytes as canonical JSON`);
  }
  return JSON.parse(canonical) as JsonObject;
}

function checkJson(value: unknown, field: string, depth: number): void {
  if (depth > LIMITS.metadataDepth) throw new EventInputError(field, `must be nested at most ${LIMITS.metadataDepth} deep`);
  if (value === null || typeof value === 'boolean' || typeof value === 'string') {
    if (typeof value === 'string' && !value.isWellFormed()) throw new EventInputError(field, 'must be well-formed Unicode');
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new EventInputError(field, 'numbers must be finite');
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v) => checkJson(v, field, depth + 1));
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (!k.isWellFormed()) throw new EventInputError(field, 'keys must be well-formed Unicode');
      checkJson(v, field, depth + 1);
    }
    return;
  }
  throw new EventInputError(field, 'must be JSON');
}
