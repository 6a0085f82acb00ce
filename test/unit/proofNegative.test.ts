import vectors from '../fixtures/rfc6962-vectors.json';
import { verifyConsistency, type ConsistencyVerificationInput } from '../../src/verify/consistency';
import { VerificationError } from '../../src/verify/errors';
import { verifyInclusion, type InclusionVerificationInput } from '../../src/verify/inclusion';
import { unhex } from './rfc6962Reference';

const leafHashes = vectors.leafHashes.map(unhex);
const rootOf = (size: number): Uint8Array => unhex((vectors.roots as Record<string, string>)[String(size)] as string);

function flipBit(bytes: Uint8Array, bit: number): Uint8Array {
  const out = bytes.slice();
  out[bit >> 3] = (out[bit >> 3] as number) ^ (1 << (bit & 7));
  return out;
}

function* singleBitFlips(hash: Uint8Array): Generator<Uint8Array> {
  for (let bit = 0; bit < hash.length * 8; bit++) yield flipBit(hash, bit);
}

/** Every structural mutation of a proof that must not verify. */
function* proofMutations(proof: readonly Uint8Array[]): Generator<[string, Uint8Array[]]> {
  for (let i = 0; i < proof.length; i++) {
    for (const flipped of singleBitFlips(proof[i] as Uint8Array)) {
      yield [`bit flip in proof[${i}]`, proof.map((h, j) => (j === i ? flipped : h))];
    }
  }
  if (proof.length > 0) {
    yield ['truncated at the end', proof.slice(0, -1)];
    yield ['truncated at the start', proof.slice(1)];
  }
  yield ['extended with a copy', [...proof, proof[0] ?? leafHashes[0]!]];
  yield ['extended with zeros', [...proof, new Uint8Array(32)]];
  yield ['prefixed', [new Uint8Array(32), ...proof]];
  for (let i = 0; i + 1 < proof.length; i++) {
    const swapped = [...proof];
    [swapped[i], swapped[i + 1]] = [swapped[i + 1] as Uint8Array, swapped[i] as Uint8Array];
    yield [`swapped ${i} and ${i + 1}`, swapped];
  }
  yield ['reversed', [...proof].reverse()];
}

function sameHashes(a: readonly Uint8Array[], b: readonly Uint8Array[]): boolean {
  return a.length === b.length && a.every((h, i) => Buffer.from(h).equals(b[i] as Uint8Array));
}

function rejects(fn: () => void): boolean {
  try {
    fn();
    return false;
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    return true;
  }
}

describe('inclusion proofs reject tampering', () => {
  it.each(vectors.inclusion)('leaf $leafIndex of $treeSize', ({ leafIndex, treeSize, proof: hexProof }) => {
    const proof = hexProof.map(unhex);
    const valid: InclusionVerificationInput = {
      leafHash: leafHashes[leafIndex] as Uint8Array,
      leafIndex,
      treeSize,
      proof,
      rootHash: rootOf(treeSize),
    };
    verifyInclusion(valid);
    // Collected rather than asserted one by one: tens of thousands of expect() calls are slow.
    const accepted: string[] = [];
    for (const [what, mutated] of proofMutations(proof)) {
      if (sameHashes(mutated, proof)) continue; // e.g. reversing a one-hash proof
      if (!rejects(() => verifyInclusion({ ...valid, proof: mutated }))) accepted.push(what);
    }
    for (const leafHash of singleBitFlips(valid.leafHash)) if (!rejects(() => verifyInclusion({ ...valid, leafHash }))) accepted.push('leaf flip');
    for (const rootHash of singleBitFlips(valid.rootHash)) if (!rejects(() => verifyInclusion({ ...valid, rootHash }))) accepted.push('root flip');
    expect(accepted).toEqual([]);
    for (let other = 0; other < 10; other++) {
      if (other !== leafIndex) expect(rejects(() => verifyInclusion({ ...valid, leafIndex: other }))).toBe(true);
    }
    // A different leaf at the same position.
    for (const other of leafHashes) {
      if (other !== valid.leafHash) expect(rejects(() => verifyInclusion({ ...valid, leafHash: other }))).toBe(true);
    }
  });

  it('binds the tree size to the proof shape', () => {
    // The same hashes can be a valid proof in two tree sizes only if the leaf sits on the
    // same path in both (e.g. leaf 0 in sizes 3 and 4); the signed checkpoint binds size
    // and root, so that is harmless. Everywhere else, a wrong size must fail.
    for (const { leafIndex, treeSize, proof } of vectors.inclusion) {
      for (let size = 1; size <= 8; size++) {
        if (size === treeSize) continue;
        const input = { leafHash: leafHashes[leafIndex] as Uint8Array, leafIndex, treeSize: size, proof: proof.map(unhex), rootHash: rootOf(treeSize) };
        const samePath = leafIndex < size && pathShape(leafIndex, size) === pathShape(leafIndex, treeSize);
        expect([leafIndex, treeSize, size, rejects(() => verifyInclusion(input))]).toEqual([leafIndex, treeSize, size, !samePath]);
      }
    }
  });

  it('rejects the proof against the root of any other tree size', () => {
    for (const { leafIndex, treeSize, proof } of vectors.inclusion) {
      for (let size = leafIndex + 1; size <= 8; size++) {
        if (size === treeSize) continue;
        const input = { leafHash: leafHashes[leafIndex] as Uint8Array, leafIndex, treeSize: size, proof: proof.map(unhex), rootHash: rootOf(size) };
        expect([leafIndex, treeSize, size, rejects(() => verifyInclusion(input))]).toEqual([leafIndex, treeSize, size, true]);
      }
    }
  });
});

/** Left/right turns from the leaf up to the root, per RFC 6962's PATH recursion. */
function pathShape(m: number, n: number): string {
  if (n <= 1) return '';
  let k = 1;
  while (k * 2 < n) k *= 2;
  return m < k ? `${pathShape(m, k)}L` : `${pathShape(m - k, n - k)}R`;
}

describe('consistency proofs reject tampering', () => {
  it.each(vectors.consistency)('from $fromSize to $toSize', ({ fromSize, toSize, proof: hexProof }) => {
    const proof = hexProof.map(unhex);
    const valid: ConsistencyVerificationInput = { fromSize, toSize, fromRoot: rootOf(fromSize), toRoot: rootOf(toSize), proof };
    verifyConsistency(valid);
    const accepted: string[] = [];
    for (const [what, mutated] of proofMutations(proof)) {
      if (sameHashes(mutated, proof)) continue;
      if (!rejects(() => verifyConsistency({ ...valid, proof: mutated }))) accepted.push(what);
    }
    for (const fromRoot of singleBitFlips(valid.fromRoot)) if (!rejects(() => verifyConsistency({ ...valid, fromRoot }))) accepted.push('from flip');
    for (const toRoot of singleBitFlips(valid.toRoot)) if (!rejects(() => verifyConsistency({ ...valid, toRoot }))) accepted.push('to flip');
    expect(accepted).toEqual([]);
    expect(rejects(() => verifyConsistency({ ...valid, fromRoot: valid.toRoot, toRoot: valid.fromRoot }))).toBe(fromSize !== toSize);
  });

  it('rejects the proof between the checkpoints of any other pair of sizes', () => {
    // Consistency proofs do not encode the sizes: the hashes for 4->8 also "prove" 1->2
    // if the verifier is handed root4 and root8 as the roots of sizes 1 and 2. Sizes and
    // roots come together from signed checkpoints, so the meaningful check is that a
    // proof for one pair never verifies between the true roots of another pair.
    const proofFor = new Map(vectors.consistency.map((v) => [`${v.fromSize}->${v.toSize}`, v.proof.join()]));
    for (const { fromSize, toSize, proof } of vectors.consistency) {
      for (let m = 1; m <= 8; m++) {
        for (let n = m; n <= 8; n++) {
          if (m === fromSize && n === toSize) continue;
          const input = { fromSize: m, toSize: n, fromRoot: rootOf(m), toRoot: rootOf(n), proof: proof.map(unhex) };
          const identical = proofFor.get(`${m}->${n}`) === proof.join();
          expect([fromSize, toSize, m, n, rejects(() => verifyConsistency(input))]).toEqual([fromSize, toSize, m, n, !identical]);
        }
      }
    }
  });

  it('rejects fromSize > toSize even with an empty proof', () => {
    expect(() => verifyConsistency({ fromSize: 5, toSize: 4, fromRoot: rootOf(5), toRoot: rootOf(4), proof: [] })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('requires equal roots and an empty proof for equal sizes', () => {
    expect(() => verifyConsistency({ fromSize: 4, toSize: 4, fromRoot: rootOf(4), toRoot: rootOf(5), proof: [] })).toThrow(
      expect.objectContaining({ code: 'ROOT_MISMATCH' }),
    );
    expect(() =>
      verifyConsistency({ fromSize: 4, toSize: 4, fromRoot: rootOf(4), toRoot: rootOf(4), proof: [rootOf(4)] }),
    ).toThrow(expect.objectContaining({ code: 'PROOF_SIZE' }));
  });
});

describe('argument validation', () => {
  const base: InclusionVerificationInput = {
    leafHash: leafHashes[2] as Uint8Array,
    leafIndex: 2,
    treeSize: 3,
    proof: [rootOf(2)],
    rootHash: rootOf(3),
  };
  const badNumbers: unknown[] = [-1, 1.5, NaN, Infinity, 2 ** 53, Number.MAX_SAFE_INTEGER + 2, '2', 2n, null, undefined];

  it.each(badNumbers)('rejects %p as an index or size', (bad) => {
    for (const field of ['leafIndex', 'treeSize'] as const) {
      expect(() => verifyInclusion({ ...base, [field]: bad as number })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    const consistency = { fromSize: 2, toSize: 3, fromRoot: rootOf(2), toRoot: rootOf(3), proof: [leafHashes[2] as Uint8Array] };
    verifyConsistency(consistency);
    for (const field of ['fromSize', 'toSize'] as const) {
      expect(() => verifyConsistency({ ...consistency, [field]: bad as number })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('rejects index >= size', () => {
    expect(() => verifyInclusion({ ...base, leafIndex: 3 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => verifyInclusion({ ...base, leafIndex: 0, treeSize: 0, proof: [] })).toThrow(VerificationError);
  });

  it('rejects hashes that are not 32-byte Uint8Arrays', () => {
    const bad: unknown[] = [new Uint8Array(31), new Uint8Array(33), Array.from(base.leafHash), 'ab'.repeat(32), undefined];
    for (const value of bad) {
      expect(() => verifyInclusion({ ...base, leafHash: value as Uint8Array })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => verifyInclusion({ ...base, rootHash: value as Uint8Array })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
      expect(() => verifyInclusion({ ...base, proof: [value as Uint8Array] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(() => verifyInclusion({ ...base, proof: 'nope' as unknown as Uint8Array[] })).toThrow(VerificationError);
  });

  it('accepts Buffer hashes as Uint8Arrays', () => {
    verifyInclusion({ ...base, leafHash: Buffer.from(base.leafHash), proof: base.proof.map((h) => Buffer.from(h)) });
  });
});
