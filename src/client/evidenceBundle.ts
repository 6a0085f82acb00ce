/**
 * Evidence bundles (`GET /export?format=bundle`, `audit-ledger export --format bundle`) checked
 * from the client entry, in Node or a browser, with nothing but the log's verifier key. The
 * format and its checks are export/evidenceBundle.ts (the `verify-bundle` command uses the
 * same); this module answers as the client does elsewhere: the verified summary, or a typed
 * error naming each failing entry by line and leaf index.
 */
import {
  type BundleCheckOptions,
  type BundleProblem,
  type BundleReport,
  type BundleSummary,
  verifyEvidenceBundle,
  verifyEvidenceBundleStream,
} from '../export/evidenceBundle';
import { VerificationError } from '../verify';
import { LedgerClientError } from './errors';

/** Problems named in the error's message; all listed ones are in `problems`. */
const NAMED_PROBLEMS = 3;

/**
 * The bundle did not verify (code `EVIDENCE_BUNDLE`), or the verifier key is not one (code
 * `VERIFIER_KEY`, no problems). `problems` lists the failures in file order (at most
 * MAX_LISTED_PROBLEMS of them; `problemCount` counts all).
 */
export class EvidenceBundleError extends LedgerClientError {
  override name = 'EvidenceBundleError';
  constructor(
    code: 'EVIDENCE_BUNDLE' | 'VERIFIER_KEY',
    message: string,
    readonly problems: readonly BundleProblem[],
    readonly problemCount: number,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** `line 7, leaf 4711: the leaf text does not hash to …` (as `verify-bundle` prints it). */
export function describeBundleProblem(problem: BundleProblem): string {
  return `line ${problem.line}${problem.leafIndex !== undefined ? `, leaf ${problem.leafIndex}` : ''}: ${problem.message}`;
}

/**
 * Verifies a whole evidence bundle (its text, or its UTF-8 bytes): the checkpoint's signature
 * under `verifierKey` (and that its origin is the key's name), every entry's leaf hash and
 * inclusion proof, the order and the count. Answers what was verified; throws
 * EvidenceBundleError otherwise.
 */
export function verifyBundle(bundle: string | Uint8Array, verifierKey: string, options: BundleCheckOptions = {}): BundleSummary {
  return outcome(withKey(() => verifyEvidenceBundle(bundle, verifierKey, options)));
}

/**
 * The same, for a bundle read in chunks, in constant memory: bytes (a browser `File.stream()`,
 * a Node read stream) or text (`LedgerClient.export(filter, { format: 'bundle' })`).
 */
export async function verifyBundleStream(chunks: AsyncIterable<Uint8Array | string>, verifierKey: string, options: BundleCheckOptions = {}): Promise<BundleSummary> {
  let report: BundleReport;
  try {
    report = await verifyEvidenceBundleStream(bytesOf(chunks), verifierKey, options);
  } catch (err) {
    throw keyError(err);
  }
  return outcome(report);
}

async function* bytesOf(chunks: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  const utf8 = new TextEncoder();
  for await (const chunk of chunks) yield typeof chunk === 'string' ? utf8.encode(chunk) : chunk;
}

function withKey<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    throw keyError(err);
  }
}

/** Only the key is parsed before any line is read: every problem with the bundle is reported, never thrown. */
function keyError(err: unknown): unknown {
  if (err instanceof VerificationError) return new EvidenceBundleError('VERIFIER_KEY', `the verifier key is not a note verifier key (name+hex8+base64): ${err.message}`, [], 0, { cause: err });
  return err;
}

function outcome(report: BundleReport): BundleSummary {
  if (report.ok && report.summary) return report.summary;
  const named = report.problems.slice(0, NAMED_PROBLEMS).map(describeBundleProblem).join('; ');
  const more = report.problemCount > NAMED_PROBLEMS ? ` (and ${report.problemCount - NAMED_PROBLEMS} more)` : '';
  throw new EvidenceBundleError('EVIDENCE_BUNDLE', `the evidence bundle does not verify: ${named}${more}`, report.problems, report.problemCount);
}
