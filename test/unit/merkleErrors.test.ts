import { NodeCountError, ProofRangeError } from '../../src/merkle/errors';
import { consistencyNodes, consistencyProof, inclusionNodes, inclusionProof, rootHash, rootNodes } from '../../src/merkle/proof';
import { rfc6962 } from '../../src/verify/rfc6962';

describe('proof node ranges', () => {
  it.each([
    ['index = size', () => inclusionNodes(5, 5)],
    ['index > size', () => inclusionNodes(6, 5)],
    ['empty tree', () => inclusionNodes(0, 0)],
    ['negative index', () => inclusionNodes(-1, 5)],
    ['fractional size', () => inclusionNodes(0, 5.5)],
    ['unsafe size', () => inclusionNodes(0, 2 ** 53)],
    ['NaN', () => inclusionNodes(NaN, 5)],
    ['from > to', () => consistencyNodes(5, 4)],
    ['negative from', () => consistencyNodes(-1, 4)],
    ['unsafe to', () => consistencyNodes(1, Number.MAX_SAFE_INTEGER + 1)],
    ['negative root size', () => rootNodes(-1)],
  ])('throws ProofRangeError for %s', (_what, fn) => {
    expect(fn).toThrow(ProofRangeError);
    expect(fn).toThrow(RangeError);
  });

  it('has no nodes for trivial consistency proofs', () => {
    expect(consistencyNodes(0, 10).ids).toEqual([]);
    expect(consistencyNodes(10, 10).ids).toEqual([]);
    expect(rootNodes(0)).toEqual([]);
  });

  it('checks hash counts', async () => {
    const nodes = inclusionNodes(3, 7);
    expect(() => nodes.rehash([], rfc6962)).toThrow(NodeCountError);
    const shortReader = { readNodes: async () => [] as Uint8Array[] };
    await expect(inclusionProof(shortReader, 3, 7, rfc6962)).rejects.toThrow(NodeCountError);
    await expect(consistencyProof(shortReader, 3, 7, rfc6962)).rejects.toThrow(NodeCountError);
    await expect(rootHash(shortReader, 7, rfc6962)).rejects.toThrow(NodeCountError);
  });

  it('does not call the reader for the empty tree or trivial proofs', async () => {
    const reader = { readNodes: jest.fn(async () => [] as Uint8Array[]) };
    expect(await rootHash(reader, 0, rfc6962)).toEqual(rfc6962.emptyRoot());
    expect(await consistencyProof(reader, 4, 4, rfc6962)).toEqual([]);
    expect(await inclusionProof(reader, 0, 1, rfc6962)).toEqual([]);
    expect(reader.readNodes).not.toHaveBeenCalled();
  });
});
