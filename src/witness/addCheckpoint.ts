/**
 * The wire format of C2SP tlog-witness `add-checkpoint` (https://c2sp.org/tlog-witness),
 * without I/O: the request body a log sends, and what it makes of the witness's answer.
 *
 *   request   old <size the witness last cosigned>\n
 *             <consistency proof hash, base64>\n ...   (none from size 0 or the same size)
 *             \n
 *             <the log-signed checkpoint note>
 *   200       the witness's signature lines over the checkpoint text ("— name base64\n"...)
 *   409       text/x.tlog.size: "<the size the witness has>\n"; retry from that size
 *
 * A 200 answer is believed only for lines that are valid `cosignature/v1` cosignatures by
 * the key configured for that witness, over exactly the checkpoint sent: a witness may add
 * signatures of other types or keys, and a broken or hostile one may send anything.
 */
import { base64 } from '@scure/base';
import { verifyCosignatures, type WitnessVerifier } from '../verify/cosignature';
import { VerificationError } from '../verify/errors';
import { formatSignatureLine, parseNote } from '../verify/note';
import { HASH_SIZE } from '../verify/rfc6962';

/** The media type of a 409 answer's body. */
export const TLOG_SIZE_MEDIA_TYPE = 'text/x.tlog.size';

export interface AddCheckpointRequest {
  /** The size of the checkpoint the witness last cosigned for this log (0: none yet). */
  readonly oldSize: number;
  /** RFC 6962 consistency proof from `oldSize` to the checkpoint's size. */
  readonly consistencyProof: readonly Uint8Array[];
  /** The checkpoint as signed by the log: text, blank line, the log's signature line(s). */
  readonly checkpointNote: string;
}

/** A witness answer the log cannot use; `reason` says why, for logs and metrics. */
export class WitnessResponseError extends Error {
  override name = 'WitnessResponseError';
  constructor(message: string) {
    super(message);
  }
}

export function formatAddCheckpointRequest(request: AddCheckpointRequest): string {
  const { oldSize, consistencyProof, checkpointNote } = request;
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `old size must be a non-negative safe integer, got ${String(oldSize)}`);
  }
  for (const hash of consistencyProof) {
    if (hash.length !== HASH_SIZE) throw new VerificationError('INVALID_ARGUMENT', `consistency proof hashes must be ${HASH_SIZE} bytes`);
  }
  // Checked so that a malformed note fails here, not as a puzzling 400 from the witness.
  parseNote(checkpointNote);
  const proof = consistencyProof.map((hash) => `${base64.encode(hash)}\n`).join('');
  return `old ${oldSize}\n${proof}\n${checkpointNote}`;
}

/** The witness's current size from a 409 body ("<decimal>\n"). */
export function parseWitnessSize(body: string): number {
  const match = /^(0|[1-9][0-9]{0,15})\n?$/.exec(body);
  const size = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(size)) {
    throw new WitnessResponseError(`a 409 answer must carry the witness's tree size as a decimal line, got ${JSON.stringify(body.slice(0, 40))}`);
  }
  return size;
}

/** A cosignature accepted from a witness: the signature line to publish, and when it was made. */
export interface AcceptedCosignature {
  /** "— <witness name> <base64(key ID || timestamp || signature)>\n" */
  readonly line: string;
  /** Unix seconds, as the witness states. */
  readonly timestamp: number;
}

/**
 * The cosignature by `witness` in a 200 answer to a request for `checkpointNote`. Throws
 * WitnessResponseError when the answer is not signature lines or holds no valid
 * cosignature by that key over this checkpoint.
 */
export function acceptCosignature(checkpointNote: string, responseBody: string, witness: WitnessVerifier): AcceptedCosignature {
  const { text } = parseNote(checkpointNote);
  const body = responseBody.endsWith('\n') ? responseBody : `${responseBody}\n`;
  let cosigned: ReturnType<typeof parseNote>;
  try {
    // The answer is the signature block of the same note: read it as one.
    cosigned = parseNote(`${text}\n${body}`);
    if (cosigned.text !== text) throw new WitnessResponseError('the answer is not signature lines only');
  } catch (err) {
    if (err instanceof WitnessResponseError) throw err;
    throw new WitnessResponseError(`the answer is not signature lines: ${err instanceof Error ? err.message : String(err)}`);
  }
  const [result] = verifyCosignatures(`${text}\n${body}`, [witness]);
  if (!result || result.status === 'absent') {
    throw new WitnessResponseError(`the answer has no cosignature by ${witness.verifierKey}`);
  }
  if (result.status !== 'valid' || result.timestamp === undefined) {
    throw new WitnessResponseError(`the cosignature by ${witness.name} is invalid (${result.reason ?? 'does not verify'})`);
  }
  const signature = cosigned.signatures.find((s) => s.name === witness.name && s.keyId === witness.keyId)!;
  return { line: formatSignatureLine(signature), timestamp: result.timestamp };
}

/** The checkpoint note with cosignature lines appended, as published. */
export function withCosignatures(checkpointNote: string, lines: readonly string[]): string {
  return lines.length === 0 ? checkpointNote : checkpointNote + lines.join('');
}
