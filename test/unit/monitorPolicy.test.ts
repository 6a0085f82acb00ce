import { MonitorPolicy } from '../../src/audit/monitorPolicy';

describe('the monitor policy', () => {
  const root = 'ab'.repeat(32);

  it('prints one line per poll with the growth since the last one', () => {
    const policy = new MonitorPolicy(0, undefined);
    expect(policy.observe({ at: 0, treeSize: 5, rootHex: root })).toBe(`1970-01-01T00:00:00.000Z size=5 root=${root.slice(0, 16)} first poll`);
    expect(policy.observe({ at: 1000, treeSize: 9, rootHex: root })).toMatch(/ size=9 root=abababababababab \+4$/);
    expect(policy.staleness(10 ** 9)).toBeUndefined();
  });

  it('is stale only after the checkpoint has not advanced for longer than allowed', () => {
    const policy = new MonitorPolicy(0, 10_000);
    policy.observe({ at: 0, treeSize: 5, rootHex: root });
    policy.observe({ at: 8_000, treeSize: 5, rootHex: root });
    expect(policy.staleness(10_000)).toBeUndefined();
    expect(policy.staleness(10_001)).toContain('stayed at size 5');
    policy.observe({ at: 12_000, treeSize: 6, rootHex: root });
    expect(policy.staleness(20_000)).toBeUndefined();
  });

  it('counts a log that never answered as stale too', () => {
    expect(new MonitorPolicy(0, 1000).staleness(1001)).toContain('no checkpoint could be fetched');
  });
});
