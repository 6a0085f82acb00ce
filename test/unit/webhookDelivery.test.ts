import { retryDelayMs } from '../../src/stream/webhookDelivery';
import { signatureHeader, verifySignature } from '../../src/stream/signature';
import { LogWatcher } from '../../src/stream/logWatcher';
import { eventPayload, toCloudEvent } from '../../src/stream/eventPayload';
import { matchesFilter, parseFilter, FilterInputError } from '../../src/stream/eventFilter';
import { makeEvent } from '../storage/contract';

describe('webhook retries', () => {
  const policy = { retryBaseMs: 1000, retryMaxMs: 60_000 };

  it('double each time, with half of each delay random, up to the cap', () => {
    expect(retryDelayMs(1, policy, () => 0)).toBe(500);
    expect(retryDelayMs(1, policy, () => 1)).toBe(1000);
    expect(retryDelayMs(4, policy, () => 0)).toBe(4000);
    expect(retryDelayMs(4, policy, () => 1)).toBe(8000);
    expect(retryDelayMs(40, policy, () => 1)).toBe(60_000);
    expect(retryDelayMs(40, policy, () => 0)).toBe(30_000);
  });
});

describe('webhook signatures', () => {
  const body = '{"events":[]}';
  it('verify with the secret, within the tolerance, over the exact body only', () => {
    const header = signatureHeader('s3cret-s3cret-s3cret-s3cret', body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature('s3cret-s3cret-s3cret-s3cret', body, header, 1_700_000_100)).toBe(true);
    expect(verifySignature('other-secret-other-secret', body, header, 1_700_000_100)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret-s3cret', `${body} `, header, 1_700_000_100)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret-s3cret', body, header, 1_700_001_000)).toBe(false);
    expect(verifySignature('s3cret-s3cret-s3cret-s3cret', body, 'garbage', 1_700_000_000)).toBe(false);
  });
});

describe('the log watcher', () => {
  it('wakes waiters on a local checkpoint, and on a polled head once someone waits', async () => {
    let listener: ((size: number) => void) | undefined;
    let head = 5;
    const watcher = new LogWatcher({ readSize: async () => head, subscribe: (l) => ((listener = l), () => undefined), pollMs: 5 });
    expect(await watcher.waitBeyond(4)).toBe(5);
    const local = watcher.waitBeyond(5);
    listener!(7);
    expect(await local).toBe(7);
    const polled = watcher.waitBeyond(7);
    head = 9;
    expect(await polled).toBe(9);
    const abort = new AbortController();
    const aborted = watcher.waitBeyond(100, abort.signal);
    abort.abort();
    expect(await aborted).toBeUndefined();
    const stopped = watcher.waitBeyond(100);
    watcher.stop();
    expect(await stopped).toBeUndefined();
  });
});

describe('the event payload', () => {
  it('carries the leaf and its fields, and maps to CloudEvents', () => {
    const e = makeEvent(12, { target: { type: 'invoice', id: 'inv-1' } });
    const p = eventPayload(e);
    expect(p).toMatchObject({ schema: 'audit-ledger.event.v1', leafIndex: 12, id: e.id, leaf: e.leaf, redacted: false, action: e.action });
    expect(p.recordedAt).toBe(e.recordedAt.toISOString());
    const ce = toCloudEvent(p, 'ledger.example/log');
    expect(ce).toMatchObject({ specversion: '1.0', id: e.id, source: 'ledger.example/log', type: `audit-ledger.${e.action}`, subject: 'invoice/inv-1', leafindex: 12, data: p });
  });

  it('keeps only the skeleton of a redacted event', () => {
    const p = eventPayload({ ...makeEvent(3), leaf: '', redaction: { leafIndex: 9, reason: 'GDPR' } });
    expect(p).toMatchObject({ redacted: true, leaf: null, salt: null, actor: { id: '[redacted]' }, redaction: { leafIndex: 9, reason: 'GDPR' } });
    expect(p.metadata).toBeUndefined();
  });
});

describe('event filters', () => {
  it('read query-string and JSON values, and match in memory as the store does', () => {
    const q = parseFilter({ actionPrefix: 'user.role.', outcome: 'SUCCESS', groupIds: 'g1,g2', from: '2020-01-01T00:00:00Z' });
    expect(q).toEqual({ actionPrefix: 'user.role.', outcome: 'SUCCESS', groupIds: ['g1', 'g2'], from: new Date('2020-01-01T00:00:00Z') });
    expect(matchesFilter(makeEvent(1, { action: 'user.role.grant', groups: ['g2'] }), q)).toBe(true);
    expect(matchesFilter(makeEvent(1, { action: 'user.role.grant', groups: ['g3'] }), q)).toBe(false);
    expect(matchesFilter(makeEvent(1, { action: 'user.login', groups: ['g1'] }), q)).toBe(false);
  });

  it.each([[{ outcome: 'MAYBE' }], [{ from: 'yesterday' }], [{ actorId: '' }], [{ groupIds: 5 }]])('refuses %j', (raw) => {
    expect(() => parseFilter(raw)).toThrow(FilterInputError);
  });
});
