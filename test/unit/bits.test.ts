import fc from 'fast-check';
import { bitAt, bitLength, onesCount, shiftLeft, shiftRight, trailingZeros, xor } from '../../src/verify/bits';

const safe = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 32 + 5 }),
  fc.maxSafeNat(),
  fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER),
);

describe('53-bit integer bit operations agree with BigInt', () => {
  it('bitLength, onesCount, trailingZeros, bitAt', () => {
    fc.assert(
      fc.property(safe, (x) => {
        const b = BigInt(x);
        expect(bitLength(x)).toBe(b.toString(2).replace(/^0$/, '').length);
        expect(onesCount(x)).toBe([...b.toString(2)].filter((c) => c === '1').length);
        if (x > 0) {
          const bin = b.toString(2);
          expect(trailingZeros(x)).toBe(bin.length - 1 - bin.lastIndexOf('1'));
        }
        for (let i = 0; i < 53; i += 7) expect(bitAt(x, i)).toBe(Number((b >> BigInt(i)) & 1n));
      }),
      { numRuns: 500 },
    );
  });

  it('xor and shifts', () => {
    fc.assert(
      fc.property(safe, safe, fc.integer({ min: 0, max: 53 }), (a, b, n) => {
        expect(xor(a, b)).toBe(Number(BigInt(a) ^ BigInt(b)));
        expect(shiftRight(a, n)).toBe(Number(BigInt(a) >> BigInt(n)));
        const small = shiftRight(a, n);
        expect(shiftLeft(small, n)).toBe(Number(BigInt(small) << BigInt(n)));
      }),
      { numRuns: 500 },
    );
  });
});
