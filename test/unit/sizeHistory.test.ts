import { MAX_HISTORY_POINTS, sampleInstants, SizeHistoryRangeError, sizePoints } from '../../src/log/sizeHistory';

const at = (ms: number): Date => new Date(Date.UTC(2026, 0, 1) + ms);
const offsets = (dates: Date[]): number[] => dates.map((d) => d.getTime() - at(0).getTime());

describe('sampleInstants', () => {
  it.each([
    ['one point: the end alone', 0, 1000, 1, [1000]],
    ['two points: both ends', 0, 1000, 2, [0, 1000]],
    ['evenly spaced, ends included', 0, 1000, 5, [0, 250, 500, 750, 1000]],
    ['uneven steps round to the millisecond, the last is the end exactly', 0, 1000, 4, [0, 333, 667, 1000]],
    ['an empty window repeats its instant', 500, 500, 3, [500, 500, 500]],
  ] as const)('%s', (_title, from, to, points, expected) => {
    expect(offsets(sampleInstants(at(from), at(to), points))).toEqual(expected);
  });

  it('gives at most the largest count', () => {
    expect(sampleInstants(at(0), at(10_000), MAX_HISTORY_POINTS)).toHaveLength(MAX_HISTORY_POINTS);
  });

  it.each([
    ['no points', 0, 1000, 0],
    ['negative points', 0, 1000, -3],
    ['too many points', 0, 1000, MAX_HISTORY_POINTS + 1],
    ['a fractional count', 0, 1000, 2.5],
    ['a window running backwards', 1000, 0, 10],
  ] as const)('refuses %s', (_title, from, to, points) => {
    expect(() => sampleInstants(at(from), at(to), points)).toThrow(SizeHistoryRangeError);
  });

  it('refuses an invalid instant', () => {
    expect(() => sampleInstants(new Date(Number.NaN), at(0), 2)).toThrow(SizeHistoryRangeError);
  });
});

describe('sizePoints', () => {
  it('pairs each instant with its checkpoint and leaves out those before the first', () => {
    const instants = [at(0), at(10), at(20)];
    const marks = [undefined, { treeSize: 3, createdAt: at(5) }, { treeSize: 7, createdAt: at(20) }];
    expect(sizePoints(instants, marks)).toEqual([
      { at: at(10), treeSize: 3, signedAt: at(5) },
      { at: at(20), treeSize: 7, signedAt: at(20) },
    ]);
  });
});
