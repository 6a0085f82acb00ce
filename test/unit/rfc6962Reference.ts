/**
 * Test-only reference implementations, written from the RFC text rather than from the
 * code under test: RFC 6962 §2.1 MTH and PATH, §2.1.2 PROOF/SUBPROOF, and a
 * merkletreejs tree configured as an RFC 6962 tree.
 */
import { createHash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';
import type { Rfc6962Hasher } from '../../src/verify/rfc6962';
import { rfc6962 } from '../../src/verify/rfc6962';

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export function unhex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Deterministic distinct leaf hashes for a tree of n leaves. */
export function syntheticLeafHashes(n: number, seed = 0, hasher: Rfc6962Hasher = rfc6962): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) out.push(hasher.leafHash(new TextEncoder().encode(`leaf ${seed} ${i}`)));
  return out;
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** RFC 6962 §2.1 definitions over leaf hashes, memoising subtree hashes by range. */
export class ReferenceTree {
  private readonly memo = new Map<string, Uint8Array>();

  constructor(
    readonly leafHashes: readonly Uint8Array[],
    private readonly hasher: Rfc6962Hasher = rfc6962,
  ) {}

  /** MTH(D[begin:end]). */
  mth(begin: number, end: number): Uint8Array {
    const n = end - begin;
    if (n === 0) return this.hasher.emptyRoot();
    if (n === 1) return this.leafHashes[begin] as Uint8Array;
    const key = `${begin}:${end}`;
    let hash = this.memo.get(key);
    if (hash === undefined) {
      const k = largestPowerOfTwoBelow(n);
      hash = this.hasher.nodeHash(this.mth(begin, begin + k), this.mth(begin + k, end));
      this.memo.set(key, hash);
    }
    return hash;
  }

  /** PATH(m, D[0:n]). */
  path(m: number, n: number, offset = 0): Uint8Array[] {
    if (n <= 1) return [];
    const k = largestPowerOfTwoBelow(n);
    if (m < k) return [...this.path(m, k, offset), this.mth(offset + k, offset + n)];
    return [...this.path(m - k, n - k, offset + k), this.mth(offset, offset + k)];
  }

  /** PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true). */
  proof(m: number, n: number): Uint8Array[] {
    return this.subproof(m, n, 0, true);
  }

  private subproof(m: number, n: number, offset: number, b: boolean): Uint8Array[] {
    if (m === n) return b ? [] : [this.mth(offset, offset + n)];
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) return [...this.subproof(m, k, offset, b), this.mth(offset + k, offset + n)];
    return [...this.subproof(m - k, n - k, offset + k, false), this.mth(offset, offset + k)];
  }
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/**
 * merkletreejs as an RFC 6962 tree: leaves given pre-hashed, 0x01 prepended to each
 * pair before hashing, and an odd last node promoted (not duplicated), which yields the
 * RFC's left-balanced shape.
 */
export function merkletreejsTree(leafHashes: readonly Uint8Array[]): MerkleTree {
  return new MerkleTree(
    leafHashes.map((h) => Buffer.from(h)),
    sha256,
    {
      hashLeaves: false,
      sortPairs: false,
      sortLeaves: false,
      duplicateOdd: false,
      isBitcoinTree: false,
      complete: false,
      concatenator: (inputs: Buffer[]) => Buffer.concat([Buffer.from([0x01]), ...inputs]),
    },
  );
}
