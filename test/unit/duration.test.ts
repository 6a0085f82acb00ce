import { DurationError, formatDuration, parseDuration } from '../../src/cli/duration';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['', '10', 'm', '1.5s', '-1s', '0s', '10 minutes', '1d', '5x'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
  });
});
