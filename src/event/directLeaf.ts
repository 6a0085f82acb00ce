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
import type { EventFields, RawEventValues } from '../storage/port';
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

// ---------------------------------------------------------------------------------------
// The same leaf from a stored event's raw values (RawEventValues), building no record: what
// verify-db's range workers do for every event of the log. It answers only when the values
// are of the types the ledger writes, and then the text directLeafOfFields gives for the
// record an adapter maps them to (rawEventOfValues in the SQLite adapter); anything else gets
// undefined, and the caller checks that event as a record. A property test holds it to that.
// Group ids and a source stored exactly as the leaf writes them are spliced in as they are;
// in any other JSON form they are parsed, as the record would be.

/** A JSON string body as JSON.stringify writes it, limited to no escapes but \" and \\ and no surrogates. */
const PLAIN = String.raw`"(?:[^"\\\x00-\x1f\ud800-\udfff]|\\["\\])*"`;
/** Group ids as JSON.stringify writes an array of plain strings: spliced into the leaf as stored. */
const GROUPS_TEXT = new RegExp(String.raw`^\[(?:${PLAIN}(?:,${PLAIN})*)?\]$`);
/** A source as the canonical object of plain strings (keys in order, each at most once). */
const SOURCE_TEXT = new RegExp(
  String.raw`^\{(?:"ip":${PLAIN}(?:,"requestId":${PLAIN})?(?:,"userAgent":${PLAIN})?|"requestId":${PLAIN}(?:,"userAgent":${PLAIN})?|"userAgent":${PLAIN})?\}$`,
);
/**
 * A source of plain strings with its keys in another order (the server sets ip, userAgent,
 * requestId): each key and its value, already quoted as the leaf writes it.
 */
const SOURCE_KEY = String.raw`"(ip|requestId|userAgent)":(${PLAIN})`;
const SOURCE_ANY_ORDER = new RegExp(String.raw`^\{${SOURCE_KEY}(?:,${SOURCE_KEY})?(?:,${SOURCE_KEY})?\}$`);
/** The range of a Date: beyond it `new Date(ms)` is invalid. */
const MAX_INSTANT = 8.64e15;

function instantOfMs(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && Math.abs(value) <= MAX_INSTANT ? quotedInstant(value) : undefined;
}

/** JSON text parsed, as the adapter's record holds it, or undefined when it does not parse. */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Group ids stored in another JSON form (spacing, escapes): written out as directLeafOfFields does. */
function groupsOfJson(text: string): string | undefined {
  const groups = parsed(text);
  return Array.isArray(groups) && groups.every(isString) ? str(groups) : undefined;
}

/** A source stored in another JSON form (e.g. its keys in the order they were set): as directLeafOfFields writes it. */
function sourceOfJson(text: string): string | undefined {
  const m = SOURCE_ANY_ORDER.exec(text);
  if (m) {
    // Each key at most once (else JSON.parse keeps the last: left to it), written in key order.
    let ip: string | undefined;
    let requestId: string | undefined;
    let userAgent: string | undefined;
    let unique = true;
    for (let k = 1; k < m.length; k += 2) {
      const key = m[k];
      const quoted = m[k + 1];
      if (key === undefined || quoted === undefined) continue;
      if (key === 'ip') {
        if (ip !== undefined) unique = false;
        ip = quoted;
      } else if (key === 'requestId') {
        if (requestId !== undefined) unique = false;
        requestId = quoted;
      } else {
        if (userAgent !== undefined) unique = false;
        userAgent = quoted;
      }
    }
    if (unique) {
      const parts: string[] = [];
      if (ip !== undefined) parts.push(`"ip":${ip}`);
      if (requestId !== undefined) parts.push(`"requestId":${requestId}`);
      if (userAgent !== undefined) parts.push(`"userAgent":${userAgent}`);
      return `{${parts.join(',')}}`;
    }
  }
  return stringObject(parsed(text), SOURCE, []);
}

/** `{"id":…,"name":…,"type":…}` of an actor's or target's stored strings (name null: absent). */
function idNameType(id: unknown, name: unknown, type: unknown): string | undefined {
  if (!isString(id) || !isString(type)) return undefined;
  if (name === null) return `{"id":${str(id)},"type":${str(type)}}`;
  return isString(name) ? `{"id":${str(id)},"name":${str(name)},"type":${str(type)}}` : undefined;
}

/** The leaf the stored values give, when they are exactly what the ledger writes; else undefined. */
export function directLeafOfValues(v: RawEventValues): string | undefined {
  const action = v[2];
  const id = v[1];
  const outcome = v[9];
  const salt = v[16];
  const groups = v[14];
  if (!isString(action) || !isString(id) || !isString(outcome) || !isString(salt) || !isString(groups)) return undefined;
  const groupsText = GROUPS_TEXT.test(groups) ? groups : groupsOfJson(groups);
  const actor = idNameType(v[3], v[5], v[4]);
  const recordedAt = instantOfMs(v[15]);
  if (groupsText === undefined || actor === undefined || recordedAt === undefined) return undefined;
  let out = `{"action":${str(action)},"actor":${actor},"groups":${groupsText},"id":${str(id)}`;
  const metadata = v[13];
  if (metadata !== null) {
    if (!isString(metadata)) return undefined;
    let canonical: string | undefined;
    try {
      canonical = canonicalize(JSON.parse(metadata));
    } catch {
      return undefined;
    }
    if (canonical === undefined) return undefined;
    out += `,"metadata":${canonical}`;
  }
  if (v[11] !== null) {
    const occurredAt = instantOfMs(v[11]);
    if (occurredAt === undefined) return undefined;
    out += `,"occurredAt":${occurredAt}`;
  }
  out += `,"outcome":${str(outcome)}`;
  const reason = v[10];
  if (reason !== null) {
    if (!isString(reason)) return undefined;
    out += `,"reason":${str(reason)}`;
  }
  out += `,"recordedAt":${recordedAt},"salt":${str(salt)}`;
  const source = v[12];
  if (source !== null) {
    if (!isString(source)) return undefined;
    const sourceText = SOURCE_TEXT.test(source) ? source : sourceOfJson(source);
    if (sourceText === undefined) return undefined;
    out += `,"source":${sourceText}`;
  }
  const keyId = v[17];
  const userId = v[18];
  if (keyId !== null || userId !== null) {
    if (!isString(keyId) || !isString(userId)) return undefined;
    out += `,"submitter":{"keyId":${str(keyId)},"userId":${str(userId)}}`;
  }
  if (v[6] !== null || v[7] !== null || v[8] !== null) {
    const target = idNameType(v[7], v[8], v[6]);
    if (target === undefined) return undefined;
    out += `,"target":${target}`;
  }
  return `${out}}`;
}
