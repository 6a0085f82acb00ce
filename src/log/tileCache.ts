/**
 * The tree's stored subtree hashes as the sequencer and the proof paths see them: hash tiles
 * (tileLayout.ts) read and written through the storage port, with a bounded LRU of tiles
 * expanded to their eight internal levels (16 KiB each), so that once loaded every node read
 * is a lookup and memory stays flat as the log grows. A batch of appends rewrites one or two
 * level-0 tiles (plus, rarely, a higher one); a proof of a tree of 2^k leaves touches at most
 * ⌈k/8⌉+1 tiles per side; full tiles never change, so they cache perfectly.
 */
import type { NodeId } from '../merkle/nodeId';
import type { SubtreeReader } from '../merkle/proof';
import type { StoredTile, TileRepository } from '../storage/port';
import type { LayerHasher } from '../merkle/nodeHasher';
import { HASH_SIZE } from '../verify/rfc6962';
import { locateNode as locate, TILE_HEIGHT, TILE_WIDTH, tileKey as tileId } from './tileLayout';

export class MissingNodeError extends Error {
  override readonly name = 'MissingNodeError';
  constructor(readonly id: NodeId) {
    super(`subtree hash (level ${id.level}, index ${id.index}) is not stored`);
  }
}


/** Byte offset of layer r in a tile's one buffer: layers 0…r-1 hold 256 + 128 + … hashes. */
const layerOffset = (r: number): number => (2 * TILE_WIDTH - ((2 * TILE_WIDTH) >> r)) * HASH_SIZE;
/** Bytes of all the layers of a tile (510 hashes: 16 KiB less 64 bytes). */
const TILE_BYTES = layerOffset(TILE_HEIGHT);

/** A tile expanded to its internal levels: layer r holds nodes at height 8L+r. */
class Tile {
  /** Views of one buffer (one allocation per tile, not eight). */
  readonly layers: Uint8Array[];
  width = 0;
  /** Written by this process's sequencer: kept in cache while partial. */
  written = false;

  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    const all = new Uint8Array(TILE_BYTES);
    this.layers = Array.from({ length: TILE_HEIGHT }, (_, r) => all.subarray(layerOffset(r), layerOffset(r + 1)));
  }

  /** Node j of layer r, if complete within the tile's current width. */
  node(r: number, j: number): Uint8Array | undefined {
    if ((j + 1) << r > this.width) return undefined;
    return this.layers[r]!.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE);
  }

  set(r: number, j: number, hash: Uint8Array): void {
    this.layers[r]!.set(hash, j * HASH_SIZE);
    if (r === 0 && j + 1 > this.width) this.width = j + 1;
  }

  /** Loads base hashes and derives every complete internal node, a layer at a time. */
  static fromBase(level: number, index: number, base: Uint8Array, hasher: LayerHasher): Tile {
    const tile = new Tile(level, index);
    const width = base.length / HASH_SIZE;
    tile.layers[0]!.set(base);
    tile.width = width;
    for (let r = 1; r < TILE_HEIGHT; r++) hasher.parentLayer(tile.layers[r - 1]!, tile.layers[r]!, width >> r);
    return tile;
  }

  base(): Uint8Array {
    return this.layers[0]!.slice(0, this.width * HASH_SIZE);
  }
}


export class TileCache implements SubtreeReader {
  private readonly cache = new Map<string, Tile>();

  /**
   * @param maxCachedTiles 512 tiles (8 MiB) hold every tile above level 0 of a log of 2^24
   *   leaves (257 tiles: a proof's upper path) with room for the newest level-0 tiles; a proof
   *   for a random old leaf misses its level-0 tile whatever the cache's size once the log has
   *   millions of leaves, so 1,024 tiles bought nothing measurable at 10^6 (side by side).
   */
  constructor(
    private readonly tiles: TileRepository,
    private readonly hasher: LayerHasher,
    private readonly maxCachedTiles = 512,
  ) {}

  async readNodes(ids: readonly NodeId[]): Promise<Uint8Array[]> {
    const positions = ids.map(locate);
    // Resolve tiles into a local map: with a small cache, loading one tile may evict another
    // this same read needs.
    const tiles = new Map<string, Tile>();
    const missing = new Set<string>();
    for (const p of positions) {
      const cached = this.cache.get(p.tile);
      if (cached?.node(p.r, p.j)) tiles.set(p.tile, cached);
      else missing.add(p.tile);
    }
    if (missing.size > 0) for (const [key, tile] of await this.load([...missing])) tiles.set(key, tile);
    return positions.map((p, i) => {
      const hash = tiles.get(p.tile)?.node(p.r, p.j);
      if (!hash) throw new MissingNodeError(ids[i]!);
      return hash;
    });
  }

  /**
   * Records newly completed nodes (every node CompactRange.append visits) and persists the
   * tiles whose stored level changed. Internal levels go to the in-memory tiles only, so the
   * sequencer can answer proofs for its own batch without rehashing.
   */
  async write(nodes: readonly { id: NodeId; hash: Uint8Array }[]): Promise<void> {
    // Every tile this call touches, resolved once: re-reading one from the cache or the
    // database mid-call could drop the entries set earlier in the same call.
    const touched = new Map<string, Tile>();
    const changed = new Set<string>();
    for (const { id, hash } of nodes) {
      const p = locate(id);
      let tile = touched.get(p.tile) ?? this.cache.get(p.tile);
      tile ??= (await this.load([p.tile])).get(p.tile) ?? new Tile(p.level, p.index);
      if (p.r === 0 && p.j > tile.width) {
        throw new MissingNodeError({ level: id.level, index: id.index - (p.j - tile.width) });
      }
      tile.set(p.r, p.j, hash);
      tile.written = true;
      touched.set(p.tile, tile);
      if (p.r === 0) changed.add(p.tile);
    }
    for (const [key, tile] of touched) this.remember(key, tile);
    await this.persist([...changed].map((key) => touched.get(key)!));
  }

  /** Forgets cached tiles: after losing the sequencer lease, another process may have written. */
  forgetPartialTiles(): void {
    for (const [key, tile] of this.cache) if (tile.width < TILE_WIDTH) this.cache.delete(key);
  }

  /** Persists whole tiles. A tile only grows; the sequencer lease keeps one writer at a time. */
  private async persist(tiles: readonly Tile[]): Promise<void> {
    if (tiles.length === 0) return;
    await this.tiles.write(tiles.map((t): StoredTile => ({ level: t.level, index: t.index, hashes: t.base() })));
  }

  /** Loads tiles; answers, per key found, the widest version known (cached or stored). */
  private async load(keys: string[]): Promise<Map<string, Tile>> {
    const ids = keys.map((key) => {
      const [level, index] = key.split('/').map(Number) as [number, number];
      return { level, index };
    });
    const found = await this.tiles.read(ids);
    const loaded = new Map<string, Tile>();
    for (const stored of found) {
      const key = tileId(stored.level, stored.index);
      const tile = Tile.fromBase(stored.level, stored.index, stored.hashes, this.hasher);
      const existing = this.cache.get(key);
      const best = existing && existing.width >= tile.width ? existing : tile;
      this.remember(key, best);
      loaded.set(key, best);
    }
    return loaded;
  }

  /**
   * LRU, except for the partial tiles this process's sequencer is extending (at most one per
   * level, the right edge): it must never re-read a tile it is writing.
   */
  private remember(key: string, tile: Tile): void {
    this.cache.delete(key);
    this.cache.set(key, tile);
    if (this.cache.size <= this.maxCachedTiles) return;
    for (const [oldKey, oldTile] of this.cache) {
      if (this.cache.size <= this.maxCachedTiles) break;
      if (!oldTile.written || oldTile.width === TILE_WIDTH) this.cache.delete(oldKey);
    }
  }
}
