import example from '../fixtures/c2sp-signed-note-example.json';
import { computeKeyId, formatVerifierKey, isValidKeyName, parseNote, parseVerifierKey, verifyNote } from '../../src/verify/note';
import { verificationCode } from '../support/verificationCode';

// Vectors from golang.org/x/mod/sumdb/note's tests.
const peterKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const enochKey = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterSig = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const enochSig = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
const peter = parseVerifierKey(peterKey);
const enoch = parseVerifierKey(enochKey);

/** Go slices these strings by byte offset; the em dash is 3 bytes in UTF-8 but 1 UTF-16 unit. */
function insertAtByte(s: string, offset: number, insert: string): string {
  const bytes = Buffer.from(s, 'utf8');
  return bytes.subarray(0, offset).toString('utf8') + insert + bytes.subarray(offset).toString('utf8');
}

const code = verificationCode;

describe('verifier keys', () => {
  it('parses the Go and C2SP example keys', () => {
    expect(peter).toMatchObject({ name: 'PeterNeumann', keyId: 0xc74f20a3 });
    expect(parseVerifierKey(example.verifierKey)).toMatchObject({ name: 'example.com/foo', keyId: 0x530d903a });
    expect(formatVerifierKey(peter.name, peter.publicKey)).toBe(peterKey);
  });

  it('computes key IDs over name, newline, type byte and key', () => {
    expect(computeKeyId('PeterNeumann', Uint8Array.of(0x01, ...peter.publicKey))).toBe(0xc74f20a3);
  });

  it('rejects every proper substring and every single-byte increment (as Go tests)', () => {
    const accepted: string[] = [];
    for (let i = 0; i <= peterKey.length; i++) {
      for (let j = i + 1; j <= peterKey.length; j++) {
        if (i === 0 && j === peterKey.length) continue;
        if (code(() => parseVerifierKey(peterKey.slice(i, j))) === undefined) accepted.push(peterKey.slice(i, j));
      }
    }
    for (let i = 0; i < peterKey.length; i++) {
      const mangled = peterKey.slice(0, i) + String.fromCharCode(peterKey.charCodeAt(i) + 1) + peterKey.slice(i + 1);
      if (code(() => parseVerifierKey(mangled)) === undefined) accepted.push(mangled);
    }
    expect(accepted).toEqual([]);
  });

  it.each([
    ['wrong key length with adjusted ID', 'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY=='],
    ['unknown algorithm with adjusted ID', 'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['name with a space', 'Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
    ['short key ID', 'PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'],
  ])('rejects %s', (_what, key) => {
    expect(code(() => parseVerifierKey(key))).toBe('MALFORMED_KEY');
  });

  it('accepts an upper-case key ID like Go', () => {
    expect(parseVerifierKey(peterKey.replace('c74f20a3', 'C74F20A3')).keyId).toBe(0xc74f20a3);
  });

  it('applies Go unicode.IsSpace to names', () => {
    for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u2028b', 'a\u3000b', 'a\u0085b', 'a\tb']) expect(isValidKeyName(bad)).toBe(false);
    for (const good of ['example.com/log', 'a\u200bb', 'a\ufeffb', 'ünïcode', 'emoji\ud83d\ude00']) expect(isValidKeyName(good)).toBe(true);
    for (const bad of ['a\ud800', '\udc00a', 'a\ud83d']) expect(isValidKeyName(bad)).toBe(false);
  });
});

describe('signed notes', () => {
  it('verifies the C2SP example', () => {
    const note = verifyNote(example.note, parseVerifierKey(example.verifierKey));
    expect(note.text).toBe('This is an example message.\n');
    expect(note.verifiedSignatures).toHaveLength(1);
  });

  it('verifies the Go example and keeps the unknown signature', () => {
    const note = verifyNote(`${text}\n${peterSig}${enochSig}`, [peter]);
    expect(note.text).toBe(text);
    expect(note.verifiedSignatures.map((s) => [s.name, s.keyId])).toEqual([['PeterNeumann', 0xc74f20a3]]);
    expect(note.unverifiedSignatures.map((s) => [s.name, s.keyId])).toEqual([['EnochRoot', 0xaf0cfe78]]);
    expect(verifyNote(`${text}\n${peterSig}${enochSig}`, [peter, enoch]).verifiedSignatures).toHaveLength(2);
  });

  it('accepts bytes as well as strings', () => {
    expect(verifyNote(new TextEncoder().encode(`${text}\n${peterSig}`), peter).text).toBe(text);
  });

  it('requires a signature by a trusted key', () => {
    expect(code(() => verifyNote(`${text}\n${peterSig}${enochSig}`, []))).toBe('UNVERIFIED_NOTE');
    expect(code(() => verifyNote(`${text}\n${enochSig}`, peter))).toBe('UNVERIFIED_NOTE');
  });

  it('ignores unknown keys sharing only the name or only the key ID', () => {
    const sameName = peterSig.replace('x08go', 'x08gp');
    expect(parseNote(`${text}\n${sameName}`).signatures[0]?.keyId).not.toBe(peter.keyId);
    expect(code(() => verifyNote(`${text}\n${sameName}`, peter))).toBe('UNVERIFIED_NOTE');
    const sameId = peterSig.replace('PeterNeumann', 'PeterNeumanm');
    expect(code(() => verifyNote(`${text}\n${sameId}`, peter))).toBe('UNVERIFIED_NOTE');
  });

  it('reports ambiguous trusted keys only when used', () => {
    expect(code(() => verifyNote(`${text}\n${enochSig}`, [enoch, peter, enoch]))).toBe('INVALID_ARGUMENT');
    verifyNote(`${text}\n${peterSig}`, [enoch, peter, enoch]);
  });

  it('rejects the whole note if a trusted signature fails', () => {
    expect(code(() => verifyNote(`${text}\n${insertAtByte(peterSig, 60, 'ABCD')}`, peter))).toBe('INVALID_SIGNATURE');
    expect(code(() => verifyNote(`${text.replace('problem', 'pr0blem')}\n${peterSig}`, peter))).toBe('INVALID_SIGNATURE');
    expect(code(() => verifyNote(`${text}\n${insertAtByte(peterSig, 60, 'ABCD')}${peterSig}`, peter))).toBe('INVALID_SIGNATURE');
  });

  it('drops repeated signatures like Go', () => {
    const enochAbcd = insertAtByte(enochSig, 60, 'ABCD');
    const note = verifyNote(`${text}\n${peterSig}${peterSig}${enochSig}${enochSig}${enochAbcd}`, peter);
    expect(note.verifiedSignatures).toHaveLength(1);
    expect(note.unverifiedSignatures).toHaveLength(2);
    // Only the first signature per trusted key is checked, as in Go.
    verifyNote(`${text}\n${peterSig}${insertAtByte(peterSig, 60, 'ABCD')}`, peter);
  });

  it('limits the number of signatures to 100', () => {
    verifyNote(`${text}\n${peterSig.repeat(100)}`, peter);
    expect(code(() => verifyNote(`${text}\n${peterSig.repeat(101)}`, peter))).toBe('MALFORMED_NOTE');
    expect(code(() => parseNote(`${text}\n${enochSig.repeat(101)}`))).toBe('MALFORMED_NOTE');
  });

  it.each<[string, string | Uint8Array]>([
    ['no signature block', text],
    ['blank line but no signatures', `${text}\n`],
    ['unterminated signature line', `${text}\n${peterSig.slice(0, -1)}`],
    ['control character', `\u0001${text}\n${peterSig}`],
    ['carriage return', `${text.replace('\n', '\r\n')}\n${peterSig}`],
    ['tab', `\t${text}\n${peterSig}`],
    ['invalid UTF-8', Uint8Array.from([0xff, ...new TextEncoder().encode(`${text}\n${peterSig}`)])],
    ['overlong UTF-8', Uint8Array.from([0xc0, 0xaf, ...new TextEncoder().encode(`${text}\n${peterSig}`)])],
    ['lone surrogate', `\ud800${text}\n${peterSig}`],
    ['name with a space', `${text}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['text after the signatures', `${text}\n${peterSig}Unexpected line.\n`],
    ['hyphen instead of em dash', `${text}\n${peterSig.replace('\u2014', '-')}`],
    ['en dash instead of em dash', `${text}\n${peterSig.replace('\u2014', '\u2013')}`],
    ['two spaces after the dash', `${text}\n${peterSig.replace('\u2014 ', '\u2014  ')}`],
    ['missing signature', `${text}\n\u2014 PeterNeumann\n`],
    ['empty signature', `${text}\n\u2014 PeterNeumann \n`],
    ['key ID only', `${text}\n\u2014 PeterNeumann x08gow==\n`],
    ['non-canonical base64', `${text}\n${peterSig.replace('AM=', 'AN=')}`],
    ['unpadded base64', `${text}\n${peterSig.replace('AM=', 'AM')}`],
    ['trailing space', `${text}\n${peterSig.replace('=\n', '= \n')}`],
  ])('rejects a note with %s', (_what, note) => {
    expect(code(() => verifyNote(note, peter))).toBe('MALFORMED_NOTE');
    expect(code(() => parseNote(note))).toBe('MALFORMED_NOTE');
  });

  it('splits at the last blank line, so the text may contain blank lines', () => {
    const note = parseNote(`a\n\nb\n\n${enochSig}`);
    expect(note.text).toBe('a\n\nb\n');
    expect(code(() => verifyNote(`${text}\n\n${peterSig}`, peter))).toBe('INVALID_SIGNATURE');
  });

  it('keeps a leading byte order mark as part of the text', () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(`x\n\n${enochSig}`)]);
    expect(parseNote(bytes).text).toBe('\ufeffx\n');
  });
});
