/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, parsed with the
 * same rules as golang.org/x/mod/sumdb/note:
 *
 * - the note is valid UTF-8 and has no control characters other than newline;
 * - the text ends at the LAST blank line (so the text itself may contain blank lines);
 * - each signature line is "— <name> <base64(keyID || signature)>\n" with a key name
 *   that is non-empty and has no Unicode space or '+';
 * - at most 100 signature lines;
 * - signatures whose (name, key ID) pair matches no trusted key are kept, unverified
 *   (witness cosignatures, rotated keys); one that matches a trusted key but fails to
 *   verify rejects the whole note; at least one trusted signature is required.
 *
 * Deliberately stricter than Go, never looser: base64 must be canonical (Go tolerates
 * non-zero padding bits), and Ed25519 verification follows RFC 8032 strictly (noble's
 * zip215: false: canonical encodings, cofactorless equation) rather than ZIP 215.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { base64 } from '@scure/base';
import { VerificationError } from './errors';

/** Signature type identifier byte assigned to Ed25519 by the signed-note spec. */
export const ED25519_SIGNATURE_TYPE = 0x01;

/** Go's note package gives up after this many signature lines; the spec requires at least 16. */
export const MAX_NOTE_SIGNATURES = 100;

const SIGNATURE_LINE_PREFIX = '\u2014 ';
const ED25519_PUBLIC_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const KEY_ID_SIZE = 4;

// unicode.IsSpace in Go: the Latin-1 spaces plus categories Zs, Zl and Zp. Not JavaScript's
// \s, which also matches U+FEFF.
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;
// Two trusted keys with the same name and ID are only an error if a signature needs one
// of them, as with Go's VerifierList.
const AMBIGUOUS = Symbol('ambiguous verifier');

const utf8Encoder = new TextEncoder();
// ignoreBOM keeps a leading U+FEFF as part of the text, as Go does, instead of eating it.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** One signature line of a note. `signature` excludes the 4-byte key ID prefix. */
export interface NoteSignature {
  readonly name: string;
  /** The key ID as an unsigned 32-bit integer. */
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A structurally valid note whose signatures have not been checked. */
export interface Note {
  /** The signed text, including its final newline. */
  readonly text: string;
  /** Every signature line, in order. */
  readonly signatures: NoteSignature[];
}

export interface VerifiedNote {
  readonly text: string;
  /** Signatures by trusted keys, all verified; never empty. */
  readonly verifiedSignatures: NoteSignature[];
  /** Signatures by keys the caller did not supply (e.g. witness cosignatures), not checked. */
  readonly unverifiedSignatures: NoteSignature[];
}

/** A trusted key, as named by a verifier key string `name+hex8+base64(0x01 || pubkey)`. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export function isValidKeyName(name: string): boolean {
  return name !== '' && !hasLoneSurrogate(name) && !UNICODE_SPACE.test(name) && !name.includes('+');
}

/** key ID = SHA-256(name || 0x0A || type || public key)[:4] as a big-endian uint32. */
export function computeKeyId(name: string, typedPublicKey: Uint8Array): number {
  const nameBytes = utf8Encoder.encode(name);
  const input = new Uint8Array(nameBytes.length + 1 + typedPublicKey.length);
  input.set(nameBytes, 0);
  input[nameBytes.length] = 0x0a;
  input.set(typedPublicKey, nameBytes.length + 1);
  return readUint32(sha256(input), 0);
}

/** The 8 lowercase hex digits used for key IDs in key strings. */
export function formatKeyId(keyId: number): string {
  return keyId.toString(16).padStart(8, '0');
}

export function formatVerifierKey(name: string, publicKey: Uint8Array): string {
  if (!isValidKeyName(name)) {
    throw new VerificationError('MALFORMED_KEY', `invalid key name ${JSON.stringify(name)}`);
  }
  if (publicKey.length !== ED25519_PUBLIC_KEY_SIZE) {
    throw new VerificationError('MALFORMED_KEY', `Ed25519 public key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const typed = withTypeByte(publicKey);
  return `${name}+${formatKeyId(computeKeyId(name, typed))}+${base64.encode(typed)}`;
}

/** Parses `name+hex8+base64(0x01 || pubkey)` and checks that the key ID matches the key. */
export function parseVerifierKey(verifierKey: string): NoteVerifier {
  const [name, afterName] = chop(verifierKey, '+');
  const [keyIdHex, keyBase64] = chop(afterName, '+');
  if (!isValidKeyName(name) || !KEY_ID_HEX.test(keyIdHex)) {
    throw new VerificationError('MALFORMED_KEY', 'verifier key must have the form name+hex8+base64key');
  }
  const typed = decodeBase64(keyBase64);
  if (typed === undefined || typed.length === 0) {
    throw new VerificationError('MALFORMED_KEY', 'verifier key data is not canonical base64');
  }
  if (typed[0] !== ED25519_SIGNATURE_TYPE) {
    throw new VerificationError('MALFORMED_KEY', `unsupported verifier key type 0x${(typed[0] as number).toString(16)}`);
  }
  if (typed.length !== 1 + ED25519_PUBLIC_KEY_SIZE) {
    throw new VerificationError('MALFORMED_KEY', `Ed25519 verifier key must be ${ED25519_PUBLIC_KEY_SIZE} bytes`);
  }
  const keyId = parseInt(keyIdHex, 16);
  if (keyId !== computeKeyId(name, typed)) {
    throw new VerificationError('MALFORMED_KEY', 'verifier key ID does not match its name and public key');
  }
  const publicKey = typed.slice(1);
  return {
    name,
    keyId,
    publicKey,
    verify(message: Uint8Array, signature: Uint8Array): boolean {
      if (signature.length !== ED25519_SIGNATURE_SIZE) return false;
      try {
        return ed25519.verify(signature, message, publicKey, { zip215: false });
      } catch {
        // noble throws on undecodable points; for a verifier that is simply "invalid".
        return false;
      }
    },
  };
}

/**
 * Checks the character-level rules of a note (or note text): well-formed Unicode, so
 * that it has a UTF-8 encoding, and no control characters other than newline.
 */
export function assertNoteCharacters(text: string): void {
  if (hasLoneSurrogate(text)) {
    throw new VerificationError('MALFORMED_NOTE', 'note is not valid UTF-8 (lone surrogate)');
  }
  if (hasControlOtherThanNewline(text)) {
    throw new VerificationError('MALFORMED_NOTE', 'note contains a control character other than newline');
  }
}

/** A string with an unpaired UTF-16 surrogate has no UTF-8 encoding. */
function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c > 0xdbff) return true;
    const next = text.charCodeAt(i + 1);
    if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
    i++;
  }
  return false;
}

function hasControlOtherThanNewline(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}

/** Splits a note into text and signature lines, checking syntax only. */
export function parseNote(note: string | Uint8Array): Note {
  const message = decodeNote(note);
  assertNoteCharacters(message);

  const split = message.lastIndexOf('\n\n');
  if (split < 0) {
    throw new VerificationError('MALFORMED_NOTE', 'note has no blank line before its signatures');
  }
  const text = message.slice(0, split + 1);
  const block = message.slice(split + 2);
  if (block === '' || !block.endsWith('\n')) {
    throw new VerificationError('MALFORMED_NOTE', 'note must end with at least one newline-terminated signature line');
  }

  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new VerificationError('MALFORMED_NOTE', `note has more than ${MAX_NOTE_SIGNATURES} signatures`);
  }
  return { text, signatures: lines.map(parseSignatureLine) };
}

/**
 * Parses a note and checks its signatures against the trusted verifiers. Throws unless
 * at least one trusted key signed it and every trusted-key signature verifies.
 */
export function verifyNote(note: string | Uint8Array, verifiers: NoteVerifier | readonly NoteVerifier[]): VerifiedNote {
  const trusted = indexVerifiers(Array.isArray(verifiers) ? verifiers : [verifiers as NoteVerifier]);
  const { text, signatures } = parseNote(note);
  const message = utf8Encoder.encode(text);

  const verifiedSignatures: NoteSignature[] = [];
  const unverifiedSignatures: NoteSignature[] = [];
  const seenVerified = new Set<string>();
  const seenUnverified = new Set<string>();
  for (const sig of signatures) {
    const key = verifierIndexKey(sig.name, sig.keyId);
    const verifier = trusted.get(key);
    if (verifier === AMBIGUOUS) {
      throw new VerificationError('INVALID_ARGUMENT', `ambiguous key ${sig.name}+${formatKeyId(sig.keyId)}`);
    }
    if (verifier === undefined) {
      // Identical repeated lines carry no information; Go drops them too.
      const line = formatSignatureLine(sig);
      if (!seenUnverified.has(line)) {
        seenUnverified.add(line);
        unverifiedSignatures.push(sig);
      }
      continue;
    }
    // As in Go, only the first signature per trusted key counts; later ones are ignored.
    if (seenVerified.has(key)) continue;
    seenVerified.add(key);
    if (!verifier.verify(message, sig.signature)) {
      throw new VerificationError('INVALID_SIGNATURE', `invalid signature for key ${sig.name}+${formatKeyId(sig.keyId)}`);
    }
    verifiedSignatures.push(sig);
  }
  if (verifiedSignatures.length === 0) {
    throw new VerificationError('UNVERIFIED_NOTE', 'note has no signature from a trusted key');
  }
  return { text, verifiedSignatures, unverifiedSignatures };
}

/** Renders "— name base64(keyID || signature)\n". */
export function formatSignatureLine(sig: NoteSignature): string {
  const bytes = new Uint8Array(KEY_ID_SIZE + sig.signature.length);
  writeUint32(bytes, 0, sig.keyId);
  bytes.set(sig.signature, KEY_ID_SIZE);
  return `${SIGNATURE_LINE_PREFIX}${sig.name} ${base64.encode(bytes)}\n`;
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_LINE_PREFIX)) {
    throw new VerificationError('MALFORMED_NOTE', 'signature line must start with an em dash and a space');
  }
  const [name, encoded] = chop(line.slice(SIGNATURE_LINE_PREFIX.length), ' ');
  const bytes = decodeBase64(encoded);
  if (!isValidKeyName(name) || encoded === '' || bytes === undefined || bytes.length <= KEY_ID_SIZE) {
    throw new VerificationError('MALFORMED_NOTE', `malformed signature line for ${JSON.stringify(name)}`);
  }
  return { name, keyId: readUint32(bytes, 0), signature: bytes.slice(KEY_ID_SIZE) };
}

function indexVerifiers(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier | typeof AMBIGUOUS> {
  const index = new Map<string, NoteVerifier | typeof AMBIGUOUS>();
  for (const v of verifiers) {
    const key = verifierIndexKey(v.name, v.keyId);
    index.set(key, index.has(key) ? AMBIGUOUS : v);
  }
  return index;
}

function verifierIndexKey(name: string, keyId: number): string {
  // Names cannot contain spaces, so the pair is unambiguous.
  return `${name} ${keyId}`;
}

function decodeNote(note: string | Uint8Array): string {
  if (typeof note === 'string') return note;
  try {
    return utf8Decoder.decode(note);
  } catch {
    throw new VerificationError('MALFORMED_NOTE', 'note is not valid UTF-8');
  }
}

function decodeBase64(text: string): Uint8Array | undefined {
  try {
    return base64.decode(text);
  } catch {
    return undefined;
  }
}

/** Go's strings.Cut without the found flag: everything after the first sep, or "" if none. */
function chop(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + sep.length)];
}

function withTypeByte(publicKey: Uint8Array): Uint8Array {
  const typed = new Uint8Array(1 + publicKey.length);
  typed[0] = ED25519_SIGNATURE_TYPE;
  typed.set(publicKey, 1);
  return typed;
}

function readUint32(bytes: Uint8Array, offset: number): number {
  return (
    (((bytes[offset] as number) << 24) |
      ((bytes[offset + 1] as number) << 16) |
      ((bytes[offset + 2] as number) << 8) |
      (bytes[offset + 3] as number)) >>>
    0
  );
}

function writeUint32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value >>> 24;
  bytes[offset + 1] = (value >>> 16) & 0xff;
  bytes[offset + 2] = (value >>> 8) & 0xff;
  bytes[offset + 3] = value & 0xff;
}
