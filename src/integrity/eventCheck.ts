/**
 * Re-derives one stored event's leaf from its fields. The stored `leaf` text and `leafHash`
 * are only caches of what the fields say: an operator who edits a field (and perhaps the
 * caches too, to match) must still be caught, so the tree is rebuilt from the fields.
 *
 * Canonicalising every event (leafOfFields) is the costliest step of the check (82,000 against
 * 99,000 leaves/s per core in scripts/bench-verify-db.ts). So a document is first compared
 * the cheap way: its fields, read
 * with the same eventOfFields that leafOfFields uses, must equal the parsed `leaf` text, whose hash
 * then goes into the tree. Whenever that comparison fails, leafOfFields decides. The two ways
 * can only disagree about a `leaf` text that parses to the right event but is not the exact
 * text the log hashed (other whitespace, key order or escapes); its hash then differs from
 * the stored tree's, so that leaf is named either way.
 */
import { hash } from 'node:crypto';
import { eventOfFields, leafOfFields } from '../event/storedEvent';
import type { EventFields } from '../storage/port';

/**
 * A stored event's fields as found in the database: shaped like EventFields plus the `leaf`
 * text and `leafHash` bytes, but not trusted to be (an operator may have edited anything).
 */
export type CheckedEvent = EventFields & { readonly leaf: string; readonly leafHash: Uint8Array };

export interface EventCheck {
  /** RFC 6962 leaf hash of the event's leaf; absent if the fields do not form an event. */
  readonly leafHash: Uint8Array | undefined;
  /** Why the document disagrees with itself, if it does. */
  readonly problem: string | undefined;
}

/**
 * SHA-256(0x00 || utf8(leaf)). Hashing the string directly lets OpenSSL encode it in one
 * pass; U+0000 encodes to the single byte 0x00, the RFC 6962 leaf prefix.
 */
export function leafHashOfText(leaf: string): Uint8Array {
  const digest = hash('sha256', `\u0000${leaf}`, 'buffer');
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkEvent(doc: CheckedEvent): EventCheck {
  if (fieldsMatchLeaf(doc)) {
    const leafHash = leafHashOfText(doc.leaf);
    if (storedHashIs(doc, leafHash)) return { leafHash, problem: undefined };
  }
  return checkEventExactly(doc);
}

/** The reference check: canonicalise the fields and compare texts. */
export function checkEventExactly(doc: CheckedEvent): EventCheck {
  let leaf: string;
  try {
    leaf = leafOfFields(doc);
  } catch (err) {
    return { leafHash: undefined, problem: `its fields do not form an event (${(err as Error).message})` };
  }
  const leafHash = leafHashOfText(leaf);
  if (leaf !== doc.leaf) return { leafHash, problem: 'its fields do not match its stored leaf text' };
  if (!storedHashIs(doc, leafHash)) return { leafHash, problem: 'its stored leaf hash does not match its leaf' };
  return { leafHash, problem: undefined };
}

function storedHashIs(doc: CheckedEvent, leafHash: Uint8Array): boolean {
  const stored: unknown = doc.leafHash;
  return stored instanceof Uint8Array && sameHash(leafHash, stored);
}

function fieldsMatchLeaf(doc: CheckedEvent): boolean {
  if (typeof doc.leaf !== 'string') return false;
  try {
    return sameJson(eventOfFields(doc), JSON.parse(doc.leaf));
  } catch {
    return false;
  }
}

/** Structural equality of JSON-like values; keys holding undefined count as absent, as in JSON. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.prototype) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let count = 0;
  for (const key in x) {
    if (x[key] === undefined) continue;
    if (!Object.hasOwn(y, key) || !sameJson(x[key], y[key])) return false;
    count++;
  }
  for (const key in y) if (y[key] !== undefined) count--;
  return count === 0;
}
