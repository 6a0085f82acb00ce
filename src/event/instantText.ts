/**
 * ISO-8601 texts of instants met in runs. Along the log neighbouring events share their
 * `recordedAt` (one batch, one millisecond), and a reader of one event asks for its
 * `occurredAt` and `recordedAt` in turn, so an encoder remembers the last two instants and
 * formats each only once: Date#toISOString was a tenth of building a leaf or an export line.
 */
export type InstantEncoder = (epochMs: number) => string;

/** An encoder of epoch milliseconds as `format` writes them (plain ISO text by default). */
export function instantEncoder(format: (epochMs: number) => string = (ms) => new Date(ms).toISOString()): InstantEncoder {
  let time0 = Number.NaN;
  let text0 = '';
  let time1 = Number.NaN;
  let text1 = '';
  return (time) => {
    if (time === time0) return text0;
    // The instant asked for takes the first slot, the other one the second: two instants
    // alternating both stay.
    const text = time === time1 ? text1 : format(time);
    time1 = time0;
    text1 = text0;
    time0 = time;
    text0 = text;
    return text;
  };
}
