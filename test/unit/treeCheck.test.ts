import { TreeCheck, type StoredNodes } from '../../src/integrity/treeCheck';
import { CompactRange } from '../../src/merkle/compactRange';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { leafHash } from '../../src/verify/rfc6962';

const hasher = nodeCryptoRfc6962;
const leaves = (n: number, tag = 'e') => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}${i}`)));

/** What the sequencer stores for these leaves: every node at a height that is a multiple of 8, and the roots. */
function storedLog(hashes: Uint8Array[], checkpointSizes: number[]) {
  const nodes = new Map<string, Uint8Array>();
  const roots = new Map<number, Uint8Array>();
  const range = CompactRange.empty();
  if (checkpointSizes.includes(0)) roots.set(0, hasher.emptyRoot());
  for (const h of hashes) {
    range.append([h], hasher, (id, hash) => {
      if (id.level % 8 === 0) nodes.set(`${id.level}/${id.index}`, hash);
    });
    if (checkpointSizes.includes(range.size)) roots.set(range.size, range.root(hasher));
  }
  const stored: StoredNodes = { nodeHash: (height, index) => nodes.get(`${height}/${index}`) };
  return { nodes, roots, stored };
}

function check(docLeaves: (Uint8Array | undefined)[], log: ReturnType<typeof storedLog>, covered: number) {
  const tree = new TreeCheck(hasher, log.stored, covered);
  const sizes = [...log.roots.keys()].sort((a, b) => a - b);
  for (const [i, h] of docLeaves.entries()) {
    while (sizes.length > 0 && sizes[0]! <= i + 1) tree.expectRoot({ treeSize: sizes[0]!, rootHash: log.roots.get(sizes.shift()!)! });
    if (h) tree.leaf(h);
    else tree.affectedLeaf('missing');
  }
  return tree.finish();
}

describe('the verify-db tree check', () => {
  const original = leaves(600);
  const sizes = [0, 1, 256, 300, 512, 600];

  it('finds nothing wrong with an untouched log', () => {
    const report = check(original, storedLog(original, sizes), 600);
    expect(report.affected.isEmpty).toBe(true);
    expect(report.details).toEqual([]);
    expect(report.checkpointsChecked).toBe(sizes.length);
    // 600 leaf hashes plus the two complete height-8 nodes.
    expect(report.storedHashesChecked).toBe(602);
  });

  it('names a changed leaf once, however many stored ancestors and roots it changes', () => {
    const changed = [...original];
    changed[300] = leaves(1, 'forged')[0]!;
    const report = check(changed, storedLog(original, sizes), 600);
    expect(report.affected.toString()).toBe('300');
    expect(report.details).toHaveLength(1);
    expect(report.explainedMismatches).toBeGreaterThanOrEqual(2);
  });

  it('names a missing leaf, using its stored hash so that nothing else looks changed', () => {
    const report = check([...original.slice(0, 10), undefined, ...original.slice(11)], storedLog(original, sizes), 600);
    expect(report.affected.toString()).toBe('10');
    expect(report.explainedMismatches).toBe(0);
  });

  it('names every leaf under an edited higher-level hash, and the one leaf under an edited level-0 hash', () => {
    const log = storedLog(original, sizes);
    log.nodes.set('8/1', leaves(1, 'x')[0]!);
    log.nodes.set('0/5', leaves(1, 'y')[0]!);
    const report = check(original, log, 600);
    expect(report.affected.toString()).toBe('5, 256-511');
  });

  it('names missing stored hashes only below the latest checkpoint', () => {
    const log = storedLog(original, sizes);
    log.nodes.delete('0/550');
    log.nodes.delete('0/599');
    expect(check(original, log, 599).affected.toString()).toBe('550');
  });

  it('localises a history rewritten consistently in events and hashes between the checkpoints', () => {
    const rewritten = [...original.slice(0, 400), ...leaves(200, 'r')];
    const report = check(rewritten, { ...storedLog(rewritten, []), roots: storedLog(original, sizes).roots }, 600);
    expect(report.affected.toString()).toBe('300-511');
    expect(report.details[0]).toMatch(/^checkpoint 512: signed root [0-9a-f]{64} differs/);
  });

  it('reports checkpoints beyond the end of the events', () => {
    const tree = new TreeCheck(hasher, storedLog(original, []).stored, 3);
    tree.expectRoot({ treeSize: 3, rootHash: new Uint8Array(32) });
    tree.leaf(original[0]!);
    expect(tree.finish().details).toEqual(['checkpoint 3: the events end at 1, before this checkpoint\'s size']);
  });
});
