/**
 * `verify-db`: the operator's check that the database still holds the log it signed. Reads
 * the database directly (MONGODB_URI, or the embedded engine's data), so it also works while
 * the server is down. Exit 0 when intact, 1 when anything is wrong (every affected leaf
 * index is named) or the check could not run.
 */
import { availableParallelism } from 'node:os';
import { readFile } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import { parseSignerKey } from '../checkpoint/signer';
import { loadConfig } from '../config';
import { describeStorage, openStorage } from '../storage/open';
import { WrongDatabaseError } from '../storage/errors';
import { checkDatabase, type DatabaseCheckReport } from '../integrity/databaseCheck';
import { resolveKek } from '../lifecycle/kekSource';
import { Keyring } from '../lifecycle/keyring';
import { judgeSealed, type SealedVerdict } from '../lifecycle/sealedCheck';
import type { RawStoredEvent } from '../storage/port';
import { parseVerifierKey, VerificationError } from '../verify';
import { CliError } from './cliError';

export interface VerifyDbOptions {
  readonly vkey?: string;
  readonly progress?: boolean;
  readonly batchSize?: number;
  /** Worker threads that read and re-derive leaves (default: one per core; 0: none). */
  readonly workers?: number;
}

export async function runVerifyDb(opts: VerifyDbOptions): Promise<number> {
  const config = loadConfig();
  const verifierKey = opts.vkey ?? (await verifierKeyFromFile(config.signingKeyFile));
  try {
    parseVerifierKey(verifierKey);
  } catch (err) {
    if (err instanceof VerificationError) throw new CliError(`--vkey is not a verifier key: ${err.message}`, 1);
    throw err;
  }
  const described = describeStorage(config);
  process.stderr.write(`database: ${described}\n`);
  const storage = await openStorage(config, { create: false }).catch((err: unknown) => {
    if (err instanceof WrongDatabaseError) throw new CliError(err.message, 1);
    throw err;
  });
  // Sealed events (encryption at rest) are opened with the same KEK the server uses.
  let sealed: ((batch: readonly RawStoredEvent[]) => Promise<Map<RawStoredEvent, SealedVerdict>>) | undefined;
  if (await Keyring.exists(storage.lifecycle)) {
    try {
      const kek = await resolveKek(config.kek, storage.lifecycle);
      const keyring = await Keyring.open(storage.lifecycle, kek.kek);
      sealed = (batch) => judgeSealed(batch, storage.lifecycle, keyring);
    } catch (err) {
      await storage.close();
      throw new CliError(`verify-db: ${(err as Error).message}`, 1);
    }
  }
  const bar =
    opts.progress || process.stderr.isTTY
      ? new SingleBar(
          {
            stream: process.stderr,
            format: 'verify-db [{bar}] {percentage}% | {value}/{total} leaves | {eta_formatted} left',
            noTTYOutput: true,
            notTTYSchedule: 2000,
            hideCursor: true,
          },
          Presets.shades_classic,
        )
      : undefined;
  let report: DatabaseCheckReport;
  try {
    report = await checkDatabase({
      reader: storage.integrity,
      expectedLeaves: await storage.events.estimatedCount(),
      verifierKey,
      ...(sealed && { sealed }),
      ...(opts.batchSize !== undefined && { batchSize: opts.batchSize }),
      workers: opts.workers ?? availableParallelism(),
      onStart: (total) => bar?.start(total, 0),
      onProgress: (done) => bar?.update(done),
    });
  } finally {
    bar?.stop();
    await storage.close();
  }
  // A pinned key checked against an empty log proves nothing: most likely the wrong database.
  if (opts.vkey !== undefined && (report.latest === undefined || report.latest.treeSize === 0) && report.treeSize === 0) {
    process.stdout.write(`verify-db ${described}: EMPTY: the log holds no events, so nothing was checked against --vkey\n`);
    return 1;
  }
  process.stdout.write(formatReport(described, report));
  return report.intact ? 0 : 1;
}

async function verifierKeyFromFile(file: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read the signing key file ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'}); give the log's verifier key with --vkey`,
      1,
    );
  }
  try {
    return parseSignerKey(text.trim()).verifierKey;
  } catch (err) {
    throw new CliError(`${file} does not hold a signer key (${(err as Error).message}); give the verifier key with --vkey`, 1);
  }
}

export function formatReport(database: string, r: DatabaseCheckReport): string {
  const seconds = r.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(r.treeSize / seconds) : 0;
  const latest = r.latest
    ? `latest ${r.latest.treeSize}, root ${r.latest.rootHash.slice(0, 16)}…, signature ${r.latest.signatureProblem ? 'INVALID' : 'valid'}`
    : 'none stored';
  const lines = [
    `verify-db ${database}: ${r.intact ? 'INTACT' : `NOT INTACT: ${r.affected.size} leaf ${r.affected.size === 1 ? 'index' : 'indices'} affected`}`,
    `  leaves        ${r.treeSize} recomputed from the event documents${r.uncovered > 0 ? ` (${r.uncovered} after the latest checkpoint, not yet signed)` : ''}`,
    ...(r.redacted > 0 ? [`  redacted      ${r.redacted} (content destroyed by redaction; leaf hashes checked against the tree)`] : []),
    `  stored hashes ${r.storedHashesChecked} compared`,
    `  checkpoints   ${r.checkpointsChecked} roots compared; ${latest}`,
    `  time          ${seconds.toFixed(1)} s (${rate.toLocaleString('en-US')} leaves/s)`,
  ];
  if (!r.affected.isEmpty) lines.push(`  affected leaf indices: ${r.affected.toString()}`);
  if (r.details.length > 0) {
    lines.push('  findings:', ...r.details.map((d) => `    ${d}`));
    if (r.omittedDetails > 0) lines.push(`    … and ${r.omittedDetails} more findings (the affected indices above are complete)`);
  }
  if (r.explainedMismatches > 0) {
    lines.push(`  (${r.explainedMismatches} stored hashes and roots above the affected leaves differ as a consequence)`);
  }
  return `${lines.join('\n')}\n`;
}
