import fc from 'fast-check';
import { CompactRange } from '../../src/merkle/compactRange';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { nodeBegin, nodeEnd } from '../../src/merkle/nodeId';
import { consistencyNodes, consistencyProof, inclusionNodes, inclusionProof, inclusionProofs, inclusionProofsWithLeaves, rootHash, type SubtreeReader } from '../../src/merkle/proof';
import { verifyConsistency } from '../../src/verify/consistency';
import { verifyInclusion } from '../../src/verify/inclusion';
import { rfc6962 } from '../../src/verify/rfc6962';
import { hex, merkletreejsTree, ReferenceTree, syntheticLeafHashes } from './rfc6962Reference';

/** Serves reference subtree hashes, failing the test on any incomplete or out-of-tree node. */
function referenceReader(tree: ReferenceTree, size: number): SubtreeReader & { reads: number } {
  const reader = {
    reads: 0,
    async readNodes(ids: readonly { level: number; index: number }[]) {
      reader.reads += ids.length;
      return ids.map((id) => {
        if (nodeEnd(id) > size) throw new Error(`node ${id.level}/${id.index} is not complete in a tree of size ${size}`);
        return tree.mth(nodeBegin(id), nodeEnd(id));
      });
    },
  };
  return reader;
}

describe('proof generation against RFC 6962 §2.1 (exhaustive for small trees)', () => {
  const leaves = syntheticLeafHashes(40);
  const tree = new ReferenceTree(leaves);

  it('inclusion proofs match PATH(m, D[n]) for every leaf of every size up to 40', async () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 0; m < n; m++) {
        const proof = await inclusionProof(referenceReader(tree, n), m, n, rfc6962);
        expect([n, m, proof.map(hex)]).toEqual([n, m, tree.path(m, n).map(hex)]);
      }
    }
  });

  it('batched inclusion proofs (exports) match PATH(m, D[n]) and carry the stored leaf hash, in one read', async () => {
    for (let n = 1; n <= 40; n++) {
      const indices = Array.from({ length: n }, (_, m) => m).filter((m) => m % 3 !== 1);
      const reader = referenceReader(tree, n);
      const proofs = await inclusionProofsWithLeaves(reader, indices, n, rfc6962);
      expect(proofs.map((p) => [hex(p.leafHash), p.hashes.map(hex)])).toEqual(indices.map((m) => [hex(leaves[m]!), tree.path(m, n).map(hex)]));
    }
    await expect(inclusionProofsWithLeaves(referenceReader(tree, 5), [4, 5], 5, rfc6962)).rejects.toThrow(/out of bounds/);
  });

  it("a batch's inclusion proofs (receipts) match PATH(m, D[n]) for any set of leaves, duplicates included, in one read", async () => {
    for (let n = 1; n <= 40; n++) {
      // A batch at the right edge, plus an older leaf (a replayed idempotent retry) and a repeat.
      const indices = [...Array.from({ length: Math.min(n, 7) }, (_, k) => n - 1 - k).reverse(), 0, n - 1];
      let reads = 0;
      const inner = referenceReader(tree, n);
      const reader: SubtreeReader = { readNodes: (ids) => (reads++, inner.readNodes(ids)) };
      const proofs = await inclusionProofs(reader, indices, n, rfc6962);
      expect(proofs.map((p) => p.map(hex))).toEqual(indices.map((m) => tree.path(m, n).map(hex)));
      expect(reads).toBeLessThanOrEqual(1);
    }
    await expect(inclusionProofs(referenceReader(tree, 5), [5], 5, rfc6962)).rejects.toThrow(/out of bounds/);
  });

  it('consistency proofs match PROOF(m, D[n]) for every pair up to 40', async () => {
    for (let n = 1; n <= 40; n++) {
      for (let m = 1; m < n; m++) {
        const proof = await consistencyProof(referenceReader(tree, n), m, n, rfc6962);
        expect([m, n, proof.map(hex)]).toEqual([m, n, tree.proof(m, n).map(hex)]);
        verifyConsistency({ fromSize: m, toSize: n, fromRoot: tree.mth(0, m), toRoot: tree.mth(0, n), proof });
      }
    }
  });

  it('reads O(log n) nodes', () => {
    for (const n of [1, 7, 1000, 2 ** 20 + 1, 10 ** 9, Number.MAX_SAFE_INTEGER]) {
      const bound = 2 * Math.ceil(Math.log2(n + 1)) + 1;
      expect(inclusionNodes(n - 1, n).ids.length).toBeLessThanOrEqual(bound);
      expect(inclusionNodes(0, n).ids.length).toBeLessThanOrEqual(bound);
      expect(consistencyNodes(Math.floor(n / 3), n).ids.length).toBeLessThanOrEqual(bound);
    }
  });
});

describe('random trees against merkletreejs and the RFC reference', () => {
  const treeArb = fc.record({
    size: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 3000 })),
    seed: fc.nat(),
    picks: fc.array(fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), { minLength: 1, maxLength: 6 }),
  });

  it('roots, inclusion and consistency proofs agree', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, async ({ size, seed, picks }) => {
        const leaves = syntheticLeafHashes(size, seed, nodeCryptoRfc6962);
        const tree = new ReferenceTree(leaves, nodeCryptoRfc6962);
        const mt = merkletreejsTree(leaves);
        const reader = referenceReader(tree, size);
        const root = tree.mth(0, size);

        const range = CompactRange.empty();
        range.append(leaves, nodeCryptoRfc6962);
        expect(hex(range.root(rfc6962))).toBe(hex(root));
        expect(hex(mt.getRoot())).toBe(hex(root));
        expect(hex(await rootHash(reader, size, rfc6962))).toBe(hex(root));

        const indices = [0, size - 1, ...picks.map((p) => Math.floor(p * size))];
        for (const index of indices) {
          const proof = await inclusionProof(reader, index, size, nodeCryptoRfc6962);
          const expected = mt.getProof(Buffer.from(leaves[index] as Uint8Array), index).map((p) => hex(p.data));
          expect(proof.map(hex)).toEqual(expected);
          verifyInclusion({ leafHash: leaves[index] as Uint8Array, leafIndex: index, treeSize: size, proof, rootHash: root });
        }

        for (const fromSize of [0, 1, size, ...picks.map((p) => Math.floor(p * size))]) {
          const proof = await consistencyProof(reader, fromSize, size, nodeCryptoRfc6962);
          if (fromSize > 0 && fromSize < size) expect(proof.map(hex)).toEqual(tree.proof(fromSize, size).map(hex));
          verifyConsistency({ fromSize, toSize: size, fromRoot: tree.mth(0, fromSize), toRoot: root, proof });
        }
      }),
      { numRuns: 30 },
    );
  });
});
