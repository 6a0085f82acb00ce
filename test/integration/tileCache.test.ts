import { randomBytes } from 'node:crypto';
import { CompactRange } from '../../src/merkle/compactRange';
import { nodeCryptoRfc6962 as hasher } from '../../src/merkle/nodeHasher';
import type { NodeId } from '../../src/merkle/nodeId';
import { inclusionProof, rootHash } from '../../src/merkle/proof';
import { TileCache } from '../../src/log/tileCache';
import type { LedgerStorage } from '../../src/storage/port';
import { bytesToHex, verifyInclusion } from '../../src/verify';
import { type AdapterName, describeEachAdapter } from '../support/adapters';
import { openTestStorage } from '../support/testStorage';

describeEachAdapter('hash tiles through the storage port', (adapter: AdapterName) => {
  let storage: LedgerStorage;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    ({ storage, dispose } = await openTestStorage(adapter, 'tiles'));
  });
  afterAll(async () => dispose());

  it('keep every subtree hash through appends in odd batches while reads churn a tiny cache', async () => {
    // A two-tile cache forces evictions between and within writes.
    const store = new TileCache(storage.tiles, hasher, 2);
    const range = CompactRange.empty();
    const leaves: Uint8Array[] = [];
    let seed = 7;
    const next = (max: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % max;
    const target = adapter === 'sqlite' ? 70_000 : 20_000;
    while (range.size < target) {
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
    // A fresh cache sees the same tree from the database alone.
    const fresh = new TileCache(storage.tiles, hasher, 2);
    expect(bytesToHex(await rootHash(fresh, size, hasher))).toBe(bytesToHex(root));
    for (let k = 0; k < 200; k++) {
      const index = next(size);
      const proof = await inclusionProof(fresh, index, size, hasher);
      verifyInclusion({ leafHash: leaves[index]!, leafIndex: index, treeSize: size, proof, rootHash: root });
    }
  });
});
