import fc from 'fast-check';
import { CompactRange } from '../../src/merkle/compactRange';
import { NodeCountError, ProofRangeError } from '../../src/merkle/errors';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { nodeBegin, nodeEnd, type NodeId } from '../../src/merkle/nodeId';
import { rootNodes } from '../../src/merkle/proof';
import { rfc6962 } from '../../src/verify/rfc6962';
import { hex, ReferenceTree, syntheticLeafHashes } from './rfc6962Reference';

type Visit = string;
const describeVisit = (id: NodeId, hash: Uint8Array): Visit => `${id.level}/${id.index}=${hex(hash)}`;

/** Appends in the given batch sizes, recording every visited node and the root after each batch. */
function appendInBatches(leaves: readonly Uint8Array[], batches: readonly number[], start = CompactRange.empty()) {
  const visits: Visit[] = [];
  const roots = new Map<number, string>([[start.size, hex(start.root(nodeCryptoRfc6962))]]);
  let offset = start.size;
  for (const count of batches) {
    start.append(leaves.slice(offset, offset + count), nodeCryptoRfc6962, (id, hash) => visits.push(describeVisit(id, hash)));
    offset += count;
    roots.set(start.size, hex(start.root(nodeCryptoRfc6962)));
  }
  return { range: start, visits, roots };
}

function splitInto(total: number, cuts: readonly number[]): number[] {
  const points = [...new Set(cuts.map((c) => c % (total + 1)))].sort((a, b) => a - b);
  const sizes: number[] = [];
  let previous = 0;
  for (const p of [...points, total]) {
    sizes.push(p - previous);
    previous = p;
  }
  return sizes;
}

describe('CompactRange', () => {
  const leaves = syntheticLeafHashes(1500, 7, nodeCryptoRfc6962);
  const reference = new ReferenceTree(leaves, nodeCryptoRfc6962);
  const oneByOne = appendInBatches(leaves, Array(leaves.length).fill(1));

  it('has the RFC 6962 root at every size', () => {
    expect(hex(CompactRange.empty().root(rfc6962))).toBe(hex(rfc6962.emptyRoot()));
    for (const [size, root] of oneByOne.roots) expect([size, root]).toEqual([size, hex(reference.mth(0, size))]);
  });

  it('visits every complete subtree exactly once, with its RFC 6962 hash', () => {
    const expected: Visit[] = [];
    for (let level = 0; 2 ** level <= leaves.length; level++) {
      for (let index = 0; (index + 1) * 2 ** level <= leaves.length; index++) {
        const id = { level, index };
        expected.push(describeVisit(id, reference.mth(nodeBegin(id), nodeEnd(id))));
      }
    }
    expect([...oneByOne.visits].sort()).toEqual(expected.sort());
  });

  it('gives the same roots and visits whatever the batch split', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 12 }), (cuts) => {
        const batches = splitInto(leaves.length, cuts);
        const batched = appendInBatches(leaves, batches);
        expect(batched.visits).toEqual(oneByOne.visits);
        for (const [size, root] of batched.roots) expect(root).toBe(oneByOne.roots.get(size));
      }),
      { numRuns: 25 },
    );
  });

  it('restored from stored root nodes, continues like a continuous append', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: leaves.length }), fc.array(fc.nat(), { maxLength: 5 }), (cut, cuts) => {
        const first = appendInBatches(leaves, [cut]).range;
        const stored = first.nodes();
        expect(stored.ids).toEqual(rootNodes(cut));
        const restored = CompactRange.fromNodes(cut, stored.hashes);
        expect(hex(restored.root(rfc6962))).toBe(hex(reference.mth(0, cut)));
        const rest = appendInBatches(leaves, splitInto(leaves.length - cut, cuts), restored);
        expect(rest.visits).toEqual(oneByOne.visits.slice(oneByOne.visits.length - rest.visits.length));
        expect(hex(rest.range.root(rfc6962))).toBe(oneByOne.roots.get(leaves.length));
      }),
      { numRuns: 25 },
    );
  });

  it('restores from hashes read from a store keyed by node ID', () => {
    const size = 1234;
    const hashes = rootNodes(size).map((id) => reference.mth(nodeBegin(id), nodeEnd(id)));
    const range = CompactRange.fromNodes(size, hashes);
    range.append(leaves.slice(size), nodeCryptoRfc6962);
    expect(hex(range.root(rfc6962))).toBe(oneByOne.roots.get(leaves.length));
  });

  it('does not share its state with the arrays it was given or returned', () => {
    const hashes = rootNodes(5).map((id) => reference.mth(nodeBegin(id), nodeEnd(id)));
    const range = CompactRange.fromNodes(5, hashes);
    hashes.pop();
    range.nodes().hashes.pop();
    expect(hex(range.root(rfc6962))).toBe(hex(reference.mth(0, 5)));
  });

  it('rejects inconsistent restore input', () => {
    expect(() => CompactRange.fromNodes(5, [leaves[0] as Uint8Array])).toThrow(NodeCountError);
    expect(() => CompactRange.fromNodes(-1, [])).toThrow(ProofRangeError);
    expect(() => CompactRange.fromNodes(1.5, [])).toThrow(ProofRangeError);
  });
});
