/**
 * `audit`: an external auditor's check of a ledger over its public API (GET /checkpoint and
 * GraphQL only). Exit 0 when the log is consistent with what this auditor saw before (the
 * new checkpoint is then saved), 2 when the log contradicts it (both signed checkpoints are
 * printed as evidence and the state file is left alone), 1 when the audit could not be done,
 * 3 when a witness policy is given and the checkpoint lacks the cosignatures it requires
 * (not trusted, not saved; with cosignatures attached as they arrive, a retry may pass).
 */
import { AuditInputError, type AuditOutcome, CheckpointRejectedError, runAudit } from '../audit/auditRun';
import { AuditStateError } from '../audit/auditState';
import { LogAccessError, LogClient } from '../audit/logClient';
import { Presets, SingleBar } from 'cli-progress';
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import { bytesToHex, parseVerifierKey, VerificationError, WitnessQuorumError, type NoteVerifier } from '../verify';
import { CliError } from './cliError';
import { formatCosignatures, witnessPolicyOf, type WitnessOptions } from './witnessOptions';

export const EXIT_INCONSISTENT = 2;
export const EXIT_UNWITNESSED = 3;

export interface AuditCommandOptions extends WitnessOptions {
  readonly url: string;
  readonly vkey: string;
  readonly state: string;
  readonly leaf?: number[];
  readonly allEvents?: boolean;
  readonly token?: string;
}

export async function runAuditCommand(opts: AuditCommandOptions): Promise<number> {
  const verifier = pinnedVerifier(opts.vkey);
  const witnessPolicy = witnessPolicyOf(opts);
  const token = opts.token ?? (process.env.AUDIT_LEDGER_TOKEN || undefined);
  if (opts.allEvents && !token) throw new CliError('--all-events needs an API key that may read events: --token or AUDIT_LEDGER_TOKEN', 1);
  const client = new LogClient({ url: opts.url, ...(token && { token }) });
  const bar = opts.allEvents && process.stderr.isTTY ? eventsBar() : undefined;
  let outcome: AuditOutcome;
  try {
    outcome = await auditOrCliError(() =>
      runAudit({
        client,
        verifier,
        stateFile: opts.state,
        ...(opts.leaf && { leaves: opts.leaf }),
        allEvents: opts.allEvents === true,
        hasher: nodeCryptoRfc6962,
        ...(bar && { onProgress: bar.progress }),
        ...(witnessPolicy && { witnessPolicy }),
      }),
    );
  } catch (err) {
    if (err instanceof WitnessQuorumError) {
      process.stdout.write(`audit: ${formatCosignatures(err.result)}\n`);
      throw new CliError(`${err.message}; the checkpoint was not trusted and ${opts.state} is unchanged`, EXIT_UNWITNESSED);
    }
    throw err;
  } finally {
    bar?.stop();
  }
  if (outcome.kind === 'inconsistent') {
    process.stdout.write(formatEvidence(outcome, opts.state));
    return EXIT_INCONSISTENT;
  }
  process.stdout.write(`${formatConsistent(outcome, opts.state)}\n`);
  return 0;
}

/** A progress bar over the log's leaves for `--all-events`, on stderr (a terminal). */
function eventsBar(): { progress: (position: number, treeSize: number) => void; stop: () => void } {
  const bar = new SingleBar(
    { stream: process.stderr, format: 'audit --all-events [{bar}] {percentage}% | leaf {value}/{total} | {eta_formatted} left', hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    progress: (position, treeSize) => {
      if (!started) bar.start(treeSize, position);
      else bar.update(position);
      started = true;
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

export function pinnedVerifier(vkey: string): NoteVerifier {
  try {
    return parseVerifierKey(vkey.trim());
  } catch (err) {
    if (err instanceof VerificationError) throw new CliError(`--vkey is not a note verifier key (name+hex8+base64): ${err.message}`, 1);
    throw err;
  }
}

/** Runs an audit, turning every failure that is not evidence into a one-line CLI error. */
export async function auditOrCliError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof LogAccessError || err instanceof AuditStateError || err instanceof AuditInputError || err instanceof CheckpointRejectedError) {
      throw new CliError(err.message, 1);
    }
    throw err;
  }
}

export function formatEvidence(outcome: Extract<AuditOutcome, { kind: 'inconsistent' }>, stateFile: string): string {
  const parts = [
    `INCONSISTENT: ${outcome.message}`,
    `The state file ${stateFile} was left unchanged. Evidence:`,
    ...outcome.evidence.map((e) => `--- ${e.label} ---\n${e.note.endsWith('\n') ? e.note : `${e.note}\n`}`),
  ];
  return `${parts.join('\n')}`;
}

function formatConsistent(outcome: Extract<AuditOutcome, { kind: 'consistent' }>, stateFile: string): string {
  const { verdict, previous, current } = outcome;
  const root = `root ${bytesToHex(current.rootHash).slice(0, 16)}…`;
  let head: string;
  if (verdict.kind === 'first') head = `first audit: trusting checkpoint ${current.treeSize} (${root}); saved to ${stateFile}`;
  else if (verdict.kind === 'unchanged') head = `consistent: size ${current.treeSize} unchanged (${root})`;
  else head = `consistent: ${previous?.treeSize ?? 0} → ${current.treeSize} (+${verdict.growth}), ${root}; saved to ${stateFile}`;
  const extras: string[] = [];
  if (outcome.leavesProven > 0) extras.push(`${outcome.leavesProven} leaf inclusion proofs verified`);
  if (outcome.eventsChecked > 0 || outcome.eventsBeyond > 0) {
    const whole = outcome.eventsChecked - outcome.eventsRedacted;
    extras.push(
      `${whole} events verified against their leaves and the tree` +
        (outcome.eventsRedacted > 0 ? `, ${outcome.eventsRedacted} redacted (leaf hashes proven)` : ''),
    );
    if (outcome.eventsBeyond > 0) extras.push(`${outcome.eventsBeyond} newer events left for the next audit`);
  }
  if (outcome.witnesses) extras.push(formatCosignatures(outcome.witnesses));
  return [`audit: ${head}`, ...extras.map((e) => `  ${e}`)].join('\n');
}
