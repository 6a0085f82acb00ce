/**
 * The log's checkpoint signer: Ed25519 signed notes in the key format of Go's
 * golang.org/x/mod/sumdb/note, so keys interoperate with Go tooling:
 *
 *   signer key    PRIVATE+KEY+<name>+<hex8 key ID>+base64(0x01 || 32-byte seed)
 *   verifier key  <name>+<hex8 key ID>+base64(0x01 || 32-byte public key)
 *
 * Signing uses node:crypto rather than @noble/curves: Ed25519 signing is deterministic,
 * so the output is identical, and OpenSSL signs roughly 5x faster (see
 * scripts/bench-core.ts). Server-only; verification lives in src/verify.
 */
import { createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject } from 'node:crypto';
import { base64 } from '@scure/base';
import { formatCheckpointBody, type CheckpointBodyInput } from '../verify/checkpoint';
import { VerificationError } from '../verify/errors';
import {
  ED25519_SIGNATURE_TYPE,
  assertNoteCharacters,
  computeKeyId,
  formatKeyId,
  formatSignatureLine,
  formatVerifierKey,
  isValidKeyName,
} from '../verify/note';
import { SigningError } from './errors';

const SIGNER_KEY_PREFIX = 'PRIVATE+KEY+';
const SEED_SIZE = 32;
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): the only form node:crypto imports.
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);
const KEY_ID_HEX = /^[0-9a-fA-F]{8}$/;
const utf8Encoder = new TextEncoder();

/** A parsed signer key, holding the imported private key so repeated signing is cheap. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** The matching verifier key string, to publish to clients. */
  readonly verifierKey: string;
  /** Raw Ed25519 signature (64 bytes) over message. */
  sign(message: Uint8Array): Uint8Array;
}

/** Creates a fresh key pair for the given key name (by convention the log's origin). */
export function generateSignerKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidKeyName(name)) {
    throw new SigningError('MALFORMED_SIGNER_KEY', `invalid key name ${JSON.stringify(name)}`);
  }
  const seed = new Uint8Array(randomBytes(SEED_SIZE));
  const publicKey = ed25519PublicKey(importSeed(seed));
  const keyId = computeKeyId(name, typed(publicKey));
  const signerKey = `${SIGNER_KEY_PREFIX}${name}+${formatKeyId(keyId)}+${base64.encode(typed(seed))}`;
  return { signerKey, verifierKey: formatVerifierKey(name, publicKey) };
}

/** Parses a signer key and checks that its key ID matches the derived public key. */
export function parseSignerKey(signerKey: string): NoteSigner {
  if (!signerKey.startsWith(SIGNER_KEY_PREFIX)) {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key must start with PRIVATE+KEY+');
  }
  const fields = signerKey.slice(SIGNER_KEY_PREFIX.length);
  const nameEnd = fields.indexOf('+');
  const idEnd = fields.indexOf('+', nameEnd + 1);
  if (nameEnd < 0 || idEnd < 0) {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key must have the form PRIVATE+KEY+name+hex8+base64seed');
  }
  const name = fields.slice(0, nameEnd);
  const keyIdHex = fields.slice(nameEnd + 1, idEnd);
  if (!isValidKeyName(name) || !KEY_ID_HEX.test(keyIdHex)) {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key has an invalid name or key ID');
  }
  let data: Uint8Array;
  try {
    data = base64.decode(fields.slice(idEnd + 1));
  } catch {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key data is not canonical base64');
  }
  if (data.length !== 1 + SEED_SIZE || data[0] !== ED25519_SIGNATURE_TYPE) {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key data must be 0x01 followed by a 32-byte Ed25519 seed');
  }
  const privateKey = importSeed(data.subarray(1));
  const publicKey = ed25519PublicKey(privateKey);
  const keyId = parseInt(keyIdHex, 16);
  if (keyId !== computeKeyId(name, typed(publicKey))) {
    throw new SigningError('MALFORMED_SIGNER_KEY', 'signer key ID does not match its name and public key');
  }
  return {
    name,
    keyId,
    publicKey,
    verifierKey: formatVerifierKey(name, publicKey),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

/** Signs text (which must end in a newline) and returns the complete signed note. */
export function signNote(text: string, signer: string | NoteSigner): string {
  const key = typeof signer === 'string' ? parseSignerKey(signer) : signer;
  if (!text.endsWith('\n')) {
    throw new SigningError('MALFORMED_NOTE_TEXT', 'note text must end with a newline');
  }
  try {
    assertNoteCharacters(text);
  } catch (error) {
    if (error instanceof VerificationError) throw new SigningError('MALFORMED_NOTE_TEXT', error.message);
    throw error;
  }
  const signature = key.sign(utf8Encoder.encode(text));
  return `${text}\n${formatSignatureLine({ name: key.name, keyId: key.keyId, signature })}`;
}

/** Formats and signs a C2SP checkpoint. */
export function signCheckpoint(checkpoint: CheckpointBodyInput, signer: string | NoteSigner): string {
  return signNote(formatCheckpointBody(checkpoint), signer);
}

function importSeed(seed: Uint8Array): KeyObject {
  const der = new Uint8Array(PKCS8_ED25519_PREFIX.length + SEED_SIZE);
  der.set(PKCS8_ED25519_PREFIX, 0);
  der.set(seed, PKCS8_ED25519_PREFIX.length);
  return createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
}

function ed25519PublicKey(privateKey: KeyObject): Uint8Array {
  // The raw key is the last 32 bytes of its SPKI encoding.
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

function typed(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + key.length);
  out[0] = ED25519_SIGNATURE_TYPE;
  out.set(key, 1);
  return out;
}
