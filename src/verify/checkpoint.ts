/**
 * C2SP tlog-checkpoints (https://c2sp.org/tlog-checkpoint): a signed note whose text is
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[<extension line>\n]...
 *
 * Parsing is stricter than transparency-dev/formats where the spec says MUST but Go is
 * lenient: the tree size has no leading zeros (except "0") and no sign, the root hash
 * is canonical base64 of exactly 32 bytes, and extension lines are non-empty. Sizes
 * above Number.MAX_SAFE_INTEGER are rejected because they cannot be represented here.
 *
 * The origin is checked only if the caller passes the expected one: the verifier key
 * already pins the log operator, and the spec only RECOMMENDS that the key name match
 * the origin, so neither is tied to the other implicitly.
 */
import { base64 } from '@scure/base';
import { VerificationError } from './errors';
import {
  assertNoteCharacters,
  parseNote,
  parseVerifierKey,
  verifyNote,
  type NoteSignature,
  type NoteVerifier,
  type VerifiedNote,
} from './note';
import { HASH_SIZE } from './rfc6962';

const TREE_SIZE = /^(0|[1-9][0-9]*)$/;

export interface CheckpointBody {
  /** Unique identity of the log, e.g. "example.com/log42". */
  readonly origin: string;
  readonly treeSize: number;
  /** RFC 6962 root of the tree of treeSize leaves. */
  readonly rootHash: Uint8Array;
  /** Opaque extension lines, without their newlines. */
  readonly extensions: string[];
}

export interface CheckpointBodyInput {
  readonly origin: string;
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly extensions?: readonly string[];
}

/** A parsed, unverified checkpoint note. */
export interface Checkpoint extends CheckpointBody {
  readonly signatures: NoteSignature[];
}

/** A checkpoint whose signature by the trusted key has been verified. */
export interface VerifiedCheckpoint extends CheckpointBody {
  readonly note: VerifiedNote;
}

export interface CheckpointVerificationOptions {
  /** If set, the checkpoint's origin line must equal it exactly. */
  readonly origin?: string;
}

/** Renders the note text (the part that gets signed) of a checkpoint. */
export function formatCheckpointBody(body: CheckpointBodyInput): string {
  const { origin, treeSize, rootHash, extensions = [] } = body;
  if (origin === '' || origin.includes('\n')) {
    throw new VerificationError('INVALID_ARGUMENT', 'checkpoint origin must be a non-empty single line');
  }
  if (!Number.isSafeInteger(treeSize) || treeSize < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `treeSize must be a non-negative safe integer, got ${String(treeSize)}`);
  }
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) {
    throw new VerificationError('INVALID_ARGUMENT', `rootHash must be ${HASH_SIZE} bytes`);
  }
  for (const line of extensions) {
    if (line === '' || line.includes('\n')) {
      throw new VerificationError('INVALID_ARGUMENT', 'checkpoint extension lines must be non-empty single lines');
    }
  }
  const text = [origin, String(treeSize), base64.encode(rootHash), ...extensions].map((l) => `${l}\n`).join('');
  assertNoteCharacters(text);
  return text;
}

/** Parses a checkpoint note text (as returned by verifyNote), without any signature. */
export function parseCheckpointBody(text: string): CheckpointBody {
  assertNoteCharacters(text);
  if (!text.endsWith('\n')) {
    throw new VerificationError('MALFORMED_CHECKPOINT', 'checkpoint text must end with a newline');
  }
  const lines = text.slice(0, -1).split('\n');
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined) {
    throw new VerificationError('MALFORMED_CHECKPOINT', 'checkpoint must have origin, tree size and root hash lines');
  }
  if (lines.some((l) => l === '')) {
    throw new VerificationError('MALFORMED_CHECKPOINT', 'checkpoint lines must be non-empty');
  }
  if (!TREE_SIZE.test(sizeLine)) {
    throw new VerificationError('MALFORMED_CHECKPOINT', 'tree size must be decimal without leading zeros');
  }
  const treeSize = Number(sizeLine);
  if (!Number.isSafeInteger(treeSize)) {
    throw new VerificationError('MALFORMED_CHECKPOINT', `tree size ${sizeLine} exceeds Number.MAX_SAFE_INTEGER`);
  }
  let rootHash: Uint8Array;
  try {
    rootHash = base64.decode(rootLine);
  } catch {
    throw new VerificationError('MALFORMED_CHECKPOINT', 'root hash is not canonical base64');
  }
  if (rootHash.length !== HASH_SIZE) {
    throw new VerificationError('MALFORMED_CHECKPOINT', `root hash must be ${HASH_SIZE} bytes, got ${rootHash.length}`);
  }
  return { origin, treeSize, rootHash, extensions };
}

/** Parses a signed checkpoint note without verifying any signature. */
export function parseCheckpoint(noteText: string | Uint8Array): Checkpoint {
  const note = parseNote(noteText);
  return { ...parseCheckpointBody(note.text), signatures: note.signatures };
}

/**
 * Verifies that the checkpoint is signed by the key that verifierKey names (name, key ID
 * and signature must all match) and that its body is well formed. Other signatures,
 * such as witness cosignatures, are returned in note.unverifiedSignatures.
 */
export function verifyCheckpoint(
  noteText: string | Uint8Array,
  verifierKey: string | NoteVerifier,
  options: CheckpointVerificationOptions = {},
): VerifiedCheckpoint {
  const verifier = typeof verifierKey === 'string' ? parseVerifierKey(verifierKey) : verifierKey;
  const note = verifyNote(noteText, verifier);
  const body = parseCheckpointBody(note.text);
  if (options.origin !== undefined && body.origin !== options.origin) {
    throw new VerificationError(
      'ORIGIN_MISMATCH',
      `checkpoint origin ${JSON.stringify(body.origin)} is not the expected ${JSON.stringify(options.origin)}`,
    );
  }
  return { ...body, note };
}
