import { randomBytes } from 'node:crypto';
import { CompactRange } from '../../src/merkle/compactRange';
import { nodeCryptoRfc6962 as hasher } from '../../src/merkle/nodeHasher';
import type { NodeId } from '../../src/merkle/nodeId';
import { inclusionProof, rootHash } from '../../src/merkle/proof';
import { type TileDoc, TileStore } from '../../src/log/tileStore';
import { bytesToHex, verifyInclusion } from '../../src/verify';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

describe('hash tiles in the real engine', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('tiles');
  });
  afterAll(async () => t.dispose());

  it('keep every subtree hash through appends in odd batches while reads churn a tiny cache', async () => {
    // A two-tile cache forces evictions between and within writes.
    const store = new TileStore(t.db.collection<TileDoc>('tiles'), hasher, 2);
    const range = CompactRange.empty();
    const leaves: Uint8Array[] = [];
    let seed = 7;
    const next = (max: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % max;
    while (range.size < 70_000) {
      const batch = Array.from({ length: 1 + next(3000) }, () => hasher.leafHash(randomBytes(8)));
      const completed: { id: NodeId; hash: Uint8Array }[] = [];
      range.append(batch, hasher, (id, hash) => completed.push({ id, hash }));
      leaves.push(...batch);
      await store.write(completed);
      const reads = Array.from({ length: 4 }, () => ({ level: 0, index: next(range.size) }));
      const got = await store.readNodes(reads);
      got.forEach((h, i) => expect(bytesToHex(h)).toBe(bytesToHex(leaves[reads[i]!.index]!)));
    }
    const size = range.size;
    const root = range.root(hasher);
    // A fresh store (empty cache) sees the same tree from the database alone.
    const fresh = new TileStore(t.db.collection<TileDoc>('tiles'), hasher, 2);
    expect(bytesToHex(await rootHash(fresh, size, hasher))).toBe(bytesToHex(root));
    for (let k = 0; k < 200; k++) {
      const index = next(size);
      const proof = await inclusionProof(fresh, index, size, hasher);
      verifyInclusion({ leafHash: leaves[index]!, leafIndex: index, treeSize: size, proof, rootHash: root });
    }
  });
});
