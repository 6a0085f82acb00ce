/** What webhook delivery reports, for the shell's metrics (see log/metrics.ts for why an interface). */
export interface StreamMetrics {
  /** A batch reached its receiver (2xx); the lag of each event in it, recordedAt to answer. */
  webhookDelivered(subscriptionId: string, lagsSeconds: readonly number[]): void;
  /** A POST failed; `deadLettered` when that was the last attempt. */
  webhookFailed(subscriptionId: string, deadLettered: boolean): void;
  /** Leaves the subscription has not scanned yet. */
  webhookBacklogIs(subscriptionId: string, events: number): void;
  /** The subscription stopped (paused, deleted, dead-lettered): drop its gauge. */
  webhookGone(subscriptionId: string): void;
}

export const NO_STREAM_METRICS: StreamMetrics = {
  webhookDelivered: () => undefined,
  webhookFailed: () => undefined,
  webhookBacklogIs: () => undefined,
  webhookGone: () => undefined,
};
