/**
 * Trees up to Number.MAX_SAFE_INTEGER leaves, where the 32-bit JavaScript bit operators
 * would silently go wrong. Every leaf is the same, so every perfect subtree of a level
 * has the same hash and any node of a 2^53-leaf tree costs one lookup.
 */
import fc from 'fast-check';
import { CompactRange } from '../../src/merkle/compactRange';
import { nodeEnd } from '../../src/merkle/nodeId';
import { consistencyNodes, consistencyProof, inclusionNodes, inclusionProof, rootFromNodes, rootNodes, type SubtreeReader } from '../../src/merkle/proof';
import { verifyConsistency } from '../../src/verify/consistency';
import { verifyInclusion } from '../../src/verify/inclusion';
import { rfc6962 } from '../../src/verify/rfc6962';

const levelHashes: Uint8Array[] = [rfc6962.leafHash(new TextEncoder().encode('uniform'))];
for (let level = 1; level <= 53; level++) {
  const below = levelHashes[level - 1] as Uint8Array;
  levelHashes.push(rfc6962.nodeHash(below, below));
}

function uniformReader(size: number): SubtreeReader {
  return {
    async readNodes(ids) {
      return ids.map((id) => {
        if (nodeEnd(id) > size) throw new Error(`incomplete node ${id.level}/${id.index} for size ${size}`);
        return levelHashes[id.level] as Uint8Array;
      });
    },
  };
}

const uniformRoot = (size: number): Uint8Array =>
  rootFromNodes(rootNodes(size).map((id) => levelHashes[id.level] as Uint8Array), rfc6962);

const popcount = (x: bigint): number => [...x.toString(2)].filter((c) => c === '1').length;
const bitLen = (x: bigint): number => (x === 0n ? 0 : x.toString(2).length);

const largeSize = fc.oneof(
  fc.integer({ min: 2 ** 31 - 2, max: 2 ** 33 }),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 52, 2 ** 52 + 1, 2 ** 32, 2 ** 32 + 1, 10 ** 15),
);

describe('trees with up to 2^53 - 1 leaves', () => {
  it('rootNodes follows the set bits of the size', () => {
    fc.assert(
      fc.property(largeSize, (size) => {
        const levels = rootNodes(size).map((id) => id.level);
        const expected = [...BigInt(size).toString(2)].map((c, i, all) => (c === '1' ? all.length - 1 - i : -1)).filter((l) => l >= 0);
        expect(levels).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('inclusion proofs have the RFC length, complete nodes, and verify', async () => {
    await fc.assert(
      fc.asyncProperty(largeSize, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), async (size, p) => {
        const index = Math.min(size - 1, Math.floor(p * size));
        const inner = bitLen(BigInt(index) ^ BigInt(size - 1));
        const expectedLength = inner + popcount(BigInt(index) >> BigInt(inner));
        const proof = await inclusionProof(uniformReader(size), index, size, rfc6962);
        expect(proof).toHaveLength(expectedLength);
        verifyInclusion({ leafHash: levelHashes[0] as Uint8Array, leafIndex: index, treeSize: size, proof, rootHash: uniformRoot(size) });
        expect(inclusionNodes(index, size).ids.every((id) => nodeEnd(id) <= size)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('consistency proofs verify between large sizes', async () => {
    await fc.assert(
      fc.asyncProperty(largeSize, fc.double({ min: 0, max: 1, noNaN: true }), async (toSize, p) => {
        const fromSize = Math.floor(p * toSize);
        const proof = await consistencyProof(uniformReader(toSize), fromSize, toSize, rfc6962);
        verifyConsistency({ fromSize, toSize, fromRoot: uniformRoot(fromSize), toRoot: uniformRoot(toSize), proof });
        expect(consistencyNodes(fromSize, toSize).ids.every((id) => nodeEnd(id) <= toSize)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('a compact range restored near 2^53 appends to the right root', () => {
    const size = Number.MAX_SAFE_INTEGER - 5;
    const range = CompactRange.fromNodes(size, rootNodes(size).map((id) => levelHashes[id.level] as Uint8Array));
    range.append([levelHashes[0], levelHashes[0], levelHashes[0]] as Uint8Array[], rfc6962);
    expect(range.size).toBe(size + 3);
    expect(Buffer.from(range.root(rfc6962)).equals(uniformRoot(size + 3))).toBe(true);
    expect(() => range.append(Array(3).fill(levelHashes[0]), rfc6962)).toThrow(RangeError);
  });
});
