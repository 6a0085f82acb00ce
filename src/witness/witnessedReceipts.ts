/**
 * Receipts that wait for witnesses (LEDGER_WITNESS_WAIT): each carries a checkpoint that the
 * quorum cosigned and that covers its event, with the inclusion proof to that checkpoint.
 * The cosigned checkpoint may be larger than the one the batch was signed in (the witnesses
 * are always sent the newest head), so the proof is recomputed when it is.
 */
import type { RecordedEvent } from '../ledger/ledger';
import type { Witnessing } from './witnessing';

export interface ProofSource {
  inclusionProof(leafIndex: number, treeSize: number): Promise<{ readonly hashes: Uint8Array[] }>;
}

export async function witnessedReceipts(ledger: ProofSource, witnessing: Witnessing, receipts: readonly RecordedEvent[]): Promise<RecordedEvent[]> {
  if (receipts.length === 0) return [];
  const cosigned = await witnessing.quorumCheckpoint(Math.max(...receipts.map((r) => r.leafIndex + 1)));
  return Promise.all(
    receipts.map(async (r) =>
      r.checkpoint.treeSize === cosigned.treeSize
        ? { ...r, checkpoint: cosigned }
        : { ...r, checkpoint: cosigned, proof: (await ledger.inclusionProof(r.leafIndex, cosigned.treeSize)).hashes },
    ),
  );
}
