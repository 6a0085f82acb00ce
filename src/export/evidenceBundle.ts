/**
 * The evidence bundle: events an auditor can check with nothing but the log's verifier key.
 * JSON Lines (UTF-8, each line compact JSON ending in "\n"), written by `GET /export?format=bundle`
 * and checked by `audit-ledger verify-bundle`:
 *
 *   {"format":"audit-ledger.evidence-bundle.v1","treeSize":N,"rootHash":"<hex>","checkpoint":"<signed note>"}
 *   {"leafIndex":i,"leafHash":"<hex>","proof":["<hex>",…],"leaf":"<canonical leaf text>"}
 *   {"leafIndex":j,"leafHash":"<hex>","proof":["<hex>",…],"redacted":true}
 *   {"entries":2}
 *
 * The first line is the C2SP checkpoint every proof leads to (its tree size and root repeated
 * for readers; they must equal the signed note's). Then one line per event, in log order, each
 * leaf index at most once: the leaf text the tree commits to, its RFC 6962 leaf hash, and the
 * inclusion proof of that hash in the checkpoint's tree. A redacted event (content destroyed by
 * crypto-shredding) has no leaf text: its leaf hash and proof only, marked `"redacted":true`.
 * The last line counts the entries, so a cut-off file is told apart from a short one.
 *
 * What a verified bundle proves: each leaf text (or, redacted, each leaf hash) is at its leaf
 * index in the log the key's owner signed at that size. What it cannot prove: that no other
 * event matched the export's filter (the filter is the exporter's word, so it is not in the
 * bundle); compare the leaf indices with the log when completeness matters.
 *
 * Every field present is verified or strictly checked (unknown fields are refused), so an
 * edit anywhere either fails verification or leaves the verified content as it was. Pure and
 * browser-safe: only `../verify`.
 */
import {
  bytesToHex,
  hexToBytes,
  type NoteVerifier,
  parseVerifierKey,
  rfc6962,
  type Rfc6962Hasher,
  VerificationError,
  verifyCheckpoint,
  type VerifiedCheckpoint,
  verifyInclusion,
} from '../verify';

export const EVIDENCE_BUNDLE_FORMAT = 'audit-ledger.evidence-bundle.v1';

export interface BundleHeader {
  readonly format: typeof EVIDENCE_BUNDLE_FORMAT;
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly rootHash: string;
  /** The C2SP signed checkpoint note. */
  readonly checkpoint: string;
}

export type BundleEntry =
  | { readonly leafIndex: number; readonly leafHash: string; readonly proof: readonly string[]; readonly leaf: string }
  | { readonly leafIndex: number; readonly leafHash: string; readonly proof: readonly string[]; readonly redacted: true };

export interface BundleEnd {
  readonly entries: number;
}

// ---- writing ------------------------------------------------------------------------------

/** The first line: the checkpoint the bundle is proven against. */
export function bundleHeaderLine(checkpoint: { readonly treeSize: number; readonly rootHash: string; readonly note: string }): string {
  const header: BundleHeader = { format: EVIDENCE_BUNDLE_FORMAT, treeSize: checkpoint.treeSize, rootHash: checkpoint.rootHash, checkpoint: checkpoint.note };
  return `${JSON.stringify(header)}\n`;
}

/** One event's line. Hex needs no escaping, so only the leaf text goes through JSON.stringify. */
export function bundleEntryLine(entry: BundleEntry): string {
  const proof = entry.proof.map((h) => `"${h}"`).join(',');
  const tail = 'leaf' in entry ? `"leaf":${JSON.stringify(entry.leaf)}` : '"redacted":true';
  return `{"leafIndex":${entry.leafIndex},"leafHash":"${entry.leafHash}","proof":[${proof}],${tail}}\n`;
}

/** The last line. */
export function bundleEndLine(entries: number): string {
  const end: BundleEnd = { entries };
  return `${JSON.stringify(end)}\n`;
}

// ---- verifying ----------------------------------------------------------------------------

/** What failed, where: the line (1-based) and, when known, the entry's leaf index. */
export interface BundleProblem {
  readonly line: number;
  readonly leafIndex?: number;
  readonly message: string;
}

export interface BundleSummary {
  readonly origin: string;
  readonly treeSize: number;
  /** Lowercase hex. */
  readonly rootHash: string;
  /** Entries verified (redacted ones included). */
  readonly entries: number;
  /** Of those, redacted: leaf hash proven, no text to check. */
  readonly redacted: number;
}

export interface BundleVerifierOptions {
  /** Hash functions (default: the portable ones of `audit-ledger/verify`; Node callers may pass faster ones). */
  readonly hasher?: Rfc6962Hasher;
  /**
   * Verifies the checkpoint note (default: `verifyCheckpoint` with the origin pinned to the
   * key's name). For callers checking many bundles against one checkpoint, who may memoize it
   * by note text.
   */
  readonly verifyCheckpointNote?: (note: string, verifier: NoteVerifier) => VerifiedCheckpoint;
}

const HEX_HASH = /^[0-9a-f]{64}$/;
const HEADER_KEYS = ['checkpoint', 'format', 'rootHash', 'treeSize'];
const ENTRY_KEYS = ['leaf', 'leafHash', 'leafIndex', 'proof'];
const REDACTED_KEYS = ['leafHash', 'leafIndex', 'proof', 'redacted'];
/** An RFC 6962 proof in a tree of at most 2^63 leaves. */
const MAX_PROOF_HASHES = 64;
const utf8 = new TextEncoder();

class LineProblem extends Error {
  constructor(
    message: string,
    readonly leafIndex?: number,
  ) {
    super(message);
  }
}

function defaultCheckpointVerifier(note: string, verifier: NoteVerifier): VerifiedCheckpoint {
  return verifyCheckpoint(note, verifier, { origin: verifier.name });
}

/**
 * Checks a bundle line by line (so a file of millions of events needs constant memory): feed
 * each line without its "\n" to `line`, then call `end`. A problem in the header stops the
 * check (nothing can be proven without a verified checkpoint); a problem in an entry is
 * reported and the check goes on with the next one.
 */
export class EvidenceBundleVerifier {
  private readonly verifier: NoteVerifier;
  private readonly hasher: Rfc6962Hasher;
  private readonly verifyNote: (note: string, verifier: NoteVerifier) => VerifiedCheckpoint;
  private state: 'header' | 'entries' | 'ended' | 'failed' = 'header';
  private lineNumber = 0;
  private checkpoint: { origin: string; treeSize: number; rootHash: Uint8Array } | undefined;
  private previousLeaf = -1;
  private entryLines = 0;
  private verified = 0;
  private redacted = 0;
  private problemCount = 0;

  /** Throws VerificationError when `verifierKey` is not a verifier key. */
  constructor(verifierKey: string | NoteVerifier, options: BundleVerifierOptions = {}) {
    this.verifier = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey.trim()) : verifierKey;
    this.hasher = options.hasher ?? rfc6962;
    this.verifyNote = options.verifyCheckpointNote ?? defaultCheckpointVerifier;
  }

  /** Problems reported so far. */
  get problems(): number {
    return this.problemCount;
  }

  /**
   * Checks the next line (its text without the newline; null when its bytes are not UTF-8);
   * answers what is wrong with it, if anything.
   */
  line(text: string | null): BundleProblem | undefined {
    const line = ++this.lineNumber;
    if (this.state === 'failed') return undefined;
    try {
      if (text === null) {
        // Counted as an entry (any line between header and end line is one), so the end line's count still adds up.
        if (this.state === 'entries') this.entryLines++;
        throw new LineProblem('the line is not valid UTF-8');
      }
      if (this.state === 'header') this.header(text);
      else if (this.state === 'ended') throw new LineProblem('a line after the end line');
      else this.entryOrEnd(text);
      return undefined;
    } catch (err) {
      if (!(err instanceof LineProblem)) throw err;
      if (this.state === 'header') this.state = 'failed';
      this.problemCount++;
      return { line, ...(err.leafIndex !== undefined && { leafIndex: err.leafIndex }), message: err.message };
    }
  }

  /** After the last line: the summary when every line verified, else the last problem (if not reported yet). */
  end(): { readonly summary: BundleSummary } | { readonly problem?: BundleProblem } {
    if (this.state === 'failed') return {};
    if (this.state !== 'ended') {
      this.problemCount++;
      const what = this.state === 'header' ? 'the bundle is empty' : `the bundle ends without its end line after ${this.entryLines} entries (cut off?)`;
      return { problem: { line: this.lineNumber, message: what } };
    }
    if (this.problemCount > 0) return {};
    const cp = this.checkpoint!;
    return { summary: { origin: cp.origin, treeSize: cp.treeSize, rootHash: bytesToHex(cp.rootHash), entries: this.verified, redacted: this.redacted } };
  }

  private header(text: string): void {
    const header = objectOf(text, 'the header line');
    const keys = Object.keys(header).sort();
    if (header.format !== EVIDENCE_BUNDLE_FORMAT) {
      throw new LineProblem(
        typeof header.format === 'string' && header.format.startsWith('audit-ledger.evidence-bundle.')
          ? `bundle format ${JSON.stringify(header.format)} is not supported (this verifier reads ${EVIDENCE_BUNDLE_FORMAT})`
          : `not an evidence bundle: the first line must have "format":"${EVIDENCE_BUNDLE_FORMAT}"`,
      );
    }
    if (!sameKeys(keys, HEADER_KEYS)) throw new LineProblem(`the header line must have exactly the fields ${HEADER_KEYS.join(', ')} (has ${keys.join(', ')})`);
    if (typeof header.checkpoint !== 'string') throw new LineProblem('the header line\'s checkpoint is not a signed note (text)');
    let cp: VerifiedCheckpoint;
    try {
      cp = this.verifyNote(header.checkpoint, this.verifier);
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      throw new LineProblem(`the checkpoint does not verify with the verifier key ${this.verifier.name}: ${err.message}`);
    }
    if (header.treeSize !== cp.treeSize) throw new LineProblem(`the header says treeSize ${String(header.treeSize)}, its signed checkpoint ${cp.treeSize}`);
    const root = bytesToHex(cp.rootHash);
    if (header.rootHash !== root) throw new LineProblem(`the header says rootHash ${String(header.rootHash)}, its signed checkpoint ${root}`);
    this.checkpoint = { origin: cp.origin, treeSize: cp.treeSize, rootHash: cp.rootHash };
    this.state = 'entries';
  }

  private entryOrEnd(text: string): void {
    let value: Record<string, unknown>;
    try {
      value = objectOf(text, 'an entry line');
    } catch (err) {
      this.entryLines++;
      throw err;
    }
    const keys = Object.keys(value).sort();
    if (keys.length === 1 && keys[0] === 'entries') {
      this.state = 'ended';
      if (value.entries !== this.entryLines) {
        throw new LineProblem(`the end line counts ${String(value.entries)} entries, the bundle has ${this.entryLines}`);
      }
      return;
    }
    this.entryLines++;
    const cp = this.checkpoint!;
    const leafIndex = value.leafIndex;
    if (typeof leafIndex !== 'number' || !Number.isSafeInteger(leafIndex) || leafIndex < 0) {
      throw new LineProblem(`an entry whose leafIndex ${JSON.stringify(leafIndex) ?? 'is missing'} is not a leaf index`);
    }
    const fail = (message: string): never => {
      throw new LineProblem(message, leafIndex);
    };
    const redacted = value.redacted === true;
    const expected = redacted ? REDACTED_KEYS : ENTRY_KEYS;
    if (!sameKeys(keys, expected)) fail(`the entry must have exactly the fields ${expected.join(', ')} (has ${keys.join(', ')})`);
    if (leafIndex >= cp.treeSize) fail(`leaf index ${leafIndex} is not below the checkpoint's tree size ${cp.treeSize}`);
    if (leafIndex <= this.previousLeaf) fail(`leaf index ${leafIndex} does not follow leaf ${this.previousLeaf} (entries are in log order, each leaf once)`);
    this.previousLeaf = leafIndex;
    if (typeof value.leafHash !== 'string' || !HEX_HASH.test(value.leafHash)) fail('leafHash is not 32 bytes of lowercase hex');
    const proof = value.proof;
    if (!Array.isArray(proof) || proof.length > MAX_PROOF_HASHES || !proof.every((h) => typeof h === 'string' && HEX_HASH.test(h))) {
      fail('proof is not a list of hashes (32 bytes of lowercase hex each)');
    }
    const leafHash = value.leafHash as string;
    if (!redacted) {
      if (typeof value.leaf !== 'string') fail('leaf is not text');
      const actual = bytesToHex(this.hasher.leafHash(utf8.encode(value.leaf as string)));
      if (actual !== leafHash) fail(`the leaf text does not hash to leafHash ${leafHash} (it hashes to ${actual})`);
    }
    try {
      verifyInclusion(
        { leafHash: hexToBytes(leafHash), leafIndex, treeSize: cp.treeSize, proof: (proof as string[]).map(hexToBytes), rootHash: cp.rootHash },
        this.hasher,
      );
    } catch (err) {
      if (!(err instanceof VerificationError)) throw err;
      fail(`the inclusion proof does not lead to the checkpoint's root (tree size ${cp.treeSize}): ${err.message}`);
    }
    this.verified++;
    if (redacted) this.redacted++;
  }
}

export interface BundleReport {
  readonly ok: boolean;
  /** Present when every entry verified. */
  readonly summary?: BundleSummary;
  /** The first problems found (at most `MAX_LISTED_PROBLEMS`), in file order. */
  readonly problems: readonly BundleProblem[];
  /** All problems found. */
  readonly problemCount: number;
}

export const MAX_LISTED_PROBLEMS = 1000;

export interface BundleCheckOptions extends BundleVerifierOptions {
  /** Called with each problem as it is found. */
  readonly onProblem?: (problem: BundleProblem) => void;
}

/**
 * Verifies a whole bundle held in memory. Bytes must be UTF-8 (invalid bytes are a problem,
 * never replaced) and the bundle must end with a newline.
 */
export function verifyEvidenceBundle(bundle: string | Uint8Array, verifierKey: string | NoteVerifier, options: BundleCheckOptions = {}): BundleReport {
  const check = new BundleCheck(verifierKey, options);
  check.push(typeof bundle === 'string' ? utf8.encode(bundle) : bundle);
  return check.finish();
}

/** Verifies a bundle read in chunks (a file of any size, in constant memory). */
export async function verifyEvidenceBundleStream(
  chunks: AsyncIterable<Uint8Array>,
  verifierKey: string | NoteVerifier,
  options: BundleCheckOptions = {},
): Promise<BundleReport> {
  const check = new BundleCheck(verifierKey, options);
  for await (const chunk of chunks) check.push(chunk);
  return check.finish();
}

/** Splits bytes into lines at "\n", decodes each strictly, and feeds the verifier. */
class BundleCheck {
  private readonly verifier: EvidenceBundleVerifier;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly problems: BundleProblem[] = [];
  private rest: Uint8Array[] = [];
  private lines = 0;
  private count = 0;

  constructor(
    verifierKey: string | NoteVerifier,
    private readonly options: BundleCheckOptions,
  ) {
    this.verifier = new EvidenceBundleVerifier(verifierKey, options);
  }

  push(chunk: Uint8Array): void {
    let start = 0;
    for (let nl = chunk.indexOf(0x0a); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.rest.length === 0 ? piece : concat([...this.rest, piece]);
      this.rest = [];
      this.feed(line);
      start = nl + 1;
    }
    // Copied: a stream may reuse its chunk's memory.
    if (start < chunk.length) this.rest.push(chunk.slice(start));
  }

  finish(): BundleReport {
    if (this.rest.length > 0) {
      this.feed(concat(this.rest));
      this.rest = [];
      this.collect({ line: this.lines, message: 'the bundle does not end with a newline (cut off?)' });
    }
    const end = this.verifier.end();
    if ('problem' in end && end.problem) this.collect(end.problem);
    if (this.count === 0 && 'summary' in end) return { ok: true, summary: end.summary, problems: [], problemCount: 0 };
    return { ok: false, problems: this.problems, problemCount: this.count };
  }

  private feed(bytes: Uint8Array): void {
    this.lines++;
    let text: string | null;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      text = null;
    }
    const problem = this.verifier.line(text);
    if (problem) this.collect(problem);
  }

  private collect(problem: BundleProblem): void {
    this.count++;
    if (this.problems.length < MAX_LISTED_PROBLEMS) this.problems.push(problem);
    this.options.onProblem?.(problem);
  }
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One line as a JSON object, or a LineProblem. */
function objectOf(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new LineProblem(`${what} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new LineProblem(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function sameKeys(sorted: readonly string[], expected: readonly string[]): boolean {
  return sorted.length === expected.length && sorted.every((k, i) => k === expected[i]);
}
