import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { boundJson, boundString, SELF_EVENT_BOUNDS } from '../../src/ledger/boundedMetadata';
import { changeEvent, denialEvent, readEvent } from '../../src/ledger/selfEvent';
import type { JsonObject } from '../../src/event/eventRecord';

const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const actor = { id: 'u1', type: 'SERVICE' as const, name: 'svc' };

describe('self-event bounds', () => {
  it('leave short strings as they are', () => {
    const cut = { truncated: false };
    expect(boundString('x'.repeat(256), cut)).toBe('x'.repeat(256));
    expect(cut.truncated).toBe(false);
  });

  it('cut long strings to 64 characters, an ellipsis and the SHA-256 of the whole', () => {
    const long = 'g'.repeat(4 * 1024 * 1024);
    const cut = { truncated: false };
    expect(boundString(long, cut)).toBe(`${'g'.repeat(64)}…sha256:${sha(long)}`);
    expect(cut.truncated).toBe(true);
  });

  it('never leave a lone surrogate (a leaf must be valid UTF-8)', () => {
    const cut = { truncated: false };
    const split = `${'a'.repeat(63)}😀${'b'.repeat(300)}`;
    expect(boundString(split, cut).isWellFormed()).toBe(true);
    expect(boundString('\uD800', cut)).toBe('\uFFFD');
  });

  it('cut long lists, wide and deep objects', () => {
    const cut = { truncated: false };
    const list = Array.from({ length: 100_000 }, (_, i) => `g${i}`);
    const bounded = boundJson(list, cut) as string[];
    expect(bounded).toHaveLength(SELF_EVENT_BOUNDS.maxItems + 1);
    expect(bounded.at(-1)).toBe(`… ${100_000 - SELF_EVENT_BOUNDS.maxItems} more, sha256:${sha(canonicalize(list.slice(SELF_EVENT_BOUNDS.maxItems))!)}`);
    const deep: JsonObject = { a: { b: { c: { d: { e: 'deep' } } } } };
    expect(boundJson(deep, cut)).toEqual({ a: { b: { c: { d: `…sha256:${sha(canonicalize({ e: 'deep' })!)}` } } } });
    const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    expect(Object.keys(boundJson(wide, cut) as JsonObject)).toHaveLength(SELF_EVENT_BOUNDS.maxKeys + 1);
  });

  it('bound a denial quoting a 4 MB group id, and say so', () => {
    const id = 'x'.repeat(4 * 1024 * 1024);
    const event = denialEvent(actor, 'events', 'FORBIDDEN', `groups outside this key's scope: ${id}`, { ip: '10.0.0.1', userAgent: 'u'.repeat(10_000) });
    const size = canonicalize(event)!.length;
    expect(size).toBeLessThan(2_000);
    expect(event.metadata).toMatchObject({ operation: 'events', code: 'FORBIDDEN', truncated: true });
    expect(event.reason).toMatch(/^groups outside this key's scope: x+…sha256:[0-9a-f]{64}$/);
    expect(event.source?.userAgent).toMatch(/^u{64}…sha256:/);
  });

  it('bound a read event quoting a 7 MB filter', () => {
    const event = readEvent(actor, 'events', { action: 'a'.repeat(7 * 1024 * 1024), groupIds: Array.from({ length: 5000 }, (_, i) => `g${i}`) }, 0);
    expect(canonicalize(event)!.length).toBeLessThan(4_000);
    expect(event.metadata).toMatchObject({ truncated: true, results: 0 });
  });

  it('leave ordinary events untouched, with no truncated flag', () => {
    const event = changeEvent('ledger.group.created', actor, { type: 'group', id: 'g1', name: 'ops' }, undefined, { ip: '127.0.0.1' });
    expect(event).toEqual({ action: 'ledger.group.created', actor, target: { type: 'group', id: 'g1', name: 'ops' }, outcome: 'SUCCESS', source: { ip: '127.0.0.1' } });
  });
});
