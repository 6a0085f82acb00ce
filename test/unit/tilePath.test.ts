import fc from 'fast-check';
import { decodeEntryBundle, encodeEntryBundle, EntryBundleFormatError, EntryTooLargeError, MAX_BUNDLE_ENTRY_BYTES } from '../../src/log/entryBundle';
import { bundleLeaves, parseTileResourcePath, publishedWidth, TilePathError, tileIndexPath, type TileResource, tileResourcePath } from '../../src/log/tilePath';

describe('C2SP tile index paths', () => {
  it.each([
    [0, '000'],
    [7, '007'],
    [999, '999'],
    [1000, 'x001/000'],
    [1234067, 'x001/x234/067'],
    [1_000_000, 'x001/x000/000'],
    [Number.MAX_SAFE_INTEGER, 'x009/x007/x199/x254/x740/991'],
  ])('%d is %s', (index, path) => {
    expect(tileIndexPath(index)).toBe(path);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])('refuses %d', (index) => {
    expect(() => tileIndexPath(index)).toThrow(RangeError);
  });
});

describe('C2SP tile resource paths', () => {
  const ok: [string, TileResource][] = [
    ['tile/0/000', { kind: 'hashes', level: 0, index: 0, width: 256 }],
    ['tile/0/000.p/1', { kind: 'hashes', level: 0, index: 0, width: 1 }],
    ['tile/0/x001/x234/067', { kind: 'hashes', level: 0, index: 1234067, width: 256 }],
    ['tile/0/x001/x234/067.p/255', { kind: 'hashes', level: 0, index: 1234067, width: 255 }],
    ['tile/1/x001/000.p/17', { kind: 'hashes', level: 1, index: 1000, width: 17 }],
    ['tile/63/000', { kind: 'hashes', level: 63, index: 0, width: 256 }],
    ['tile/entries/000', { kind: 'entries', index: 0, width: 256 }],
    ['tile/entries/x002/001.p/3', { kind: 'entries', index: 2001, width: 3 }],
  ];
  it.each(ok)('%s', (path, resource) => {
    expect(parseTileResourcePath(path)).toEqual(resource);
    expect(tileResourcePath(resource)).toBe(path);
  });

  const bad: [string, RegExp][] = [
    ['', /begin with tile/],
    ['tiles/0/000', /begin with tile/],
    ['tile', /level/],
    ['tile/0', /index is missing/],
    ['tile/0/', /index is missing/],
    ['tile/64/000', /0…63/],
    ['tile/99/000', /0…63/],
    ['tile/100/000', /level/],
    ['tile/01/000', /level/],
    ['tile/-1/000', /level/],
    ['tile/data/000', /level/],
    ['tile/8/0/000', /3-digit groups/],
    ['tile/0/0', /3-digit groups/],
    ['tile/0/0000', /3-digit groups/],
    ['tile/0/x000', /3-digit groups/],
    ['tile/0/001/002', /3-digit groups/],
    ['tile/0/x001/x234/67', /3-digit groups/],
    ['tile/0/x000/001', /group of zeroes/],
    ['tile/0/x000/x001/000', /group of zeroes/],
    ['tile/0/X001/000', /3-digit groups/],
    ['tile/0/%30%30%30', /3-digit groups/],
    ['tile/0/000/', /3-digit groups/],
    ['tile/0/000.p', /3-digit groups/],
    ['tile/0/000.p/', /width/],
    ['tile/0/000.p/0', /width/],
    ['tile/0/000.p/256', /width/],
    ['tile/0/000.p/300', /width/],
    ['tile/0/000.p/007', /width/],
    ['tile/0/000.p/+7', /width/],
    ['tile/0/000.p/1/2', /3-digit groups/],
    ['tile/0/.p/5', /index is missing/],
    ['tile/entries/000.p/256', /width/],
    ['tile/entries', /index is missing/],
    ['tile/entries/1', /3-digit groups/],
  ];
  it.each(bad)('refuses %j', (path, problem) => {
    let error: unknown;
    try {
      parseTileResourcePath(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TilePathError);
    expect((error as TilePathError).problem).toMatch(problem);
  });

  it('an index past 2^53 parses, and no tree publishes it', () => {
    const resource = parseTileResourcePath('tile/0/x999/x999/x999/x999/x999/x999/999');
    expect(resource.kind).toBe('hashes');
    expect(publishedWidth(0, resource.index, Number.MAX_SAFE_INTEGER)).toBe(0);
  });

  it('formats and parses back every safe index and width', () => {
    fc.assert(
      fc.property(fc.maxSafeNat(), fc.integer({ min: 1, max: 256 }), fc.integer({ min: 0, max: 63 }), fc.boolean(), (index, width, level, entries) => {
        const resource: TileResource = entries ? { kind: 'entries', index, width } : { kind: 'hashes', level, index, width };
        expect(parseTileResourcePath(tileResourcePath(resource))).toEqual(resource);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the width of a tile a tree size publishes', () => {
  // C2SP's example: a tree of 70,000 leaves has 273 full level-0 tiles and one of width 112,
  // one full level-1 tile and one of width 17, and a level-2 tile of width 1.
  it.each([
    [0, 0, 70_000, 256],
    [0, 272, 70_000, 256],
    [0, 273, 70_000, 112],
    [0, 274, 70_000, 0],
    [1, 0, 70_000, 256],
    [1, 1, 70_000, 17],
    [1, 2, 70_000, 0],
    [2, 0, 70_000, 1],
    [3, 0, 70_000, 0],
    [0, 0, 0, 0],
    [0, 0, 1, 1],
    [0, 0, 255, 255],
    [0, 0, 256, 256],
    [1, 0, 256, 1],
    [1, 0, 255, 0],
    [0, 1, 256, 0],
    [6, 0, Number.MAX_SAFE_INTEGER, 31],
    [7, 0, Number.MAX_SAFE_INTEGER, 0],
    [63, 0, Number.MAX_SAFE_INTEGER, 0],
    [0, -1, 1000, 0],
  ])('level %d, tile %d, tree of %d: %d', (level, index, size, width) => {
    expect(publishedWidth(level, index, size)).toBe(width);
  });

  it('agrees with exact integer arithmetic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 7 }), fc.maxSafeNat(), fc.maxSafeNat(), (level, index, size) => {
        const nodes = BigInt(size) / 256n ** BigInt(level);
        const left = nodes - BigInt(index) * 256n;
        const expected = left <= 0n ? 0 : left >= 256n ? 256 : Number(left);
        expect(publishedWidth(level, index, size)).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it('bundle leaves', () => {
    expect(bundleLeaves(0, 256)).toEqual({ start: 0, end: 256 });
    expect(bundleLeaves(3, 5)).toEqual({ start: 768, end: 773 });
  });
});

describe('entry bundles', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('each entry is a big-endian uint16 length, then its bytes', () => {
    const bundle = encodeEntryBundle([bytes('a'), new Uint8Array(0), new Uint8Array(0x1234).fill(7)], 0);
    expect([...bundle.subarray(0, 5)]).toEqual([0, 1, 0x61, 0, 0]);
    expect([...bundle.subarray(5, 8)]).toEqual([0x12, 0x34, 7]);
    expect(bundle.length).toBe(3 + 2 + 2 + 0x1234);
    expect(decodeEntryBundle(bundle).map((e) => e.length)).toEqual([1, 0, 0x1234]);
  });

  it('carries a leaf of 65,535 bytes and refuses a larger one, naming every such leaf', () => {
    const largest = new Uint8Array(MAX_BUNDLE_ENTRY_BYTES).fill(1);
    expect(decodeEntryBundle(encodeEntryBundle([largest], 0))[0]).toEqual(largest);
    const tooLarge = new Uint8Array(MAX_BUNDLE_ENTRY_BYTES + 1);
    let error: unknown;
    try {
      encodeEntryBundle([bytes('x'), tooLarge, bytes('y'), tooLarge], 512);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(EntryTooLargeError);
    expect((error as EntryTooLargeError).leafIndices).toEqual([513, 515]);
  });

  it.each([
    ['a cut-off length', [0]],
    ['a length past the end', [0, 3, 1, 2]],
  ])('decoding refuses %s', (_name, raw) => {
    expect(() => decodeEntryBundle(Uint8Array.from(raw))).toThrow(EntryBundleFormatError);
  });

  it('round-trips', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 20 }), (leaves) => {
        expect(decodeEntryBundle(encodeEntryBundle(leaves, 0))).toEqual(leaves);
      }),
    );
  });
});
