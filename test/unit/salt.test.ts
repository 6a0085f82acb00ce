import { newSalt, SALT_BYTES } from '../../src/event/salt';

describe('newSalt', () => {
  it('gives 128 bits as 32 lowercase hex digits', () => {
    expect(newSalt()).toMatch(/^[0-9a-f]{32}$/);
    expect(SALT_BYTES).toBe(16);
  });

  it('never repeats a salt across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) seen.add(newSalt());
    expect(seen.size).toBe(20_000);
  });

  it('uses every hex digit about equally (a stuck or zeroed pool would not)', () => {
    const counts = new Map<string, number>();
    const n = 5_000;
    for (let i = 0; i < n; i++) for (const c of newSalt()) counts.set(c, (counts.get(c) ?? 0) + 1);
    expect(counts.size).toBe(16);
    const expected = (n * 32) / 16;
    for (const count of counts.values()) expect(Math.abs(count - expected) / expected).toBeLessThan(0.1);
  });
});
