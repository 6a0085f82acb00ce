/**
 * The log's size over time, sampled from the checkpoint archive: N evenly spaced instants
 * across a window, each answered by the last checkpoint signed at or before it. Sampling
 * (rather than returning every checkpoint) keeps the answer and the work bounded by N however
 * many batches the log has signed. Pure: the look-ups are the caller's.
 */
import type { CheckpointMark } from '../storage/port';

export const MAX_HISTORY_POINTS = 500;

/** A sampling request the ledger cannot answer (maps to BAD_USER_INPUT). */
export class SizeHistoryRangeError extends Error {
  override readonly name = 'SizeHistoryRangeError';
}

export interface SizePoint {
  /** The sampled instant. */
  readonly at: Date;
  /** The size of the last checkpoint signed at or before `at`. */
  readonly treeSize: number;
  /** When that checkpoint was signed. */
  readonly signedAt: Date;
}

/**
 * `points` instants from `from` to `to`, both ends included (one point: `to` alone). Throws
 * SizeHistoryRangeError on a window that runs backwards or a count outside 1…500.
 */
export function sampleInstants(from: Date, to: Date, points: number): Date[] {
  if (!Number.isInteger(points) || points < 1 || points > MAX_HISTORY_POINTS) {
    throw new SizeHistoryRangeError(`points must be an integer from 1 to ${MAX_HISTORY_POINTS}, not ${points}`);
  }
  const start = from.getTime();
  const end = to.getTime();
  if (Number.isNaN(start) || Number.isNaN(end)) throw new SizeHistoryRangeError('from and to must be valid instants');
  if (start > end) throw new SizeHistoryRangeError(`from (${from.toISOString()}) is after to (${to.toISOString()})`);
  if (points === 1) return [new Date(end)];
  const step = (end - start) / (points - 1);
  // The last instant is `to` exactly, not a float sum that may fall a millisecond short of it.
  return Array.from({ length: points }, (_, i) => new Date(i === points - 1 ? end : Math.round(start + i * step)));
}

/** The sampled points, leaving out instants before the first checkpoint was signed. */
export function sizePoints(instants: readonly Date[], marks: readonly (CheckpointMark | undefined)[]): SizePoint[] {
  return instants.flatMap((at, i) => {
    const mark = marks[i];
    return mark ? [{ at, treeSize: mark.treeSize, signedAt: mark.createdAt }] : [];
  });
}
