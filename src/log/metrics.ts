/**
 * What the core reports about its own work, as plain numbers through an injected interface:
 * the shell turns the reports into Prometheus metrics (server/metrics.ts), so no core module
 * imports a metrics library, and tests or CLI commands inject nothing (NO_METRICS).
 */
export interface BatchTiming {
  /** Events written by the batch. */
  readonly events: number;
  /** Marking the batch pending on the log head (the fencing compare-and-set). */
  readonly pendingMs: number;
  /** Storing the events and their idempotency records. */
  readonly insertMs: number;
  /** Tiles, signing and archiving the checkpoint, moving the head. */
  readonly treeAndCheckpointMs: number;
}

export interface LedgerMetrics {
  /** One batch committed by the sequencer. */
  batchCommitted(timing: BatchTiming): void;
  /** One submission (a recordEvent or recordEvents call) answered: from queueing to its receipts. */
  appendAnswered(seconds: number): void;
  /** One inclusion or consistency proof computed. */
  proofServed(kind: 'inclusion' | 'consistency', seconds: number): void;
  /** One call through the storage port (`repository.method`), and whether it failed. */
  databaseCall(operation: string, seconds: number, failed: boolean): void;
}

export const NO_METRICS: LedgerMetrics = {
  batchCommitted: () => undefined,
  appendAnswered: () => undefined,
  proofServed: () => undefined,
  databaseCall: () => undefined,
};
