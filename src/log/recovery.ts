/**
 * Recovery: the tree state a sequencer resumes from, rebuilt from the stored log head and
 * the tiles under it, and the leaves stored after the head by a batch that was interrupted
 * (crash, lost lease). Those leaves are kept, as a contiguous prefix of the interrupted
 * batch: they are re-hashed from their leaf text and handed back to be tiled and signed.
 */
import { CompactRange } from '../merkle/compactRange';
import { rootNodes } from '../merkle/proof';
import { LedgerError } from '../errors';
import type { SubtreeReader } from '../merkle/proof';
import type { LogHeadRecord, SignedCheckpoint, StoredEvent } from '../storage/port';
import { bytesEqual } from '../verify/bytes';
import type { Rfc6962Hasher } from '../verify/rfc6962';
import { bytesToHex } from '../verify';

/** The stored log contradicts itself: stop rather than sign on top of it. */
export class LogCorruptionError extends LedgerError {
  override name = 'LogCorruptionError';
  constructor(message: string) {
    super('CORRUPT', message);
  }
}

export interface TreeState {
  /** The lease token this state was built under. */
  readonly token: number;
  readonly range: CompactRange;
  lastRecordedAt: number;
  checkpoint: SignedCheckpoint;
}

export interface Recovered {
  readonly state: TreeState;
  /** Leaves stored past the head by an interrupted batch, in order, hashes verified. */
  readonly replay: readonly StoredEvent[];
  /** Whether the head records an interrupted batch (even one that stored nothing). */
  readonly interrupted: boolean;
}

const utf8 = new TextEncoder();

export async function recoverTree(options: {
  readonly head: LogHeadRecord | undefined;
  readonly token: number;
  readonly tiles: SubtreeReader;
  readonly range: (from: number, to: number) => Promise<StoredEvent[]>;
  readonly hasher: Rfc6962Hasher;
}): Promise<Recovered> {
  const { head, hasher } = options;
  if (!head) throw new LogCorruptionError('the log head is missing (was the database initialised?)');
  const size = head.checkpoint.treeSize;
  const hashes = size > 0 ? await options.tiles.readNodes(rootNodes(size)) : [];
  const range = CompactRange.fromNodes(size, hashes);
  const root = bytesToHex(range.root(hasher));
  if (root !== head.checkpoint.rootHash) {
    throw new LogCorruptionError(
      `stored subtree hashes give root ${root} at size ${size}, but the signed head says ${head.checkpoint.rootHash}; ` +
        'run `audit-ledger verify-db`',
    );
  }
  const state: TreeState = { token: options.token, range, lastRecordedAt: head.lastRecordedAt, checkpoint: head.checkpoint };
  if (!head.pending) return { state, replay: [], interrupted: false };
  // The interrupted batch may have been partly covered by a later head: replay from the head.
  const to = Math.max(head.pending.to, size);
  const stored = await options.range(size, to);
  const replay: StoredEvent[] = [];
  for (const event of stored) {
    if (event.leafIndex !== size + replay.length) break;
    if (!bytesEqual(hasher.leafHash(utf8.encode(event.leaf)), event.leafHash)) {
      throw new LogCorruptionError(`leaf ${event.leafIndex}: stored leaf hash does not match its leaf text`);
    }
    replay.push(event);
  }
  return { state, replay, interrupted: true };
}
