import { RecentBlinds } from '../../src/lifecycle/recentBlinds';

describe('recent blind indexes', () => {
  it('computes each value of a recurring cycle as long as its limit once, however often it recurs', () => {
    const recent = new RecentBlinds(4);
    const computed: string[] = [];
    const compute = (v: string): string => {
      computed.push(v);
      return `blind(${v})`;
    };
    const cycle = ['a', 'b', 'c', 'd'];
    for (let round = 0; round < 5; round++) for (const v of cycle) expect(recent.get(v, compute)).toBe(`blind(${v})`);
    expect(computed).toEqual(cycle);
  });

  it('holds at most two generations, and computes again what both have dropped', () => {
    const recent = new RecentBlinds(2);
    const compute = jest.fn((v: string) => `blind(${v})`);
    for (const v of ['a', 'b', 'c', 'd', 'e', 'f']) recent.get(v, compute);
    expect(recent.size).toBeLessThanOrEqual(4);
    recent.get('a', compute);
    expect(compute).toHaveBeenCalledTimes(7);
  });
});
