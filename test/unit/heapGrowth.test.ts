import { limitHeapGrowth, SERVER_HEAP_GROWING_PERCENT } from '../../src/cli/heapGrowth';
import { ConfigError } from '../../src/config';

describe('limitHeapGrowth', () => {
  it('sets the growing factor when the operator chose none', () => {
    const set: string[] = [];
    expect(limitHeapGrowth(['--enable-source-maps', '--max-old-space-size=512'], (f) => set.push(f), {})).toBe(`--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`);
    expect(set).toEqual([`--heap-growing-percent=${SERVER_HEAP_GROWING_PERCENT}`]);
  });

  it.each([[['--heap-growing-percent=0']], [['--max-old-space-size=512', '--heap_growing_percent=20']], [['--heap-growing-percent', '30']]])('leaves the operator’s choice alone (%j)', (execArgv) => {
    const set: string[] = [];
    expect(limitHeapGrowth(execArgv, (f) => set.push(f), { LEDGER_HEAP_GROWING_PERCENT: '80' })).toBeUndefined();
    expect(set).toEqual([]);
  });

  it('takes LEDGER_HEAP_GROWING_PERCENT, 0 for V8\'s own heuristics, and refuses anything else', () => {
    const set: string[] = [];
    expect(limitHeapGrowth([], (f) => set.push(f), { LEDGER_HEAP_GROWING_PERCENT: '100' })).toBe('--heap-growing-percent=100');
    expect(limitHeapGrowth([], (f) => set.push(f), { LEDGER_HEAP_GROWING_PERCENT: '0' })).toBeUndefined();
    expect(set).toEqual(['--heap-growing-percent=100']);
    for (const bad of ['-1', '1.5', 'lots', '1001', '99999'])
      expect(() => limitHeapGrowth([], (f) => set.push(f), { LEDGER_HEAP_GROWING_PERCENT: bad })).toThrow(ConfigError);
    expect(set).toHaveLength(1);
  });
});
