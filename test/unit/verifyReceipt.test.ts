/**
 * verifyReceipt with nothing but the verifier key: a genuine receipt verifies and answers its
 * leaf; each kind of alteration is refused naming what did not match.
 */
import { type Receipt, ReceiptVerificationError, verifyReceipt } from '../../src/client';
import { generateSignerKey, signCheckpoint } from '../../src/checkpoint/signer';
import { bytesToHex, createWitnessPolicy, leafHash, nodeHash } from '../../src/verify';
import { createTestCosigner } from '../support/testCosigner';

const utf8 = new TextEncoder();
const ORIGIN = 'receipts.example/log';
const { signerKey, verifierKey } = generateSignerKey(ORIGIN);

/** A two-leaf log and the receipt of its second leaf. */
function receipt(): Receipt {
  const first = '{"action":"a","id":"e0"}';
  const leaf = '{"action":"invoice.paid","actor":{"id":"u-1","type":"USER"},"groups":[],"id":"e1","outcome":"SUCCESS","recordedAt":"2026-01-01T00:00:00.000Z","salt":"00"}';
  const [h0, h1] = [first, leaf].map((l) => leafHash(utf8.encode(l)));
  const root = nodeHash(h0!, h1!);
  const note = signCheckpoint({ origin: ORIGIN, treeSize: 2, rootHash: root }, signerKey);
  return {
    eventId: 'e1',
    leafIndex: 1,
    leafHash: bytesToHex(h1!),
    leaf,
    inclusionProof: { leafIndex: 1, treeSize: 2, leafHash: bytesToHex(h1!), hashes: [bytesToHex(h0!)], checkpoint: { origin: ORIGIN, treeSize: 2, rootHash: bytesToHex(root), note } },
  };
}

function problemOf(r: Receipt, key = verifierKey): string {
  try {
    verifyReceipt(r, key);
  } catch (err) {
    expect(err).toBeInstanceOf(ReceiptVerificationError);
    return (err as ReceiptVerificationError).problem;
  }
  return 'verified';
}

const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);

describe('verifyReceipt', () => {
  it('verifies a genuine receipt and answers the recorded event', () => {
    expect(verifyReceipt(receipt(), verifierKey)).toMatchObject({ id: 'e1', action: 'invoice.paid', actor: { id: 'u-1', type: 'USER' } });
  });

  it.each<[string, string, (r: Receipt) => Receipt]>([
    ['an altered leaf text', 'LEAF_HASH', (r) => ({ ...r, leaf: r.leaf.replace('u-1', 'u-2') })],
    ['a leaf hash altered everywhere', 'LEAF_HASH', (r) => ({ ...r, leafHash: flip(r.leafHash), inclusionProof: { ...r.inclusionProof, leafHash: flip(r.leafHash) } })],
    ['a leaf hash that disagrees with its proof', 'RECEIPT', (r) => ({ ...r, leafHash: flip(r.leafHash) })],
    ['another leaf index', 'INCLUSION', (r) => ({ ...r, leafIndex: 0, inclusionProof: { ...r.inclusionProof, leafIndex: 0 } })],
    ['an altered proof hash', 'INCLUSION', (r) => ({ ...r, inclusionProof: { ...r.inclusionProof, hashes: [flip(r.inclusionProof.hashes[0]!)] } })],
    ['a missing proof hash', 'INCLUSION', (r) => ({ ...r, inclusionProof: { ...r.inclusionProof, hashes: [] } })],
    ['an altered note', 'CHECKPOINT', (r) => ({ ...r, inclusionProof: { ...r.inclusionProof, checkpoint: { ...r.inclusionProof.checkpoint, note: r.inclusionProof.checkpoint.note.replace('\n2\n', '\n3\n') } } })],
    ['a root beside the note that is not the signed one', 'CHECKPOINT', (r) => ({ ...r, inclusionProof: { ...r.inclusionProof, checkpoint: { ...r.inclusionProof.checkpoint, rootHash: flip(r.inclusionProof.checkpoint.rootHash) } } })],
    ['a leaf and hash swapped together for another event', 'INCLUSION', (r) => {
      const leaf = r.leaf.replace('u-1', 'u-2');
      const hash = bytesToHex(leafHash(utf8.encode(leaf)));
      return { ...r, leaf, leafHash: hash, inclusionProof: { ...r.inclusionProof, leafHash: hash } };
    }],
    ['another event id', 'LEAF', (r) => ({ ...r, eventId: 'e9' })],
    ['no leaf', 'RECEIPT', (r) => ({ ...r, leaf: undefined as unknown as string })],
  ])('refuses %s, naming %s', (_what, problem, alter) => {
    expect(problemOf(alter(receipt()))).toBe(problem);
  });

  it('refuses a checkpoint signed by another key, or for another log', () => {
    expect(problemOf(receipt(), generateSignerKey(ORIGIN).verifierKey)).toBe('CHECKPOINT');
    expect(problemOf(receipt(), generateSignerKey('other.example/log').verifierKey)).toBe('CHECKPOINT');
  });
});

describe('verifyReceipt with a witness policy', () => {
  const witness = createTestCosigner('witness.example/receipts');
  const policy = createWitnessPolicy([witness.verifierKey], 1);
  const withNote = (r: Receipt, note: string): Receipt => ({ ...r, inclusionProof: { ...r.inclusionProof, checkpoint: { ...r.inclusionProof.checkpoint, note } } });
  const problemWith = (r: Receipt): string => {
    try {
      verifyReceipt(r, verifierKey, { witnessPolicy: policy });
      return 'verified';
    } catch (err) {
      return (err as ReceiptVerificationError).problem;
    }
  };

  it('verifies a receipt whose checkpoint the witness cosigned', () => {
    const r = receipt();
    expect(problemWith(withNote(r, witness.cosign(r.inclusionProof.checkpoint.note, 1_767_225_600)))).toBe('verified');
  });

  it('refuses one without the cosignature (WITNESSES)', () => {
    expect(problemWith(receipt())).toBe('WITNESSES');
  });
});
