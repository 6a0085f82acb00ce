/**
 * `verify-bundle FILE --vkey KEY`: checks an evidence bundle (see export/evidenceBundle.ts)
 * with nothing but the log's verifier key: no server, no database. Reads the file in chunks,
 * so a bundle of millions of events needs constant memory.
 *
 * Exit 0 when every entry verified; 1 when anything does not (each failing entry is named by
 * line and leaf index, with what did not match), or the file cannot be read, or the key is not
 * a verifier key; 2 for a usage mistake.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Presets, SingleBar } from 'cli-progress';
import { type BundleProblem, verifyEvidenceBundleStream } from '../export/evidenceBundle';
import { nodeCryptoRfc6962 } from '../merkle/nodeHasher';
import { parseVerifierKey, type NoteVerifier, VerificationError } from '../verify';
import { CliError } from './cliError';

/** Problems printed one per line; the rest are counted. */
const PRINTED_PROBLEMS = 100;

export async function runVerifyBundle(file: string, opts: { readonly vkey: string }): Promise<number> {
  let verifier: NoteVerifier;
  try {
    verifier = parseVerifierKey(opts.vkey.trim());
  } catch (err) {
    if (err instanceof VerificationError) throw new CliError(`--vkey is not a note verifier key (name+hex8+base64): ${err.message}`, 1);
    throw err;
  }
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
  }
  const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: 'verify-bundle [{bar}] {percentage}% | {eta_formatted} left', hideCursor: true }, Presets.shades_classic) : undefined;
  bar?.start(size, 0);
  let read = 0;
  let printed = 0;
  const print = (p: BundleProblem): void => {
    if (printed++ >= PRINTED_PROBLEMS) return;
    bar?.stop();
    process.stdout.write(`  ${describe(p)}\n`);
  };
  const chunks = (async function* (): AsyncGenerator<Uint8Array> {
    for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
      read += chunk.length;
      bar?.update(read);
      yield chunk;
    }
  })();
  let report;
  try {
    report = await verifyEvidenceBundleStream(chunks, verifier, { hasher: nodeCryptoRfc6962, onProblem: print });
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 1);
  } finally {
    bar?.stop();
  }
  if (report.ok && report.summary) {
    const s = report.summary;
    const redacted = s.redacted > 0 ? ` (${s.redacted} redacted: leaf hash proven, no content)` : '';
    process.stdout.write(
      `verify-bundle: OK: ${s.entries} entr${s.entries === 1 ? 'y' : 'ies'}${redacted} proven against the checkpoint of ${s.origin} at size ${s.treeSize}, root ${s.rootHash.slice(0, 16)}…, signed by ${verifier.name}\n`,
    );
    return 0;
  }
  if (report.problemCount > PRINTED_PROBLEMS) process.stdout.write(`  … and ${report.problemCount - PRINTED_PROBLEMS} more\n`);
  process.stdout.write(`verify-bundle: FAILED: ${report.problemCount} problem${report.problemCount === 1 ? '' : 's'} in ${file} (listed above)\n`);
  return 1;
}

function describe(p: BundleProblem): string {
  return `line ${p.line}${p.leafIndex !== undefined ? `, leaf ${p.leafIndex}` : ''}: ${p.message}`;
}
