import { DenialAggregator } from '../../src/ledger/denialAggregator';
import { denialEvent, type SelfEvent } from '../../src/ledger/selfEvent';

function clock(start = Date.parse('2025-01-01T00:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const denial = (operation = 'apiKeys', reason = 'apiKeys needs an API key'): SelfEvent =>
  denialEvent(undefined, operation, 'UNAUTHENTICATED', reason, { ip: '10.0.0.1', userAgent: 'curl/8' });

describe('denial aggregation', () => {
  it('records the first denial of a window, counts the rest, and summarises them when the window closes', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 60_000, maxKeysPerWindow: 10, now: c.now });
    expect(agg.admit('a|apiKeys', denial())).toBe('record');
    agg.recorded('a|apiKeys', true);
    for (let i = 0; i < 4999; i++) expect(agg.admit('a|apiKeys', denial())).toBe('counted');
    c.advance(59_999);
    expect(agg.due()).toEqual([]);
    c.advance(1);
    const [summary, ...rest] = agg.due();
    expect(rest).toEqual([]);
    expect(summary).toMatchObject({
      action: 'ledger.access.denied',
      outcome: 'DENIED',
      source: { ip: '10.0.0.1', userAgent: 'curl/8' },
      metadata: { operation: 'apiKeys', code: 'UNAUTHENTICATED', count: 4999, aggregated: true, window: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-01T00:01:00.000Z' } },
    });
    // The next denial opens a new window and is recorded at once again.
    expect(agg.admit('a|apiKeys', denial())).toBe('record');
  });

  it('writes no summary for a window with a single, recorded denial', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 1000, maxKeysPerWindow: 10, now: c.now });
    agg.admit('k', denial());
    agg.recorded('k', true);
    c.advance(1000);
    expect(agg.due()).toEqual([]);
    expect(agg.openWindows).toBe(0);
  });

  it('keeps keys apart: caller, operation and code', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 1000, maxKeysPerWindow: 10, now: c.now });
    expect(agg.admit('a|apiKeys|UNAUTHENTICATED', denial())).toBe('record');
    expect(agg.admit('a|users|UNAUTHENTICATED', denial('users'))).toBe('record');
    expect(agg.admit('b|apiKeys|UNAUTHENTICATED', denial())).toBe('record');
    expect(agg.admit('a|apiKeys|UNAUTHENTICATED', denial())).toBe('counted');
  });

  it('retries a first denial whose write failed, and owes it in the summary until one succeeds', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 1000, maxKeysPerWindow: 10, now: c.now });
    expect(agg.admit('k', denial())).toBe('record');
    agg.recorded('k', false);
    expect(agg.admit('k', denial())).toBe('record');
    agg.recorded('k', false);
    c.advance(1000);
    expect(agg.due()).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ count: 1 }) })]);
  });

  it('caps distinct keys per window and counts the overflow into one summary', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 60_000, maxKeysPerWindow: 3, now: c.now });
    const verdicts = Array.from({ length: 100 }, (_, i) => agg.admit(`addr${i}|apiKeys`, denial(i % 2 ? 'apiKeys' : 'users')));
    expect(verdicts.filter((v) => v === 'record')).toHaveLength(3);
    for (let i = 0; i < 3; i++) agg.recorded(`addr${i}|apiKeys`, true);
    c.advance(60_000);
    const due = agg.due();
    expect(due).toEqual([
      expect.objectContaining({
        actor: { id: 'anonymous', type: 'SYSTEM' },
        metadata: expect.objectContaining({ operation: '*', overflow: true, count: 97, operations: { apiKeys: 49, users: 48 } }),
      }),
    ]);
    // A new global window admits new keys again.
    expect(agg.admit('addr99|apiKeys', denial())).toBe('record');
  });

  it('does not cap the refusals of valid API keys', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 60_000, maxKeysPerWindow: 1, now: c.now });
    expect(agg.admit('anon@a|x', denial())).toBe('record');
    expect(agg.admit('anon@b|x', denial())).toBe('counted');
    expect(agg.admit('key:k1|x', denial(), false)).toBe('record');
    expect(agg.admit('key:k2|x', denial(), false)).toBe('record');
  });

  it('bounds the events per window whatever the request rate: at most 2 per key, 2 x keys + 1 in all', () => {
    const c = clock();
    const maxKeys = 5;
    const agg = new DenialAggregator({ windowMs: 10_000, maxKeysPerWindow: maxKeys, now: c.now });
    let written = 0;
    for (let tick = 0; tick < 10_000; tick++) {
      const key = `addr${tick % 50}|op${tick % 3}`;
      if (agg.admit(key, denial()) === 'record') {
        written += 1;
        agg.recorded(key, true);
      }
      c.advance(1); // 10,000 denials in 10 s: one window
    }
    written += agg.due().length;
    expect(written).toBeLessThanOrEqual(2 * maxKeys + 1);
  });

  it('drains every open window at shutdown', () => {
    const c = clock();
    const agg = new DenialAggregator({ windowMs: 60_000, maxKeysPerWindow: 10, now: c.now });
    agg.admit('k', denial());
    agg.recorded('k', true);
    agg.admit('k', denial());
    expect(agg.drain()).toEqual([expect.objectContaining({ metadata: expect.objectContaining({ count: 1 }) })]);
    expect(agg.openWindows).toBe(0);
  });
});
