/**
 * The canonical leaf text of stored fields, written out directly for the shape the ledger
 * stores, at a fraction of the cost of the general RFC 8785 canonicaliser (verify-db rebuilds
 * every leaf of the log). Keys appear in the canonical order (UTF-16 code units), strings are
 * serialised by JSON.stringify exactly as RFC 8785 prescribes, and only the metadata (free-form,
 * stored as the client's JSON text) goes through the general canonicaliser. Anything of another shape (a field of the wrong
 * type, a key too many, an absent required field) gets `undefined`: the caller then asks
 * leafOfFields, the reference. So the two never disagree on a text this returns; a property
 * test holds them to that.
 */
import canonicalize from 'canonicalize';
import type { EventFields } from '../storage/port';
import { instantEncoder } from './instantText';

const str = JSON.stringify;

function isString(v: unknown): v is string {
  return typeof v === 'string';
}

/** `{"k1":"v1",…}` of an object whose own keys are all among `keys` (in canonical order) with string values; undefined otherwise. */
function stringObject(value: unknown, keys: readonly string[], required: readonly string[]): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const obj = value as Record<string, unknown>;
  let seen = 0;
  for (const key in obj) {
    if (obj[key] === undefined) continue;
    if (!keys.includes(key)) return undefined;
    seen++;
  }
  let out = '{';
  let written = 0;
  for (const key of keys) {
    const v = obj[key];
    if (v === undefined) {
      if (required.includes(key)) return undefined;
      continue;
    }
    if (!isString(v)) return undefined;
    // The keys are this module's own constant names, plain ASCII: quoting them needs no escaping.
    out += `${written > 0 ? ',' : ''}"${key}":${str(v)}`;
    written++;
  }
  return written === seen ? `${out}}` : undefined;
}

// Quoted ISO texts (which need no JSON escaping), the last two remembered (see instantText.ts).
const quotedInstant = instantEncoder((ms) => `"${new Date(ms).toISOString()}"`);

/** A Date as its quoted ISO text, or undefined if it is none. */
function instant(value: unknown): string | undefined {
  if (!(value instanceof Date)) return undefined;
  const ms = value.getTime();
  return Number.isNaN(ms) ? undefined : quotedInstant(ms);
}

const ACTOR = ['id', 'name', 'type'] as const;
const ACTOR_REQUIRED = ['id', 'type'] as const;
const TARGET = ['id', 'name', 'type'] as const;
const TARGET_REQUIRED = ['id', 'type'] as const;
const SOURCE = ['ip', 'requestId', 'userAgent'] as const;
const SUBMITTER = ['keyId', 'userId'] as const;

/** The leaf of `fields` when they have the stored shape, else undefined (ask leafOfFields). */
export function directLeafOfFields(fields: EventFields): string | undefined {
  const f = fields as unknown as Record<string, unknown>;
  if (!isString(f.action) || !isString(f.id) || !isString(f.outcome) || !isString(f.salt)) return undefined;
  const actor = stringObject(f.actor, ACTOR, ACTOR_REQUIRED);
  const groups = f.groups;
  if (actor === undefined || !Array.isArray(groups) || !groups.every(isString)) return undefined;
  const recordedAt = instant(f.recordedAt);
  if (recordedAt === undefined) return undefined;
  let out = `{"action":${str(f.action)},"actor":${actor},"groups":${str(groups)},"id":${str(f.id)}`;
  if (f.metadata !== undefined) {
    if (!isString(f.metadata)) return undefined;
    let metadata: string | undefined;
    try {
      metadata = canonicalize(JSON.parse(f.metadata));
    } catch {
      return undefined;
    }
    if (metadata === undefined) return undefined;
    out += `,"metadata":${metadata}`;
  }
  if (f.occurredAt !== undefined) {
    const occurredAt = instant(f.occurredAt);
    if (occurredAt === undefined) return undefined;
    out += `,"occurredAt":${occurredAt}`;
  }
  out += `,"outcome":${str(f.outcome)}`;
  if (f.reason !== undefined) {
    if (!isString(f.reason)) return undefined;
    out += `,"reason":${str(f.reason)}`;
  }
  out += `,"recordedAt":${recordedAt},"salt":${str(f.salt)}`;
  if (f.source !== undefined) {
    const source = stringObject(f.source, SOURCE, []);
    if (source === undefined) return undefined;
    out += `,"source":${source}`;
  }
  if (f.submitter !== undefined) {
    const submitter = stringObject(f.submitter, SUBMITTER, SUBMITTER);
    if (submitter === undefined) return undefined;
    out += `,"submitter":${submitter}`;
  }
  if (f.target !== undefined) {
    const target = stringObject(f.target, TARGET, TARGET_REQUIRED);
    if (target === undefined) return undefined;
    out += `,"target":${target}`;
  }
  return `${out}}`;
}
