import fc from 'fast-check';
import { LeafIndexSet } from '../../src/integrity/leafIndexSet';

describe('LeafIndexSet', () => {
  it('collapses runs and merges out-of-order ranges', () => {
    const set = new LeafIndexSet();
    [3, 7, 8, 9, 20].forEach((i) => set.add(i));
    set.addRange(10, 12);
    set.addRange(0, 2);
    set.add(2);
    expect(set.toString()).toBe('0-3, 7-11, 20');
    expect(set.size).toBe(10);
    expect(set.intersects(4, 7)).toBe(false);
    expect(set.intersects(4, 8)).toBe(true);
    expect(set.intersects(12, 20)).toBe(false);
    expect(set.anyBelow(0)).toBe(false);
    expect(set.anyBelow(1)).toBe(true);
  });

  it('behaves like a plain set of indices', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(200), fc.nat(10))), fc.nat(200), fc.nat(20), (ranges, qBegin, qLen) => {
        const set = new LeafIndexSet();
        const plain = new Set<number>();
        for (const [begin, len] of ranges) {
          set.addRange(begin, begin + len);
          for (let i = begin; i < begin + len; i++) plain.add(i);
        }
        expect(set.size).toBe(plain.size);
        const expected = [...plain].some((i) => i >= qBegin && i < qBegin + qLen);
        expect(set.intersects(qBegin, qBegin + qLen)).toBe(expected);
        const listed = set.toInclusiveRanges().flatMap(([b, e]) => Array.from({ length: e - b + 1 }, (_, k) => b + k));
        expect(listed).toEqual([...plain].sort((a, b) => a - b));
      }),
    );
  });
});
