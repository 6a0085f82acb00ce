import { eventId } from '../../src/event/eventId';

describe('event ids', () => {
  it('are RFC 9562 version 7 UUIDs carrying the millisecond they were issued at', () => {
    const at = Date.UTC(2026, 10, 28, 12, 0, 0, 123);
    const id = eventId(at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sort by time and never repeat', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => eventId(1_700_000_000_000 + Math.floor(i / 100)));
    expect(new Set(ids).size).toBe(ids.length);
    const byMs = ids.filter((_, i) => i % 100 === 0);
    expect([...byMs].sort()).toEqual(byMs);
  });
});
