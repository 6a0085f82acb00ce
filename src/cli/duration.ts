/** Durations on the command line: a whole number and a unit, e.g. `500ms`, `30s`, `10m`, `1h`. */

export class DurationError extends Error {
  override readonly name = 'DurationError';
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d{1,9})(ms|s|m|h)$/;

/** Milliseconds in `text`; throws DurationError for anything else (including zero). */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new DurationError(`${JSON.stringify(text)} is not a duration like 500ms, 30s, 10m or 1h`);
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  if (ms === 0) throw new DurationError('a duration must be longer than zero');
  return ms;
}

/** The shortest exact rendering, for messages: 600000 → "10m". */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    if (ms >= UNIT_MS[unit]! && ms % UNIT_MS[unit]! === 0) return `${ms / UNIT_MS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}
