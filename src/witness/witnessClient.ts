/**
 * One C2SP tlog-witness `add-checkpoint` round trip over HTTP, answered as an outcome the
 * witnessing service decides on; it never throws. The wire format is addCheckpoint.ts.
 */
import type { WitnessEndpoint } from '../config';
import type { WitnessVerifier } from '../verify/cosignature';
import { type AcceptedCosignature, type AddCheckpointRequest, acceptCosignature, formatAddCheckpointRequest, parseWitnessSize } from './addCheckpoint';

export type AddCheckpointOutcome =
  /** 200 with a valid cosignature by the configured key. */
  | { readonly kind: 'cosigned'; readonly cosignature: AcceptedCosignature }
  /** 409: the witness has cosigned another size of this log; retry with a proof from it. */
  | { readonly kind: 'conflict'; readonly witnessSize: number }
  /** The witness answered but will not cosign, or answered nonsense: 403, 404, 422, a bad 200... */
  | { readonly kind: 'refused'; readonly status: number; readonly message: string }
  /** No answer: connection refused, timeout, reset. */
  | { readonly kind: 'unreachable'; readonly message: string };

/** The `fetch` subset used, so tests can stand in for a witness. */
export type FetchLike = (url: string, init: { method: 'POST'; body: string; headers: Record<string, string>; signal: AbortSignal }) => Promise<{
  readonly status: number;
  text(): Promise<string>;
}>;

/** Answers longer than this are not a few signature lines: read no further. */
const MAX_ANSWER_CHARS = 64 * 1024;

export async function addCheckpoint(
  endpoint: WitnessEndpoint,
  witness: WitnessVerifier,
  request: AddCheckpointRequest,
  options: { readonly timeoutMs: number; readonly fetch?: FetchLike },
): Promise<AddCheckpointOutcome> {
  const body = formatAddCheckpointRequest(request);
  const send = options.fetch ?? (fetch as unknown as FetchLike);
  let status: number;
  let text: string;
  try {
    const response = await send(`${endpoint.url}/add-checkpoint`, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    status = response.status;
    text = (await response.text()).slice(0, MAX_ANSWER_CHARS);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    const message = err instanceof Error && err.name === 'TimeoutError' ? `no answer within ${options.timeoutMs} ms` : `${err instanceof Error ? err.message : String(err)}${cause}`;
    return { kind: 'unreachable', message };
  }
  const said = text.trim().slice(0, 200);
  if (status === 200) {
    try {
      return { kind: 'cosigned', cosignature: acceptCosignature(request.checkpointNote, text, witness) };
    } catch (err) {
      return { kind: 'refused', status, message: err instanceof Error ? err.message : String(err) };
    }
  }
  if (status === 409) {
    try {
      return { kind: 'conflict', witnessSize: parseWitnessSize(text) };
    } catch (err) {
      return { kind: 'refused', status, message: err instanceof Error ? err.message : String(err) };
    }
  }
  return { kind: 'refused', status, message: said === '' ? `HTTP ${status}` : `HTTP ${status}: ${said}` };
}
