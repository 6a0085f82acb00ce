/**
 * The names of a tiled log's static resources (C2SP tlog-tiles): hash tiles at
 * `tile/<L>/<N>[.p/<W>]` and entry bundles at `tile/entries/<N>[.p/<W>]`, and how much of a
 * tile a signed tree size publishes. Every resource has exactly one name: `<L>` and `<W>` are
 * decimal without leading zeroes, `<N>` is split into 3-digit groups, all but the last
 * prefixed with `x`, with no leading `x000` group (1234067 is `x001/x234/067`), and a full
 * tile has no `.p/256` suffix. Any other spelling is refused, as Go's `tlog.ParseTilePath`
 * refuses it, so a cache never holds one resource under two names. Pure: no I/O.
 */
import { TILE_WIDTH } from './tileLayout';

/** The highest tile level a path may name (C2SP: 0 to 63). */
export const MAX_TILE_LEVEL = 63;

/**
 * A hash tile (`level` 0 upwards) or an entry bundle, and the width asked for: 1…255 for a
 * partial one, 256 for a full one. An index past 2^53 (no tree reaches it) is kept only
 * approximately; `publishedWidth` answers 0 for it.
 */
export type TileResource =
  | { readonly kind: 'hashes'; readonly level: number; readonly index: number; readonly width: number }
  | { readonly kind: 'entries'; readonly index: number; readonly width: number };

export class TilePathError extends Error {
  override readonly name = 'TilePathError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path} is not a tile path: ${problem}`);
  }
}

const LEVEL = /^(0|[1-9][0-9]?)$/;
const WIDTH = /^[1-9][0-9]{0,2}$/;
const LAST_GROUP = /^[0-9]{3}$/;
const GROUP = /^x[0-9]{3}$/;

/** `<N>`: 3-digit groups, all but the last prefixed with `x`. */
export function tileIndexPath(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`tile index ${index} is not a non-negative safe integer`);
  let n = index;
  let out = String(n % 1000).padStart(3, '0');
  while (n >= 1000) {
    n = Math.floor(n / 1000);
    out = `x${String(n % 1000).padStart(3, '0')}/${out}`;
  }
  return out;
}

/** The resource's path below the log's prefix, e.g. `tile/0/x001/x234/067.p/5`. */
export function tileResourcePath(resource: TileResource): string {
  if (!Number.isInteger(resource.width) || resource.width < 1 || resource.width > TILE_WIDTH) throw new RangeError(`tile width ${resource.width} is not 1…${TILE_WIDTH}`);
  const partial = resource.width < TILE_WIDTH ? `.p/${resource.width}` : '';
  const level = resource.kind === 'entries' ? 'entries' : String(resource.level);
  return `tile/${level}/${tileIndexPath(resource.index)}${partial}`;
}

/** Reads a path below the log's prefix (`tile/…`, no leading slash); throws TilePathError. */
export function parseTileResourcePath(path: string): TileResource {
  const segments = path.split('/');
  const fail = (problem: string): never => {
    throw new TilePathError(path, problem);
  };
  if (segments[0] !== 'tile') fail('it must begin with tile/');
  const levelSegment = segments[1] ?? '';
  const entries = levelSegment === 'entries';
  if (!entries && !LEVEL.test(levelSegment)) fail(`the level must be entries or 0…${MAX_TILE_LEVEL} in decimal without leading zeroes`);
  const level = entries ? 0 : Number(levelSegment);
  if (level > MAX_TILE_LEVEL) fail(`the level must be 0…${MAX_TILE_LEVEL}`);
  let groups = segments.slice(2);
  let width = TILE_WIDTH;
  const last = groups.at(-1);
  const beforeLast = groups.at(-2);
  if (beforeLast?.endsWith('.p') && last !== undefined) {
    if (!WIDTH.test(last) || Number(last) >= TILE_WIDTH) fail(`a partial tile's width must be 1…${TILE_WIDTH - 1} in decimal without leading zeroes`);
    width = Number(last);
    groups = [...groups.slice(0, -2), beforeLast.slice(0, -'.p'.length)];
  }
  if (groups.length === 0 || groups[0] === '') fail('the tile index is missing');
  let index = 0;
  groups.forEach((group, i) => {
    const isLast = i === groups.length - 1;
    if (!(isLast ? LAST_GROUP : GROUP).test(group)) {
      fail('the tile index must be 3-digit groups, all but the last prefixed with x (1234067 is x001/x234/067)');
    }
    if (i === 0 && !isLast && group === 'x000') fail('the tile index must not begin with a group of zeroes');
    index = index * 1000 + Number(isLast ? group : group.slice(1));
  });
  return entries ? { kind: 'entries', index, width } : { kind: 'hashes', level, index, width };
}

/**
 * How many hashes of tile (`level`, `index`) a tree of `treeSize` leaves covers: 256 when the
 * tile is full in it, 1…255 when it is that tree's partial tile, 0 when it has none of it.
 * A tile's prefix never changes as the tree grows, so any width up to this one is published.
 */
export function publishedWidth(level: number, index: number, treeSize: number): number {
  if (!Number.isSafeInteger(index) || index < 0 || !Number.isInteger(level) || level < 0) return 0;
  // Dividing by a power of two is exact in binary floating point, so this floor is exact.
  const nodes = Math.floor(treeSize / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, nodes - index * TILE_WIDTH));
}

/** The leaves [start, end) an entry bundle of `width` entries holds. */
export function bundleLeaves(index: number, width: number): { readonly start: number; readonly end: number } {
  const start = index * TILE_WIDTH;
  return { start, end: start + width };
}
