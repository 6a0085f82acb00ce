import { judgeCheckpoints, proofNeeded, type TrustedCheckpoint } from '../../src/audit/verdict';
import { CompactRange } from '../../src/merkle/compactRange';
import { consistencyProof } from '../../src/merkle/proof';
import { leafHash, rfc6962 } from '../../src/verify/rfc6962';

const leaves = (tag: string, n: number) => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`${tag}${i}`)));

function tree(hashes: Uint8Array[]) {
  const nodes = new Map<string, Uint8Array>();
  const range = CompactRange.empty();
  range.append(hashes, rfc6962, (id, h) => nodes.set(`${id.level}/${id.index}`, h));
  return {
    checkpoint: (): TrustedCheckpoint => ({ treeSize: hashes.length, rootHash: range.root(rfc6962), note: `note ${hashes.length}` }),
    reader: { readNodes: async (ids: readonly { level: number; index: number }[]) => ids.map((id) => nodes.get(`${id.level}/${id.index}`)!) },
  };
}

describe('the audit verdict', () => {
  const log = leaves('a', 20);
  const old = tree(log.slice(0, 7)).checkpoint();
  const grown = tree(log);

  it('trusts the first checkpoint it sees', () => {
    expect(proofNeeded(undefined, old)).toBeUndefined();
    expect(judgeCheckpoints(undefined, old)).toEqual({ kind: 'first' });
  });

  it('accepts an unchanged checkpoint and rejects a different root at the same size (fork)', () => {
    expect(judgeCheckpoints(old, { ...old, note: 'same tree, other note' })).toEqual({ kind: 'unchanged' });
    const forked = tree([...log.slice(0, 6), ...leaves('x', 1)]).checkpoint();
    expect(judgeCheckpoints(old, forked)).toMatchObject({ kind: 'inconsistent', reason: 'fork' });
  });

  it('calls a smaller tree a rollback, without asking for a proof', () => {
    const smaller = tree(log.slice(0, 5)).checkpoint();
    expect(proofNeeded(old, smaller)).toBeUndefined();
    expect(judgeCheckpoints(old, smaller)).toMatchObject({ kind: 'inconsistent', reason: 'rollback' });
  });

  it('accepts growth proven by a valid consistency proof', async () => {
    const current = grown.checkpoint();
    expect(proofNeeded(old, current)).toEqual({ fromSize: 7, toSize: 20 });
    const proof = await consistencyProof(grown.reader, 7, 20, rfc6962);
    expect(judgeCheckpoints(old, current, proof)).toEqual({ kind: 'grown', growth: 13 });
  });

  it('rejects growth whose proof fails: a rewritten history, a tampered proof, a malformed proof', async () => {
    const rewritten = tree(leaves('b', 20));
    const proof = await consistencyProof(rewritten.reader, 7, 20, rfc6962);
    expect(judgeCheckpoints(old, rewritten.checkpoint(), proof)).toMatchObject({ kind: 'inconsistent', reason: 'bad-consistency-proof' });
    const good = await consistencyProof(grown.reader, 7, 20, rfc6962);
    const flipped = good.map((h, i) => (i === 0 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h));
    expect(judgeCheckpoints(old, grown.checkpoint(), flipped)).toMatchObject({ kind: 'inconsistent', reason: 'bad-consistency-proof' });
    expect(judgeCheckpoints(old, grown.checkpoint(), good.slice(1))).toMatchObject({ kind: 'inconsistent', reason: 'bad-consistency-proof' });
  });

  it('refuses to judge growth without the proof (a caller bug)', () => {
    expect(() => judgeCheckpoints(old, grown.checkpoint())).toThrow(TypeError);
  });
});
