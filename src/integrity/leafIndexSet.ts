/**
 * A set of leaf indices kept as sorted, disjoint, half-open ranges. verify-db must name
 * every affected index, and one deleted tail or one edited high-level tile can affect
 * millions of leaves: ranges keep that report (and the memory behind it) small.
 */
export class LeafIndexSet {
  /** Sorted, disjoint, non-adjacent [begin, end) pairs. */
  private readonly ranges: [number, number][] = [];

  add(index: number): void {
    this.addRange(index, index + 1);
  }

  addRange(begin: number, end: number): void {
    if (end <= begin) return;
    const ranges = this.ranges;
    const last = ranges[ranges.length - 1];
    // Leaves arrive in index order, so almost every insertion extends or follows the last range.
    if (!last || begin > last[1]) {
      ranges.push([begin, end]);
      return;
    }
    if (begin >= last[0]) {
      last[1] = Math.max(last[1], end);
      return;
    }
    const i = this.firstEndingAtOrAfter(begin);
    let newBegin = begin;
    let newEnd = end;
    let j = i;
    while (j < ranges.length && ranges[j]![0] <= end) {
      newBegin = Math.min(newBegin, ranges[j]![0]);
      newEnd = Math.max(newEnd, ranges[j]![1]);
      j++;
    }
    ranges.splice(i, j - i, [newBegin, newEnd]);
  }

  /** Whether any index in [begin, end) is in the set. */
  intersects(begin: number, end: number): boolean {
    if (end <= begin) return false;
    const i = this.firstEndingAtOrAfter(begin + 1);
    const range = this.ranges[i];
    return range !== undefined && range[0] < end;
  }

  /** Whether any index below `end` is in the set. */
  anyBelow(end: number): boolean {
    const first = this.ranges[0];
    return first !== undefined && first[0] < end;
  }

  get size(): number {
    let n = 0;
    for (const [b, e] of this.ranges) n += e - b;
    return n;
  }

  get isEmpty(): boolean {
    return this.ranges.length === 0;
  }

  /** Inclusive ranges, e.g. [[3, 3], [7, 9]]. */
  toInclusiveRanges(): [number, number][] {
    return this.ranges.map(([b, e]) => [b, e - 1]);
  }

  /** "3, 7-9": every index, with runs collapsed. */
  toString(): string {
    return this.ranges.map(([b, e]) => (e - b === 1 ? String(b) : `${b}-${e - 1}`)).join(', ');
  }

  /** The first range whose end is at or after `at` (binary search). */
  private firstEndingAtOrAfter(at: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ranges[mid]![1] < at) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
