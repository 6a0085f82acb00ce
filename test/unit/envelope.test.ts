import { createHmac } from 'node:crypto';
import { blindIndex, isBlind, isSealedLeaf, KeyError, localKek, newKey, openLeaf, openSecret, sealLeaf, sealSecret, secretKey } from '../../src/lifecycle/envelope';
import { parseKek, formatKekFile } from '../../src/lifecycle/kekFile';

describe('envelope encryption', () => {
  const dek = newKey();

  it('seals and opens a leaf bound to its position and id', () => {
    const sealed = sealLeaf(dek, 7, 'evt-1', '{"a":"secret"}');
    expect(isSealedLeaf(sealed)).toBe(true);
    expect(sealed).not.toContain('secret');
    expect(openLeaf(dek, 7, 'evt-1', sealed)).toBe('{"a":"secret"}');
    expect(() => openLeaf(dek, 8, 'evt-1', sealed)).toThrow(KeyError);
    expect(() => openLeaf(dek, 7, 'evt-2', sealed)).toThrow(KeyError);
    expect(() => openLeaf(newKey(), 7, 'evt-1', sealed)).toThrow(KeyError);
  });

  it('wraps keys under a KEK for one purpose, and another KEK cannot unwrap them', () => {
    const kek = localKek(newKey());
    const wrapped = kek.wrap(dek, 'dek:evt-1');
    expect(Buffer.from(kek.unwrap(wrapped, 'dek:evt-1'))).toEqual(Buffer.from(dek));
    expect(() => kek.unwrap(wrapped, 'dek:evt-2')).toThrow(KeyError);
    expect(() => localKek(newKey()).unwrap(wrapped, 'dek:evt-1')).toThrow(/cannot unwrap/);
    expect(kek.id).toMatch(/^[0-9a-f]{16}$/);
  });

  it('seals a stored secret for one purpose under a key derived from the search key (never the search key itself)', () => {
    const searchKey = newKey();
    const key = secretKey(searchKey);
    expect(Buffer.from(key)).toEqual(Buffer.from(secretKey(searchKey)));
    expect(Buffer.from(key)).not.toEqual(Buffer.from(searchKey));
    const sealed = sealSecret(key, 'webhook:w-1', 'whsec_abc');
    expect(sealed).toMatch(/^sealed1:/);
    expect(sealed).not.toBe(sealSecret(key, 'webhook:w-1', 'whsec_abc'));
    expect(openSecret(key, 'webhook:w-1', sealed)).toBe('whsec_abc');
    expect(() => openSecret(key, 'webhook:w-2', sealed)).toThrow(/sealed webhook:w-2 secret does not open/);
    expect(() => openSecret(secretKey(newKey()), 'webhook:w-1', sealed)).toThrow(KeyError);
    expect(() => openSecret(searchKey, 'webhook:w-1', sealed)).toThrow(KeyError);
    expect(() => openSecret(key, 'webhook:w-1', 'whsec_abc')).toThrow(/is not sealed/);
    expect(() => openSecret(key, 'webhook:w-1', `${sealed.slice(0, -4)}AAA=`)).toThrow(KeyError);
  });

  it.each([1, 2] as const)('computes blind indexes (format %i) per field under the search key', (version) => {
    const key = newKey();
    const blind = (k: Uint8Array, field: 'actor.id' | 'target.id', value: string): string => blindIndex(k, field, value, version);
    expect(blind(key, 'actor.id', 'u-1')).toBe(blind(key, 'actor.id', 'u-1'));
    expect(blind(key, 'actor.id', 'u-1')).not.toBe(blind(key, 'target.id', 'u-1'));
    expect(blind(key, 'actor.id', 'u-1')).not.toBe(blind(newKey(), 'actor.id', 'u-1'));
    expect(blind(key, 'actor.id', 'u-1')).toMatch(version === 1 ? /^b1:[0-9a-f]{64}$/ : /^b2:[\w-]{22}$/);
    expect(isBlind(blind(key, 'actor.id', 'u-1'))).toBe(true);
  });

  it('keeps format 1 blind indexes as they were, and tells blind values from clear ones', () => {
    const key = Buffer.alloc(32, 7);
    // Stored format-1 values must keep matching what the server computes for a search.
    expect(blindIndex(key, 'actor.id', 'u-1', 1)).toBe('b1:' + createHmac('sha256', key).update('actor.id\0u-1').digest('hex'));
    expect(blindIndex(key, 'actor.id', 'u-1', 2).slice(3)).toBe(Buffer.from(blindIndex(key, 'actor.id', 'u-1', 1).slice(3, 35), 'hex').toString('base64url'));
    expect(isBlind('user-1')).toBe(false);
    expect(isBlind('b2:short')).toBe(false);
  });

  it('reads key files and refuses anything else', () => {
    const key = newKey();
    expect(Buffer.from(parseKek(formatKekFile(key), 'f'))).toEqual(Buffer.from(key));
    expect(Buffer.from(parseKek(Buffer.from(key).toString('base64'), 'env'))).toEqual(Buffer.from(key));
    expect(() => parseKek('AUDIT-LEDGER-KEK-V1+AAAA', 'f')).toThrow(/does not hold/);
  });
});
