import { generateSignerKey, parseSignerKey, signCheckpoint, signNote } from '../../src/checkpoint/signer';
import { formatCheckpointBody, parseCheckpoint, parseCheckpointBody, verifyCheckpoint } from '../../src/verify/checkpoint';
import { VerificationError } from '../../src/verify/errors';
import { parseVerifierKey } from '../../src/verify/note';
import { rfc6962 } from '../../src/verify/rfc6962';
import { verificationCode } from '../support/verificationCode';

const origin = 'audit.example.com/ledger';
const keys = generateSignerKey(origin);
const signer = parseSignerKey(keys.signerKey);
const rootHash = rfc6962.leafHash(new TextEncoder().encode('root'));
const rootBase64 = Buffer.from(rootHash).toString('base64');
const witness = generateSignerKey('witness.example.com/w1');

const code = verificationCode;

const BASE64_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
/** Same bytes as decoded by a lenient decoder (Go's), but with a non-zero padding bit. */
function withPaddingBitSet(b64: string): string {
  const last = BASE64_ALPHABET.indexOf(b64[42] as string);
  return `${b64.slice(0, 42)}${BASE64_ALPHABET[last | 1]}=`;
}

/** Signs arbitrary text as if it were a checkpoint, to probe the body parser. */
const signed = (body: string): string => signNote(body, signer);

describe('checkpoint round trip', () => {
  it('signs and verifies', () => {
    const note = signCheckpoint({ origin, treeSize: 20852163, rootHash }, signer);
    expect(note).toBe(`${origin}\n20852163\n${rootBase64}\n\n${note.split('\n\n')[1]}`);
    const checkpoint = verifyCheckpoint(note, keys.verifierKey);
    expect(checkpoint.origin).toBe(origin);
    expect(checkpoint.treeSize).toBe(20852163);
    expect(Buffer.from(checkpoint.rootHash).equals(rootHash)).toBe(true);
    expect(checkpoint.extensions).toEqual([]);
    expect(verifyCheckpoint(note, parseVerifierKey(keys.verifierKey), { origin }).treeSize).toBe(20852163);
  });

  it('round-trips size 0, the largest safe size, and extension lines', () => {
    for (const treeSize of [0, 1, Number.MAX_SAFE_INTEGER]) {
      const note = signCheckpoint({ origin, treeSize, rootHash, extensions: ['ext one', '— two'] }, keys.signerKey);
      const checkpoint = verifyCheckpoint(note, keys.verifierKey);
      expect([checkpoint.treeSize, checkpoint.extensions]).toEqual([treeSize, ['ext one', '— two']]);
    }
  });

  it('signs the UTF-8 bytes of non-ASCII origins', () => {
    const unicode = generateSignerKey('ünïcode.example/日志');
    const note = signCheckpoint({ origin: 'ünïcode.example/日志', treeSize: 3, rootHash }, unicode.signerKey);
    expect(verifyCheckpoint(note, unicode.verifierKey, { origin: 'ünïcode.example/日志' }).treeSize).toBe(3);
    expect(verifyCheckpoint(new TextEncoder().encode(note), unicode.verifierKey).treeSize).toBe(3);
  });

  it('parses without verifying, returning every signature', () => {
    const note = signCheckpoint({ origin, treeSize: 5, rootHash }, signer);
    const cosigned = signNote(note.slice(0, note.indexOf('\n\n') + 1), witness.signerKey).split('\n\n')[1] as string;
    const checkpoint = parseCheckpoint(note + cosigned);
    expect(checkpoint.treeSize).toBe(5);
    expect(checkpoint.signatures.map((s) => s.name)).toEqual([origin, 'witness.example.com/w1']);
    expect(checkpoint.signatures[0]?.keyId).toBe(signer.keyId);
    expect(checkpoint.signatures[0]?.signature).toHaveLength(64);
  });

  it('accepts an extra unknown-key (witness) signature and returns it', () => {
    const note = signCheckpoint({ origin, treeSize: 5, rootHash }, signer);
    const cosignature = signNote(note.slice(0, note.indexOf('\n\n') + 1), witness.signerKey).split('\n\n')[1] as string;
    const checkpoint = verifyCheckpoint(note + cosignature, keys.verifierKey);
    expect(checkpoint.note.unverifiedSignatures.map((s) => s.name)).toEqual(['witness.example.com/w1']);
    // Witness signature first is fine too.
    expect(verifyCheckpoint(note.replace('\n\n', `\n\n${cosignature}`), keys.verifierKey).treeSize).toBe(5);
  });
});

describe('checkpoint rejection', () => {
  const note = signCheckpoint({ origin, treeSize: 42, rootHash }, signer);

  it('rejects a tampered body', () => {
    expect(code(() => verifyCheckpoint(note.replace('\n42\n', '\n43\n'), keys.verifierKey))).toBe('INVALID_SIGNATURE');
    const otherRoot = Buffer.from(rfc6962.emptyRoot()).toString('base64');
    expect(code(() => verifyCheckpoint(note.replace(rootBase64, otherRoot), keys.verifierKey))).toBe('INVALID_SIGNATURE');
    expect(code(() => verifyCheckpoint(note.replace(origin, `${origin}x`), keys.verifierKey))).toBe('INVALID_SIGNATURE');
  });

  it('rejects a tampered signature', () => {
    const [body, sigLine] = note.split('\n\n') as [string, string];
    const b64 = sigLine.slice(sigLine.lastIndexOf(' ') + 1, -1);
    const bytes = Buffer.from(b64, 'base64');
    for (const i of [4, 20, 67]) {
      const flipped = Buffer.from(bytes);
      flipped[i] = (flipped[i] as number) ^ 1;
      const tampered = `${body}\n\n${sigLine.replace(b64, flipped.toString('base64'))}`;
      expect(code(() => verifyCheckpoint(tampered, keys.verifierKey))).toBe('INVALID_SIGNATURE');
    }
  });

  it('rejects the wrong key, even with the same name', () => {
    expect(code(() => verifyCheckpoint(note, witness.verifierKey))).toBe('UNVERIFIED_NOTE');
    expect(code(() => verifyCheckpoint(note, generateSignerKey(origin).verifierKey))).toBe('UNVERIFIED_NOTE');
  });

  it('rejects an unexpected origin when the caller names one', () => {
    expect(code(() => verifyCheckpoint(note, keys.verifierKey, { origin: 'other.example.com/log' }))).toBe('ORIGIN_MISMATCH');
  });

  it('rejects a missing blank line', () => {
    expect(code(() => verifyCheckpoint(note.replace('\n\n', '\n'), keys.verifierKey))).toBe('MALFORMED_NOTE');
  });

  it.each([
    ['leading zero', `${origin}\n042\n${rootBase64}\n`],
    ['plus sign', `${origin}\n+42\n${rootBase64}\n`],
    ['negative size', `${origin}\n-1\n${rootBase64}\n`],
    ['hex size', `${origin}\n0x2a\n${rootBase64}\n`],
    ['size with space', `${origin}\n42 \n${rootBase64}\n`],
    ['unsafe size', `${origin}\n9007199254740992\n${rootBase64}\n`],
    ['31-byte root', `${origin}\n42\n${Buffer.alloc(31, 7).toString('base64')}\n`],
    ['33-byte root', `${origin}\n42\n${Buffer.alloc(33, 7).toString('base64')}\n`],
    ['unpadded root', `${origin}\n42\n${rootBase64.replace(/=+$/, '')}\n`],
    ['non-canonical root', `${origin}\n42\n${withPaddingBitSet(rootBase64)}\n`],
    ['URL-safe base64 root', `${origin}\n42\n${Buffer.from(Buffer.alloc(32, 0xfb)).toString('base64url')}=\n`],
    ['empty origin', `\n42\n${rootBase64}\n`],
    ['missing root line', `${origin}\n42\n`],
    ['empty extension line', `${origin}\n42\n${rootBase64}\next\n\nmore\n`],
  ])('rejects a body with %s', (_what, body) => {
    const verify = (): unknown => verifyCheckpoint(signed(body), keys.verifierKey);
    expect(code(verify)).toBe('MALFORMED_CHECKPOINT');
    expect(code(() => parseCheckpointBody(body))).toBe('MALFORMED_CHECKPOINT');
  });

  it('rejects control characters and invalid UTF-8', () => {
    const withControl = note.replace(origin, `${origin}\u0007`);
    expect(code(() => verifyCheckpoint(withControl, keys.verifierKey))).toBe('MALFORMED_NOTE');
    const bytes = Buffer.from(note, 'utf8');
    const invalid = Uint8Array.from([...bytes.subarray(0, 3), 0xfe, ...bytes.subarray(4)]);
    expect(code(() => verifyCheckpoint(invalid, keys.verifierKey))).toBe('MALFORMED_NOTE');
    expect(code(() => parseCheckpointBody(`${origin}\r\n42\n${rootBase64}\n`))).toBe('MALFORMED_NOTE');
  });

  it('rejects a body whose text does not end in a newline', () => {
    expect(code(() => parseCheckpointBody(`${origin}\n42\n${rootBase64}`))).toBe('MALFORMED_CHECKPOINT');
  });
});

describe('formatCheckpointBody', () => {
  it('formats the C2SP layout', () => {
    expect(formatCheckpointBody({ origin, treeSize: 0, rootHash: rfc6962.emptyRoot() })).toBe(
      `${origin}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`,
    );
  });

  it.each([
    ['empty origin', { origin: '', treeSize: 1, rootHash }],
    ['multi-line origin', { origin: 'a\nb', treeSize: 1, rootHash }],
    ['negative size', { origin, treeSize: -1, rootHash }],
    ['fractional size', { origin, treeSize: 1.5, rootHash }],
    ['unsafe size', { origin, treeSize: 2 ** 53, rootHash }],
    ['short root', { origin, treeSize: 1, rootHash: rootHash.subarray(1) }],
    ['empty extension', { origin, treeSize: 1, rootHash, extensions: [''] }],
    ['multi-line extension', { origin, treeSize: 1, rootHash, extensions: ['a\nb'] }],
  ])('rejects %s', (_what, body) => {
    expect(() => formatCheckpointBody(body)).toThrow(VerificationError);
  });

  it('rejects control characters', () => {
    expect(code(() => formatCheckpointBody({ origin: 'a\tb', treeSize: 1, rootHash }))).toBe('MALFORMED_NOTE');
  });
});
