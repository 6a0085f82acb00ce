/**
 * Go's math/bits for tree sizes and indices. JavaScript bitwise operators truncate to
 * 32 bits, but tree positions go up to Number.MAX_SAFE_INTEGER (2^53 - 1), so every
 * operation here splits the value into a high and a low 32-bit half. Inputs must be
 * non-negative safe integers; callers validate before calling.
 */

const TWO_32 = 0x1_0000_0000;

function high(x: number): number {
  return Math.floor(x / TWO_32);
}

function low(x: number): number {
  // ToUint32 is exact modular reduction for any integer below 2^53.
  return x >>> 0;
}

function popCount32(x: number): number {
  let v = x - ((x >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of bits needed to represent x (0 for 0), like bits.Len64. */
export function bitLength(x: number): number {
  const h = high(x);
  return h === 0 ? 32 - Math.clz32(x) : 64 - Math.clz32(h);
}

/** Number of one bits, like bits.OnesCount64. */
export function onesCount(x: number): number {
  return popCount32(low(x)) + popCount32(high(x));
}

/** Number of trailing zero bits of a positive x, like bits.TrailingZeros64. */
export function trailingZeros(x: number): number {
  const l = low(x);
  if (l !== 0) return 31 - Math.clz32(l & -l);
  const h = high(x);
  return 63 - Math.clz32(h & -h);
}

/** x >> n. */
export function shiftRight(x: number, n: number): number {
  return Math.floor(x / 2 ** n);
}

/** x << n; the caller guarantees the result stays a safe integer. */
export function shiftLeft(x: number, n: number): number {
  return x * 2 ** n;
}

/** Bit i of x, as 0 or 1. */
export function bitAt(x: number, i: number): number {
  return Math.floor(x / 2 ** i) % 2;
}

/** a ^ b. */
export function xor(a: number, b: number): number {
  return (high(a) ^ high(b)) * TWO_32 + ((a ^ b) >>> 0);
}
