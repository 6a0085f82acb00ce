/**
 * Envelope encryption for event content (pure core; node:crypto only).
 *
 * - The key-encryption key (KEK, 32 bytes) lives outside the database (a file or an
 *   environment variable; a KMS can stand behind the `Kek` interface). It only wraps keys.
 * - Each event gets its own data key (DEK, 32 bytes): its leaf text is sealed with
 *   AES-256-GCM under it, with the leaf index and event id as associated data, so a sealed
 *   blob moved to another row does not open. Destroying the event's data-key record shreds it.
 *   On keyrings that hold a derivation key (all new ones) the record holds a random 32-byte
 *   seed and the DEK is AES-256(derivation key, seed) (deriveDataKeys); on older ones it holds
 *   a random DEK wrapped under the KEK. See deriveDataKeys for why both shred alike.
 * - The search key (32 random bytes, wrapped under the KEK like a DEK) computes blind indexes:
 *   HMAC-SHA-256 of a searchable personal field (whole or cut to 128 bits: see BlindVersion), so equality search works on the existing
 *   indexes while the database holds no clear actor or target id. It is not derived from the
 *   KEK, so rotating the KEK re-wraps it and leaves every stored blind index valid.
 * - A wrapped key is AES-256-GCM(KEK, key) with the key's purpose (`dek:<event id>`,
 *   `search`, `derive`) as associated data, and names the KEK that wrapped it (`kekId`).
 * - Small secrets the server must read back (a webhook's HMAC key) are sealed with AES-256-GCM
 *   under the secret key, derived from the search key: like it, it survives a KEK rotation
 *   untouched, and the database never holds it (only the wrapped search key).
 */
import { type Cipher, createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** The prefix of a sealed leaf: never valid JSON, so plaintext and sealed leaves cannot be confused. */
export const SEALED_PREFIX = 'sealed1:';

export class KeyError extends Error {
  override readonly name = 'KeyError';
}

/** A key-encryption key. A KMS implementation would call out in wrap/unwrap. */
export interface Kek {
  /** A short public fingerprint of the key (never the key): names it in errors and records. */
  readonly id: string;
  /** `random`: where to draw the IV from (a batch's pool); fresh random bytes without it. */
  wrap(key: Uint8Array, purpose: string, random?: RandomPool): string;
  /** Throws KeyError when the wrapped key was not made by this KEK for this purpose. */
  unwrap(wrapped: string, purpose: string): Uint8Array;
}

export function kekId(kek: Uint8Array): string {
  return createHash('sha256').update('audit-ledger kek id\0').update(kek).digest('hex').slice(0, 16);
}

/** An in-process KEK (from a key file or an environment variable). */
export function localKek(key: Uint8Array): Kek {
  if (key.length !== KEY_BYTES) throw new KeyError(`a key-encryption key must be ${KEY_BYTES} bytes (got ${key.length})`);
  const material = Buffer.from(key);
  const id = kekId(material);
  return {
    id,
    wrap: (dek, purpose, random) => seal(material, dek, `wrap:${purpose}`, random).toString('base64'),
    unwrap(wrapped, purpose) {
      try {
        return open(material, Buffer.from(wrapped, 'base64'), `wrap:${purpose}`);
      } catch {
        throw new KeyError(`cannot unwrap the ${purpose.split(':')[0]} key with KEK ${id}`);
      }
    },
  };
}

/**
 * Data keys derived from seeds: DEK = AES-256-ECB(derivation key, seed), block by block, for
 * seeds of 32 random bytes (two blocks), so one cipher call derives a whole batch's keys where
 * wrapping them took an AES-GCM call per event (about a fifth of what sealing an event cost).
 * AES is a pseudorandom permutation: on random, distinct inputs its outputs are as good as
 * random keys to anyone without the derivation key, and pairs of seed and DEK (an opened
 * event's key) tell nothing about it or about other DEKs. The derivation key is random, lives
 * in the database only wrapped under the KEK (like the search key: a KEK rotation re-wraps it
 * and leaves every seed and DEK as they are), and so shredding works as with wrapped keys:
 * once an event's record (its seed, 256 random bits) is destroyed, the KEK and the derivation
 * key no longer give its DEK. ECB is safe here because it never sees structured data, only
 * random blocks that each yield a key half. `seeds` is a multiple of 32 bytes; key i is
 * `out.subarray(32 * i, 32 * i + 32)`.
 */
export function deriveDataKeys(derivationKey: Uint8Array, seeds: Uint8Array): Buffer {
  return new DataKeyDeriver(derivationKey).derive(seeds);
}

/**
 * deriveDataKeys with one cipher for every call: ECB keeps no state from one block to the next
 * and, without padding, `update` answers every whole block at once, so the same cipher serves
 * each batch or page in turn. Setting a cipher up costs more than deriving a page's keys with it.
 */
export class DataKeyDeriver {
  private readonly cipher: Cipher;

  constructor(derivationKey: Uint8Array) {
    this.cipher = createCipheriv('aes-256-ecb', derivationKey, null);
    this.cipher.setAutoPadding(false);
  }

  derive(seeds: Uint8Array): Buffer {
    if (seeds.length % KEY_BYTES !== 0) throw new KeyError(`data-key seeds come in ${KEY_BYTES}-byte pieces (got ${seeds.length} bytes)`);
    return this.cipher.update(seeds);
  }
}

/**
 * Random bytes drawn from the system in one call and handed out in slices: sealing a batch of
 * events needs a key and two IVs per event, and one call per batch costs far less than three
 * per event. Slices never overlap, so no IV or key is handed out twice.
 */
export class RandomPool {
  private bytes: Buffer;
  private at = 0;

  constructor(size: number) {
    this.bytes = randomBytes(Math.max(size, 64));
  }

  /** The bytes needed to seal `events` events (a data key or its seed, its wrapping IV and the leaf's IV each). */
  static forEvents(events: number): RandomPool {
    return new RandomPool(events * (KEY_BYTES + 2 * IV_BYTES));
  }

  take(n: number): Buffer {
    if (this.at + n > this.bytes.length) {
      this.bytes = randomBytes(Math.max(n, this.bytes.length));
      this.at = 0;
    }
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
}

export function newKey(random?: RandomPool): Uint8Array {
  // A copy: a key kept (in a cache) must not pin the whole pool.
  return random ? Uint8Array.from(random.take(KEY_BYTES)) : randomBytes(KEY_BYTES);
}

function seal(key: Uint8Array, plaintext: Uint8Array | string, aad: string, random?: RandomPool): Buffer {
  const iv = random ? random.take(IV_BYTES) : randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  // One copy into the sealed blob (final() is empty for GCM, a stream mode); a text is
  // encoded by the cipher itself rather than into a buffer of its own first.
  const body = typeof plaintext === 'string' ? cipher.update(plaintext, 'utf8') : cipher.update(plaintext);
  const rest = cipher.final();
  return Buffer.concat([iv, body, rest, cipher.getAuthTag()]);
}

function open(key: Uint8Array, sealed: Buffer, aad: string): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new KeyError('sealed data is too short');
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const body = decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES));
  // Checks the tag; GCM, a stream mode, has nothing left to give here, so nothing is copied.
  const rest = decipher.final();
  return rest.length === 0 ? body : Buffer.concat([body, rest]);
}

function leafAad(leafIndex: number, eventId: string): string {
  return `leaf:${leafIndex}:${eventId}`;
}

export function isSealedLeaf(text: string): boolean {
  return text.startsWith(SEALED_PREFIX);
}

/** Seals a leaf text under its event's data key. */
export function sealLeaf(dek: Uint8Array, leafIndex: number, eventId: string, leaf: string, random?: RandomPool): string {
  return SEALED_PREFIX + seal(dek, leaf, leafAad(leafIndex, eventId), random).toString('base64');
}

/** Opens a sealed leaf; throws KeyError if the key, the position or the blob is not the one sealed. */
export function openLeaf(dek: Uint8Array, leafIndex: number, eventId: string, sealed: string): string {
  if (!isSealedLeaf(sealed)) throw new KeyError('not a sealed leaf');
  try {
    return open(dek, Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64'), leafAad(leafIndex, eventId)).toString('utf8');
  } catch {
    throw new KeyError(`the sealed leaf of event ${leafIndex} does not open under its data key`);
  }
}

/**
 * The formats of blind indexes. 1: `b1:` + HMAC-SHA-256(search key, field NUL value) in hex,
 * 67 characters. 2: `b2:` + the first 16 bytes of the same HMAC in base64url, 25 characters:
 * each blind value sits in its event's row, in one or two indexes, in its data-key record and
 * in the maintained counts, so the longer form made every sealed append write some 300 bytes
 * more; 128 bits still keep accidental collisions out of reach. A ledger keeps the format its
 * keyring was created with (KeyringDoc.blindVersion), so its stored blind values stay searchable.
 */
export type BlindVersion = 1 | 2;
export const BLIND_VERSIONS: readonly BlindVersion[] = [1, 2];
/** What a new keyring uses. */
export const CURRENT_BLIND_VERSION: BlindVersion = 2;
const BLIND_V2_BYTES = 16;

/** The blind index of a searchable field in the given format. */
export function blindIndex(searchKey: Uint8Array, field: 'actor.id' | 'target.type' | 'target.id', value: string, version: BlindVersion): string {
  const mac = createHmac('sha256', searchKey).update(`${field}\0${value}`).digest();
  return version === 1 ? 'b1:' + mac.toString('hex') : 'b2:' + mac.subarray(0, BLIND_V2_BYTES).toString('base64url');
}

/** Whether a stored value is a blind index (of either format) rather than a clear one. */
export function isBlind(value: string): boolean {
  return /^(?:b1:[0-9a-f]{64}|b2:[\w-]{22})$/.test(value);
}

/** A keyed digest (for idempotency content digests, which would otherwise confirm guessed content). */
export function keyedDigest(searchKey: Uint8Array, digest: string): string {
  return 'h1:' + createHmac('sha256', searchKey).update(`digest\0${digest}`).digest('hex');
}

/** The key that seals stored secrets: HMAC-SHA-256(search key, label), so it is never the search key itself. */
export function secretKey(searchKey: Uint8Array): Uint8Array {
  return createHmac('sha256', searchKey).update('audit-ledger secret key\0').digest();
}

/** Seals a secret under the secret key; `purpose` (e.g. `webhook:<id>`) is bound as associated data. */
export function sealSecret(key: Uint8Array, purpose: string, secret: string): string {
  return SEALED_PREFIX + seal(key, Buffer.from(secret, 'utf8'), `secret:${purpose}`).toString('base64');
}

/** Opens a sealed secret; throws KeyError if the key or the purpose is not the one it was sealed with. */
export function openSecret(key: Uint8Array, purpose: string, sealed: string): string {
  if (!sealed.startsWith(SEALED_PREFIX)) throw new KeyError(`the ${purpose} secret is not sealed`);
  try {
    return open(key, Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64'), `secret:${purpose}`).toString('utf8');
  } catch {
    throw new KeyError(`the sealed ${purpose} secret does not open under this ledger's keys`);
  }
}
