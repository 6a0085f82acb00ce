/**
 * Size bounds for what the ledger records about itself. A self-event quotes what the caller
 * sent (a filter, a group id in a refusal's reason, a user agent), and a caller must not be
 * able to make the log store megabytes by sending them: a 7 MB filter once became a 15 MB
 * event, and a 4 MB group id a denial over MongoDB's 16 MB document limit.
 *
 * Every string over `maxString` characters becomes its first `keepChars` characters, "…", and
 * the SHA-256 of the whole string (UTF-8), so whoever holds the original can still match it.
 * Lists keep their first `maxItems` items and end with a digest of the rest; objects nested
 * deeper than `maxDepth` become a digest of their canonical JSON. An event changed this way
 * says so with `metadata.truncated: true`. Pure: no I/O.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { JsonObject, JsonValue, Source, Target } from '../event/eventRecord';

export const SELF_EVENT_BOUNDS = {
  maxString: 256,
  keepChars: 64,
  maxItems: 32,
  maxKeys: 32,
  maxDepth: 4,
} as const;

export type Bounds = typeof SELF_EVENT_BOUNDS;

/** Tracks whether anything was cut, so the event can say so. */
export interface Cut {
  truncated: boolean;
}

const utf8 = new TextEncoder();

function sha256(text: string): string {
  return createHash('sha256').update(utf8.encode(text)).digest('hex');
}

/** `first 64 chars…sha256:<hex>` for long strings; also repairs lone surrogates (they cannot be a leaf's UTF-8). */
export function boundString(value: string, cut: Cut, bounds: Bounds = SELF_EVENT_BOUNDS): string {
  if (value.length <= bounds.maxString) {
    if (value.isWellFormed()) return value;
    cut.truncated = true;
    return value.toWellFormed();
  }
  cut.truncated = true;
  return `${value.slice(0, bounds.keepChars).toWellFormed()}…sha256:${sha256(value)}`;
}

export function boundJson(value: JsonValue, cut: Cut, bounds: Bounds = SELF_EVENT_BOUNDS, depth = 0): JsonValue {
  if (typeof value === 'string') return boundString(value, cut, bounds);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= bounds.maxDepth) {
    cut.truncated = true;
    return `…sha256:${sha256(canonicalize(value) ?? '')}`;
  }
  if (Array.isArray(value)) {
    const kept = value.slice(0, bounds.maxItems).map((v) => boundJson(v, cut, bounds, depth + 1));
    if (value.length > bounds.maxItems) {
      cut.truncated = true;
      kept.push(`… ${value.length - bounds.maxItems} more, sha256:${sha256(canonicalize(value.slice(bounds.maxItems)) ?? '')}`);
    }
    return kept;
  }
  const entries = Object.entries(value);
  const out: JsonObject = {};
  for (const [k, v] of entries.slice(0, bounds.maxKeys)) out[boundString(k, cut, bounds)] = boundJson(v, cut, bounds, depth + 1);
  if (entries.length > bounds.maxKeys) {
    cut.truncated = true;
    out['…'] = `${entries.length - bounds.maxKeys} more keys, sha256:${sha256(canonicalize(Object.fromEntries(entries.slice(bounds.maxKeys))) ?? '')}`;
  }
  return out;
}

/** The parts of a self-event that can quote the caller. */
export interface BoundableEvent {
  readonly reason?: string;
  readonly target?: Target;
  readonly source?: Source;
  readonly metadata?: JsonObject;
}

/** A copy of the event with every caller-controlled part bounded, marked `truncated` if cut. */
export function boundSelfEventFields<E extends BoundableEvent>(event: E, bounds: Bounds = SELF_EVENT_BOUNDS): E {
  const cut: Cut = { truncated: false };
  const text = (s: string | undefined) => (s === undefined ? undefined : boundString(s, cut, bounds));
  const compact = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const bounded: E = {
    ...event,
    ...(event.reason !== undefined && { reason: text(event.reason) }),
    ...(event.target && { target: compact({ type: text(event.target.type)!, id: text(event.target.id)!, name: text(event.target.name) }) }),
    ...(event.source && { source: compact({ ip: text(event.source.ip), userAgent: text(event.source.userAgent), requestId: text(event.source.requestId) }) }),
    ...(event.metadata && { metadata: boundJson(event.metadata, cut, bounds) as JsonObject }),
  };
  if (!cut.truncated) return bounded;
  return { ...bounded, metadata: { ...(bounded.metadata ?? {}), truncated: true } };
}
