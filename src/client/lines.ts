/**
 * Lines of a streamed HTTP body (NDJSON, CSV), as they arrive: memory stays bounded by one
 * chunk and one line, whatever the size of the export.
 */
import { LedgerNetworkError } from './errors';

export interface Line {
  readonly text: string;
  /** False for a last line that ended without a newline (possibly cut short). */
  readonly terminated: boolean;
}

/** Yields each line (without its `\n` or `\r\n`). Stopping early cancels the body. */
export async function* lines(body: ReadableStream<Uint8Array>, what: string): AsyncGenerator<Line, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let rest = '';
  let finished = false;
  let count = 0;
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (err) {
        throw new LedgerNetworkError(`${what} broke off after ${count} lines: ${(err as Error).message}`, { cause: err });
      }
      if (chunk.done) break;
      const parts = (rest + decoder.decode(chunk.value, { stream: true })).split('\n');
      rest = parts.pop()!;
      for (const part of parts) {
        count++;
        yield { text: part.endsWith('\r') ? part.slice(0, -1) : part, terminated: true };
      }
    }
    finished = true;
    rest += decoder.decode();
    if (rest !== '') yield { text: rest, terminated: false };
  } finally {
    // The caller stopped reading (or a line failed): close the connection rather than drain it.
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
