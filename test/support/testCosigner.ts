/**
 * A test-only C2SP cosignature/v1 witness: signs checkpoints with node:crypto (an
 * implementation independent of the @noble verifier under test) so tests can build notes
 * with any mix of valid, missing and broken cosignatures.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, sign } from 'node:crypto';
import { cosignatureMessage, cosignatureNoteSignature, formatSignatureLine, formatWitnessKey, parseNote } from '../../src/verify';

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface TestCosigner {
  readonly name: string;
  readonly keyId: number;
  readonly verifierKey: string;
  /** The "— name base64(...)\n" line cosigning this checkpoint text at this time. */
  line(checkpointText: string, timestamp: number): string;
  /** The note with this witness's cosignature line appended. */
  cosign(note: string, timestamp: number): string;
}

/** A witness key; pass a seed label for a reproducible key. */
export function createTestCosigner(name: string, seedLabel?: string): TestCosigner {
  const seed = seedLabel === undefined ? randomBytes(32) : createHash('sha256').update(seedLabel).digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const verifierKey = formatWitnessKey(name, new Uint8Array(spki.subarray(spki.length - 32)));
  const keyId = parseInt(verifierKey.split('+')[1] as string, 16);
  const line = (checkpointText: string, timestamp: number): string => {
    const signature = new Uint8Array(sign(null, cosignatureMessage(checkpointText, timestamp), privateKey));
    return formatSignatureLine(cosignatureNoteSignature({ name, keyId }, { timestamp, signature }));
  };
  return {
    name,
    keyId,
    verifierKey,
    line,
    cosign: (note, timestamp) => note + line(parseNote(note).text, timestamp),
  };
}
