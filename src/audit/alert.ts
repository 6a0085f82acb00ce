/**
 * Monitor alerts, POSTed as JSON to a webhook. Delivery is best effort: the monitor's exit
 * code is the alert that cannot be lost, so a failed POST is reported, never retried forever.
 */
import type { TrustedCheckpoint } from './verdict';
import { bytesToHex } from '../verify';

export type AlertKind = 'inconsistency' | 'bad-signature' | 'stale' | 'frozen';

export interface AlertCheckpoint {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly note: string;
}

export interface Alert {
  readonly kind: AlertKind;
  readonly message: string;
  readonly url: string;
  readonly origin: string;
  readonly previous: AlertCheckpoint | null;
  readonly current: AlertCheckpoint | null;
  /** RFC 3339 time of the alert. */
  readonly at: string;
}

export function alertCheckpoint(checkpoint: TrustedCheckpoint | undefined): AlertCheckpoint | null {
  if (!checkpoint) return null;
  return { treeSize: checkpoint.treeSize, rootHash: bytesToHex(checkpoint.rootHash), note: checkpoint.note };
}

/** POSTs the alert; resolves to undefined when delivered, else to why it was not. */
export async function postAlert(webhook: string, alert: Alert, timeoutMs = 10_000): Promise<string | undefined> {
  try {
    const res = await fetch(webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(alert),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.ok ? undefined : `the webhook answered HTTP ${res.status}`;
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    return `the webhook could not be reached: ${cause?.code ?? (err as Error).message}`;
  }
}
