/**
 * `monitor`: `audit` in a loop, one line per poll. Alerts (exit code, and a JSON POST to
 * --webhook) on evidence of a rewritten log or a bad signature (exit 2) and, when asked,
 * on a log that stopped advancing (exit 3). A poll that cannot reach the log is printed and
 * retried at the next interval: an outage is not evidence, and --stale-after covers it.
 *
 * With a witness policy, a checkpoint without the required cosignatures is printed and not
 * trusted (the log may attach them moments later), and the monitor alerts "frozen" (exit 3)
 * when no checkpoint meeting the policy has a cosignature newer than --max-cosignature-age.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { type Alert, type AlertKind, alertCheckpoint, postAlert } from '../audit/alert';
import { CheckpointRejectedError, runAudit } from '../audit/auditRun';
import { LogAccessError, LogClient } from '../audit/logClient';
import { MonitorPolicy } from '../audit/monitorPolicy';
import type { TrustedCheckpoint } from '../audit/verdict';
import { auditOrCliError, formatEvidence, pinnedVerifier } from './audit';
import { CliError } from './cliError';
import { shutdownSignal } from './shutdownSignal';
import { bytesToHex, WitnessQuorumError } from '../verify';
import { formatCosignatures, witnessPolicyOf, type WitnessOptions } from './witnessOptions';

export const MONITOR_EXIT = { stopped: 0, error: 1, inconsistent: 2, stale: 3 } as const;

/**
 * Default --max-cosignature-age: six of the server's default 5-minute republish intervals,
 * so a witness outage of a few rounds or a slow poll does not cry "frozen".
 */
export const DEFAULT_MAX_COSIGNATURE_AGE_MS = 30 * 60_000;

export interface MonitorCommandOptions extends WitnessOptions {
  readonly url: string;
  readonly vkey: string;
  readonly state: string;
  readonly interval: number;
  readonly staleAfter?: number;
  readonly webhook?: string;
  readonly maxPolls?: number;
  readonly token?: string;
  readonly maxCosignatureAge?: number;
}

export async function runMonitorCommand(opts: MonitorCommandOptions): Promise<number> {
  const verifier = pinnedVerifier(opts.vkey);
  const token = opts.token ?? (process.env.AUDIT_LEDGER_TOKEN || undefined);
  const client = new LogClient({ url: opts.url, ...(token && { token }) });
  const witnessPolicy = witnessPolicyOf(opts);
  if (opts.maxCosignatureAge !== undefined && !witnessPolicy) {
    throw new CliError('--max-cosignature-age needs a witness policy (--witness or --witness-policy)', 1);
  }
  const policy = new MonitorPolicy(Date.now(), opts.staleAfter, witnessPolicy && (opts.maxCosignatureAge ?? DEFAULT_MAX_COSIGNATURE_AGE_MS));
  const stop = new AbortController();
  void shutdownSignal().then(() => stop.abort());
  let lastSeen: TrustedCheckpoint | undefined;

  const alert = async (kind: AlertKind, message: string, previous: TrustedCheckpoint | undefined, current: TrustedCheckpoint | undefined) => {
    process.stderr.write(`audit-ledger monitor: ALERT ${kind}: ${message}\n`);
    if (!opts.webhook) return;
    const payload: Alert = {
      kind,
      message,
      url: opts.url,
      origin: verifier.name,
      previous: alertCheckpoint(previous),
      current: alertCheckpoint(current),
      at: new Date().toISOString(),
    };
    const failure = await postAlert(opts.webhook, payload);
    if (failure) process.stderr.write(`audit-ledger monitor: ${failure}\n`);
  };

  let lastPollFailed: boolean;
  for (let poll = 1; ; poll++) {
    const outcome = await auditOrCliError(async () => {
      try {
        return await runAudit({ client, verifier, stateFile: opts.state, ...(witnessPolicy && { witnessPolicy }) });
      } catch (err) {
        // Outages, signatures and missing cosignatures are the monitor's business, not a reason to give up.
        if (err instanceof LogAccessError || err instanceof CheckpointRejectedError || err instanceof WitnessQuorumError) return err;
        throw err;
      }
    });
    if (outcome instanceof LogAccessError) {
      lastPollFailed = true;
      process.stdout.write(`${new Date().toISOString()} poll failed: ${outcome.message}\n`);
    } else if (outcome instanceof WitnessQuorumError) {
      lastPollFailed = false;
      process.stdout.write(`${new Date().toISOString()} not trusted: ${outcome.message}\n`);
    } else if (outcome instanceof CheckpointRejectedError) {
      await alert('bad-signature', outcome.message, lastSeen, undefined);
      return MONITOR_EXIT.inconsistent;
    } else if (outcome.kind === 'inconsistent') {
      process.stdout.write(formatEvidence(outcome, opts.state));
      await alert('inconsistency', outcome.message, outcome.previous, outcome.current);
      return MONITOR_EXIT.inconsistent;
    } else {
      lastPollFailed = false;
      lastSeen = outcome.current;
      const rootHex = bytesToHex(outcome.current.rootHash);
      const newest = outcome.witnesses?.newestTimestamp;
      const line = policy.observe({ at: Date.now(), treeSize: outcome.current.treeSize, rootHex, ...(newest !== undefined && { newestCosignatureAt: newest * 1000 }) });
      process.stdout.write(`${line}\n`);
      if (outcome.witnesses) process.stdout.write(`  ${formatCosignatures(outcome.witnesses)}\n`);
    }
    const stale = policy.staleness(Date.now());
    if (stale) {
      await alert('stale', stale, lastSeen, lastSeen);
      return MONITOR_EXIT.stale;
    }
    const frozen = policy.frozen(Date.now());
    if (frozen) {
      await alert('frozen', frozen, lastSeen, lastSeen);
      return MONITOR_EXIT.stale;
    }
    if (opts.maxPolls !== undefined && poll >= opts.maxPolls) return lastPollFailed ? MONITOR_EXIT.error : MONITOR_EXIT.stopped;
    try {
      await sleep(opts.interval, undefined, { signal: stop.signal });
    } catch {
      return MONITOR_EXIT.stopped;
    }
    if (stop.signal.aborted) return MONITOR_EXIT.stopped;
  }
}
