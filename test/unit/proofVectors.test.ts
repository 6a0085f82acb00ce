import vectors from '../fixtures/rfc6962-vectors.json';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { consistencyProof, inclusionProof, rootHash, type SubtreeReader } from '../../src/merkle/proof';
import { nodeEnd } from '../../src/merkle/nodeId';
import { verifyConsistency } from '../../src/verify/consistency';
import { verifyInclusion } from '../../src/verify/inclusion';
import { rfc6962, type Rfc6962Hasher } from '../../src/verify/rfc6962';
import { hex, ReferenceTree, unhex } from './rfc6962Reference';

const leafHashes = vectors.leafHashes.map(unhex);
const roots = new Map(Object.entries(vectors.roots).map(([size, root]) => [Number(size), unhex(root)]));
const rootOf = (size: number): Uint8Array => roots.get(size) as Uint8Array;

/** A reader over the 8 vector leaves that refuses anything but complete subtrees of the tree. */
function vectorReader(size: number): SubtreeReader {
  const tree = new ReferenceTree(leafHashes);
  return {
    async readNodes(ids) {
      return ids.map((id) => {
        expect(nodeEnd(id)).toBeLessThanOrEqual(size);
        return tree.mth(id.index * 2 ** id.level, nodeEnd(id));
      });
    },
  };
}

describe.each<[string, Rfc6962Hasher]>([
  ['noble', rfc6962],
  ['node:crypto', nodeCryptoRfc6962],
])('RFC 6962 vectors with the %s hasher', (_name, hasher) => {
  it('covers every inclusion and consistency pair up to size 8', () => {
    expect(vectors.inclusion).toHaveLength(36);
    expect(vectors.consistency).toHaveLength(36);
  });

  it.each(vectors.inclusion)('inclusion of leaf $leafIndex in tree of size $treeSize', async ({ leafIndex, treeSize, proof }) => {
    const expected = proof.map(unhex);
    verifyInclusion(
      { leafHash: leafHashes[leafIndex] as Uint8Array, leafIndex, treeSize, proof: expected, rootHash: rootOf(treeSize) },
      hasher,
    );
    const generated = await inclusionProof(vectorReader(treeSize), leafIndex, treeSize, hasher);
    expect(generated.map(hex)).toEqual(proof);
  });

  it.each(vectors.consistency)('consistency from $fromSize to $toSize', async ({ fromSize, toSize, proof }) => {
    const expected = proof.map(unhex);
    verifyConsistency({ fromSize, toSize, fromRoot: rootOf(fromSize), toRoot: rootOf(toSize), proof: expected }, hasher);
    const generated = await consistencyProof(vectorReader(toSize), fromSize, toSize, hasher);
    expect(generated.map(hex)).toEqual(proof);
  });

  it('computes every vector root from stored nodes', async () => {
    for (const [size, root] of roots) {
      expect(hex(await rootHash(vectorReader(size), size, hasher))).toBe(hex(root));
    }
  });
});

describe('consistency from the empty tree', () => {
  const empty = rfc6962.emptyRoot();

  it('accepts an empty proof from size 0 to any size', () => {
    for (const [size, root] of roots) verifyConsistency({ fromSize: 0, toSize: size, fromRoot: empty, toRoot: root, proof: [] });
  });

  it('rejects a non-empty proof, or a size-0 root that is not the empty root', () => {
    expect(() =>
      verifyConsistency({ fromSize: 0, toSize: 3, fromRoot: empty, toRoot: rootOf(3), proof: [rootOf(1)] }),
    ).toThrow(expect.objectContaining({ code: 'PROOF_SIZE' }));
    expect(() => verifyConsistency({ fromSize: 0, toSize: 3, fromRoot: rootOf(1), toRoot: rootOf(3), proof: [] })).toThrow(
      expect.objectContaining({ code: 'ROOT_MISMATCH' }),
    );
  });

  it('generates an empty proof', async () => {
    expect(await consistencyProof(vectorReader(5), 0, 5, rfc6962)).toEqual([]);
  });
});
