/**
 * A receipt, and its verification with nothing but the log's verifier key: the signed
 * checkpoint, the leaf text against the leaf hash, and the inclusion proof against the
 * checkpoint's root. A receipt that verifies proves what was recorded (the leaf) and where
 * (the leaf index in the signed tree), to anyone, without the server.
 */
import {
  assertWitnessPolicy,
  bytesToHex,
  hexToBytes,
  leafHash,
  parseVerifierKey,
  verifyCheckpoint,
  verifyInclusion,
  VerificationError,
  type VerifiedCheckpoint,
  type WitnessPolicy,
} from '../verify';
import { ReceiptVerificationError } from './errors';
import type { RecordedLeaf } from './event';

/** GraphQL `Receipt`. */
export interface Receipt {
  readonly eventId: string;
  readonly leafIndex: number;
  /** RFC 6962 leaf hash of `leaf`, lowercase hex. */
  readonly leafHash: string;
  /** The recorded event's canonical leaf text. */
  readonly leaf: string;
  readonly inclusionProof: {
    readonly leafIndex: number;
    readonly treeSize: number;
    readonly leafHash: string;
    /** Audit path, lowercase hex, leaf to root. */
    readonly hashes: readonly string[];
    readonly checkpoint: { readonly origin: string; readonly treeSize: number; readonly rootHash: string; readonly note: string };
  };
}

/** Every field of `Receipt`, as a GraphQL selection. */
export const RECEIPT_FIELDS = 'eventId leafIndex leafHash leaf inclusionProof { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } }';

const utf8 = new TextEncoder();
const HEX_HASH = /^[0-9a-f]{64}$/;

export interface ReceiptVerificationOptions {
  /**
   * Witnesses that must have cosigned the receipt's checkpoint (problem `WITNESSES` if not).
   * A server that publishes at once and attaches cosignatures later hands out receipts
   * without them: use this with a server set to wait for cosignatures, or re-check later
   * against a newer checkpoint.
   */
  readonly witnessPolicy?: WitnessPolicy;
}

/**
 * Verifies a receipt against the log's verifier key (the C2SP `name+hex8+base64` line,
 * obtained out of band) and answers the recorded event as its leaf holds it. Throws a
 * `ReceiptVerificationError` whose `problem` names what did not match.
 */
export function verifyReceipt(receipt: Receipt, verifierKey: string, options: ReceiptVerificationOptions = {}): RecordedLeaf {
  const proof = receipt.inclusionProof;
  const checkpoint = proof?.checkpoint;
  if (typeof receipt.leaf !== 'string' || typeof checkpoint?.note !== 'string' || !Array.isArray(proof.hashes)) {
    throw new ReceiptVerificationError('RECEIPT', 'the receipt lacks its leaf text, its inclusion proof or its checkpoint note');
  }
  if (!HEX_HASH.test(receipt.leafHash) || !proof.hashes.every((h) => HEX_HASH.test(h))) {
    throw new ReceiptVerificationError('RECEIPT', 'the receipt\'s leaf hash and proof hashes must be 32-byte lowercase hex');
  }
  if (proof.leafIndex !== receipt.leafIndex || proof.leafHash !== receipt.leafHash) {
    throw new ReceiptVerificationError('RECEIPT', `the inclusion proof is for leaf ${proof.leafIndex} (${proof.leafHash}), the receipt names leaf ${receipt.leafIndex} (${receipt.leafHash})`);
  }

  let signed: VerifiedCheckpoint;
  try {
    const verifier = parseVerifierKey(verifierKey);
    // The log's checkpoints name it by the key's name: one for another log does not prove this receipt.
    signed = verifyCheckpoint(checkpoint.note, verifier, { origin: verifier.name });
  } catch (err) {
    throw new ReceiptVerificationError('CHECKPOINT', `the checkpoint note does not verify with the verifier key: ${(err as Error).message}`, { cause: err });
  }
  const signedRoot = bytesToHex(signed.rootHash);
  if (signed.treeSize !== proof.treeSize || signed.treeSize !== checkpoint.treeSize || signedRoot !== checkpoint.rootHash || signed.origin !== checkpoint.origin) {
    throw new ReceiptVerificationError(
      'CHECKPOINT',
      `the signed checkpoint is ${signed.origin} size ${signed.treeSize} root ${signedRoot}; the receipt says ${checkpoint.origin} size ${proof.treeSize} root ${checkpoint.rootHash}`,
    );
  }

  if (options.witnessPolicy) {
    try {
      assertWitnessPolicy(checkpoint.note, options.witnessPolicy);
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      throw new ReceiptVerificationError('WITNESSES', err.message, { cause: err });
    }
  }

  const computed = bytesToHex(leafHash(utf8.encode(receipt.leaf)));
  if (computed !== receipt.leafHash) {
    throw new ReceiptVerificationError('LEAF_HASH', `the leaf text hashes to ${computed}, not to the receipt's leaf hash ${receipt.leafHash}`);
  }

  try {
    verifyInclusion({ leafHash: hexToBytes(receipt.leafHash), leafIndex: receipt.leafIndex, treeSize: signed.treeSize, proof: proof.hashes.map(hexToBytes), rootHash: signed.rootHash });
  } catch (err) {
    if (!(err instanceof VerificationError)) throw err;
    throw new ReceiptVerificationError('INCLUSION', `the inclusion proof of leaf ${receipt.leafIndex} does not lead to the signed root of size ${signed.treeSize}: ${err.message}`, { cause: err });
  }

  let content: unknown;
  try {
    content = JSON.parse(receipt.leaf);
  } catch {
    throw new ReceiptVerificationError('LEAF', 'the leaf text is not JSON');
  }
  const id = (content as { id?: unknown } | null)?.id;
  if (typeof content !== 'object' || content === null || Array.isArray(content) || id !== receipt.eventId) {
    throw new ReceiptVerificationError('LEAF', `the leaf is not the event the receipt names (${receipt.eventId})`);
  }
  return content as RecordedLeaf;
}
