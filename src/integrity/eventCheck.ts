/**
 * Re-derives one stored event's leaf from its fields. The stored `leaf` text and `leafHash`
 * are only caches of what the fields say: an operator who edits a field (and perhaps the
 * caches too, to match) must still be caught, so the tree is rebuilt from the fields.
 *
 * Canonicalising every event with the general RFC 8785 code (leafOfFields) was most of the
 * check's CPU. So the leaf is first written out directly for the stored shape
 * (directLeafOfFields, which answers only texts leafOfFields would give); when that is not
 * possible or differs from the stored text, leafOfFields decides and names the problem.
 */
import { hash } from 'node:crypto';
import { directLeafOfFields } from '../event/directLeaf';
import { leafOfFields } from '../event/storedEvent';
import { bytesOfLatin1 } from '../merkle/nodeHasher';
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
  return bytesOfLatin1(hash('sha256', `\u0000${leaf}`, 'binary'));
}

export function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkEvent(doc: CheckedEvent): EventCheck {
  if (typeof doc.leaf === 'string' && directLeafOfFields(doc) === doc.leaf) {
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
