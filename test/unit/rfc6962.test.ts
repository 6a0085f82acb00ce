import vectors from '../fixtures/rfc6962-vectors.json';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { rootFromNodes, rootNodes } from '../../src/merkle/proof';
import { emptyRoot, leafHash, nodeHash, rfc6962, type Rfc6962Hasher } from '../../src/verify/rfc6962';
import { hex, ReferenceTree, syntheticLeafHashes, unhex } from './rfc6962Reference';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.each<[string, Rfc6962Hasher]>([
  ['noble', rfc6962],
  ['node:crypto', nodeCryptoRfc6962],
])('RFC 6962 hasher (%s)', (_name, hasher) => {
  it('hashes the vector leaves', () => {
    vectors.leaves.forEach((leaf, i) => {
      expect(hex(hasher.leafHash(unhex(leaf)))).toBe(vectors.leafHashes[i]);
    });
  });

  it('matches the hasher vectors', () => {
    expect(hex(hasher.leafHash(utf8('L123456')))).toBe(vectors.hasher["leafHash('L123456')"]);
    expect(hex(hasher.nodeHash(utf8('N123'), utf8('N456')))).toBe(vectors.hasher["nodeHash('N123','N456')"]);
  });

  it('has the empty root SHA-256("")', () => {
    expect(hex(hasher.emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('returns plain Uint8Arrays', () => {
    expect(Object.getPrototypeOf(hasher.nodeHash(new Uint8Array(32), new Uint8Array(32)))).toBe(Uint8Array.prototype);
    expect(Object.getPrototypeOf(hasher.leafHash(new Uint8Array(0)))).toBe(Uint8Array.prototype);
  });

  it('builds the vector roots from root nodes', () => {
    for (const [size, root] of Object.entries(vectors.roots)) {
      const n = Number(size);
      const reference = new ReferenceTree(vectors.leafHashes.map(unhex), hasher);
      const hashes = rootNodes(n).map((id) => reference.mth(id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level));
      expect(hex(rootFromNodes(hashes, hasher))).toBe(root);
      expect(hex(reference.mth(0, n))).toBe(root);
    }
  });
});

describe('hasher agreement', () => {
  it('noble and node:crypto agree on random inputs', () => {
    const leaves = syntheticLeafHashes(64);
    for (let i = 0; i + 1 < leaves.length; i++) {
      const a = leaves[i] as Uint8Array;
      const b = leaves[i + 1] as Uint8Array;
      expect(hex(nodeCryptoRfc6962.nodeHash(a, b))).toBe(hex(nodeHash(a, b)));
      expect(hex(nodeCryptoRfc6962.leafHash(a.subarray(0, i)))).toBe(hex(leafHash(a.subarray(0, i))));
    }
    expect(hex(nodeCryptoRfc6962.emptyRoot())).toBe(hex(emptyRoot()));
  });

  it('hashes a whole layer as noble hashes each pair, into a view of a larger buffer', () => {
    const leaves = syntheticLeafHashes(256);
    const below = new Uint8Array(256 * 32);
    leaves.forEach((h, i) => below.set(h, i * 32));
    for (const count of [1, 2, 37, 128]) {
      // A view with bytes on both sides, as a tile's layers are: nothing outside it may change.
      const whole = new Uint8Array((count + 2) * 32).fill(0xee);
      const into = whole.subarray(32, 32 + count * 32);
      nodeCryptoRfc6962.parentLayer(below, into, count);
      for (let j = 0; j < count; j++) expect(hex(into.subarray(j * 32, j * 32 + 32))).toBe(hex(nodeHash(leaves[2 * j]!, leaves[2 * j + 1]!)));
      expect(whole.subarray(0, 32).every((b) => b === 0xee) && whole.subarray(32 + count * 32).every((b) => b === 0xee)).toBe(true);
    }
  });

  it('refuses a layer that does not fit', () => {
    expect(() => nodeCryptoRfc6962.parentLayer(new Uint8Array(3 * 32), new Uint8Array(2 * 32), 2)).toThrow(RangeError);
    expect(() => nodeCryptoRfc6962.parentLayer(new Uint8Array(4 * 32), new Uint8Array(32), 2)).toThrow(RangeError);
  });

  it('does not let callers corrupt the cached empty root', () => {
    nodeCryptoRfc6962.emptyRoot().fill(0);
    expect(hex(nodeCryptoRfc6962.emptyRoot())).toBe(hex(emptyRoot()));
  });
});
