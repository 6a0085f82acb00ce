/** A small signed log and an evidence bundle of three of its leaves, for the bundle tests. */
import { generateSignerKey, parseSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { eventLeaf } from '../../src/event/eventRecord';
import { type BundleEntry, bundleEndLine, bundleEntryLine, bundleHeaderLine } from '../../src/export/evidenceBundle';
import { nodeCryptoRfc6962 } from '../../src/merkle/nodeHasher';
import { bytesToHex } from '../../src/verify';
import { ReferenceTree } from '../unit/rfc6962Reference';

// A one-letter origin keeps the signed note short: each altered note costs an Ed25519 verification.
export const ORIGIN = 'o';
const utf8 = new TextEncoder();

export function leafText(i: number): string {
  return eventLeaf({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    action: 'invoice.refund',
    actor: { id: `u-${i}`, type: 'USER', name: i === 4 ? 'Zoë "the auditor" \\ Ünal' : 'Ann' },
    outcome: 'SUCCESS',
    groups: ['g1'],
    recordedAt: '2026-01-02T03:04:05.678Z',
    salt: '0123456789abcdef0123456789abcdef',
    ...(i === 4 && { metadata: { note: 'line\nbreak\ttab', amount: 12.5 } }),
  });
}

/** A log of 6 leaves; a bundle of leaves 1 (text), 3 (redacted) and 4 (text with escapes). */
export function makeBundle(): { text: string; vkey: string; signer: string } {
  const { signerKey, verifierKey } = generateSignerKey(ORIGIN);
  const leaves = Array.from({ length: 6 }, (_, i) => leafText(i));
  const tree = new ReferenceTree(leaves.map((l) => nodeCryptoRfc6962.leafHash(utf8.encode(l))));
  const size = leaves.length;
  const root = tree.mth(0, size);
  const note = signCheckpoint({ origin: ORIGIN, treeSize: size, rootHash: root }, parseSignerKey(signerKey));
  const entry = (i: number, redacted = false): BundleEntry => {
    const base = { leafIndex: i, leafHash: bytesToHex(tree.leafHashes[i]!), proof: tree.path(i, size).map(bytesToHex) };
    return redacted ? { ...base, redacted: true } : { ...base, leaf: leaves[i]! };
  };
  const text = bundleHeaderLine({ treeSize: size, rootHash: bytesToHex(root), note }) + [entry(1), entry(3, true), entry(4)].map(bundleEntryLine).join('') + bundleEndLine(3);
  return { text, vkey: verifierKey, signer: signerKey };
}

