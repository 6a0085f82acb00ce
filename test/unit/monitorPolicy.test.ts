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

describe('the monitor policy with witnesses', () => {
  const root = 'cd'.repeat(32);

  it('calls an unchanged size with fresh cosignatures quiet', () => {
    const policy = new MonitorPolicy(0, undefined, 60_000);
    expect(policy.observe({ at: 10_000, treeSize: 5, rootHex: root, newestCosignatureAt: 5_000 })).toMatch(/first poll cosigned 5 s ago$/);
    expect(policy.observe({ at: 20_000, treeSize: 5, rootHex: root, newestCosignatureAt: 19_000 })).toMatch(/\+0 quiet, cosigned 1 s ago$/);
    expect(policy.frozen(60_000)).toBeUndefined();
  });

  it('calls it frozen once the newest cosignature is older than allowed', () => {
    const policy = new MonitorPolicy(0, undefined, 60_000);
    policy.observe({ at: 10_000, treeSize: 5, rootHex: root, newestCosignatureAt: 5_000 });
    expect(policy.frozen(65_000)).toBeUndefined();
    expect(policy.frozen(65_001)).toMatch(/newest witness cosignature is 60 s old .*frozen/);
    expect(policy.observe({ at: 70_000, treeSize: 5, rootHex: root, newestCosignatureAt: 5_000 })).toMatch(/\+0 cosigned 65 s ago$/);
  });

  it('counts from the start when no checkpoint met the policy', () => {
    const policy = new MonitorPolicy(1000, undefined, 60_000);
    expect(policy.frozen(61_000)).toBeUndefined();
    expect(policy.frozen(61_001)).toContain('no checkpoint met the witness policy in 60 s');
  });

  it('never calls a log frozen without a witness policy', () => {
    expect(new MonitorPolicy(0, undefined).frozen(10 ** 12)).toBeUndefined();
  });
});
