import { ed25519 } from '@noble/curves/ed25519.js';
import { SigningError } from '../../src/checkpoint/errors';
import { generateSignerKey, parseSignerKey, signNote } from '../../src/checkpoint/signer';
import { parseVerifierKey, verifyNote } from '../../src/verify/note';

// From golang.org/x/mod/sumdb/note's tests: Go's signature over this text with this key.
const goSignerKey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const goVerifierKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const goSigned = `${text}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

describe('note signer', () => {
  it("produces exactly Go's signed note for Go's key", () => {
    expect(signNote(text, goSignerKey)).toBe(goSigned);
    expect(parseSignerKey(goSignerKey).verifierKey).toBe(goVerifierKey);
  });

  it('signs like @noble/curves (Ed25519 is deterministic)', () => {
    const seed = Buffer.from(goSignerKey.split('+').slice(4).join('+'), 'base64').subarray(1);
    const message = new TextEncoder().encode(text);
    expect(Buffer.from(parseSignerKey(goSignerKey).sign(message))).toEqual(Buffer.from(ed25519.sign(message, seed)));
  });

  it('generates matching key pairs', () => {
    const { signerKey, verifierKey } = generateSignerKey('example.com/log');
    expect(signerKey).toMatch(/^PRIVATE\+KEY\+example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(verifierKey).toMatch(/^example\.com\/log\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$/);
    expect(signerKey.split('+')[3]).toBe(verifierKey.split('+')[1]);
    const note = signNote('hello\n', signerKey);
    expect(verifyNote(note, parseVerifierKey(verifierKey)).text).toBe('hello\n');
    expect(generateSignerKey('example.com/log').signerKey).not.toBe(signerKey);
  });

  it('rejects every proper substring and single-byte increment of a signer key (as Go tests)', () => {
    const accepted: string[] = [];
    const fails = (key: string): boolean => {
      try {
        parseSignerKey(key);
        return false;
      } catch (error) {
        if (!(error instanceof SigningError)) throw error;
        return true;
      }
    };
    for (let i = 0; i <= goSignerKey.length; i++) {
      for (let j = i + 1; j <= goSignerKey.length; j++) {
        if ((i !== 0 || j !== goSignerKey.length) && !fails(goSignerKey.slice(i, j))) accepted.push(goSignerKey.slice(i, j));
      }
    }
    for (let i = 0; i < goSignerKey.length; i++) {
      const mangled = goSignerKey.slice(0, i) + String.fromCharCode(goSignerKey.charCodeAt(i) + 1) + goSignerKey.slice(i + 1);
      if (!fails(mangled)) accepted.push(mangled);
    }
    expect(accepted).toEqual([]);
  });

  it.each([
    ['text without final newline', 'abc'],
    ['empty text', ''],
    ['control character', 'a\u0000b\n'],
    ['lone surrogate', '\udc00\n'],
  ])('refuses to sign %s', (_what, bad) => {
    expect(() => signNote(bad, goSignerKey)).toThrow(SigningError);
  });

  it('refuses invalid key names', () => {
    expect(() => generateSignerKey('bad name')).toThrow(SigningError);
    expect(() => generateSignerKey('a+b')).toThrow(SigningError);
  });
});
