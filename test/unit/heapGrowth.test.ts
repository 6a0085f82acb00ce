import { limitHeapGrowth, SERVER_HEAP_GROWING_PERCENT } from '../../src/cli/heapGrowth';

describe('limitHeapGrowth', () => {
  it('sets the growing factor when the operator chose none', () => {
    const set: string[] = [];
    expect(limitHeapGrowth(['--enable-source-maps', '--max-old-space-size=512'], (f) => set.push(f))).toBe(`--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`);
    expect(set).toEqual([`--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`]);
  });

  it.each([[['--heap-growing-percent=0']], [['--max-old-space-size=512', '--heap_growing_percent=20']], [['--heap-growing-percent', '30']]])('leaves the operator’s choice alone (%j)', (execArgv) => {
    const set: string[] = [];
    expect(limitHeapGrowth(execArgv, (f) => set.push(f))).toBeUndefined();
    expect(set).toEqual([]);
  });
});
