/**
 * Stored subtree hashes, in hash tiles after C2SP tlog-tiles.
 *
 * Layout: tile (L, N) holds the hashes of the tree's nodes at height 8·L with indices
 * 256·N … 256·N+255 (fewer while the tile is the partial, rightmost one). Only every eighth
 * level is stored; any complete node in between is rebuilt from at most 128 hashes of the
 * one tile below it, which is exactly the trade Go's sumdb and Tessera make:
 *   - writes: a batch of appends rewrites one or two level-0 tiles (plus, rarely, a higher
 *     tile) instead of inserting ~2 node documents per leaf, which the engine could not
 *     sustain at tens of thousands of events per second;
 *   - reads: a proof of a tree of 2^k leaves touches at most ⌈k/8⌉+1 tiles per side, so
 *     O(log n) documents, and full tiles never change, so they cache perfectly;
 *   - the layout is the standard one, so tiles can later be served as C2SP tlog-tiles.
 * In memory a tile is expanded to all its eight internal levels (16 KiB), so that once
 * loaded every node read is a lookup. A bounded LRU keeps memory flat as the log grows.
 */
import { Binary, type Collection } from 'mongodb';
import type { NodeId } from '../merkle/nodeId';
import type { SubtreeReader } from '../merkle/proof';
import { HASH_SIZE, type Rfc6962Hasher } from '../verify/rfc6962';
import type { CollectionDefinition } from '../db/collections';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;

export interface TileDoc {
  _id: string;
  level: number;
  index: number;
  width: number;
  /** `width` concatenated 32-byte hashes. */
  hashes: Binary;
}

export const TILES_COLLECTION: CollectionDefinition = {
  name: 'tiles',
  schema: {
    bsonType: 'object',
    required: ['_id', 'level', 'index', 'width', 'hashes'],
    properties: {
      _id: { bsonType: 'string' },
      level: { bsonType: ['int', 'long'], minimum: 0, maximum: 8 },
      index: { bsonType: ['int', 'long'], minimum: 0 },
      width: { bsonType: ['int', 'long'], minimum: 1, maximum: TILE_WIDTH },
      hashes: { bsonType: 'binData' },
    },
  },
  indexes: [],
};

export class MissingNodeError extends Error {
  override readonly name = 'MissingNodeError';
  constructor(readonly id: NodeId) {
    super(`subtree hash (level ${id.level}, index ${id.index}) is not stored`);
  }
}

const tileId = (level: number, index: number): string => `${level}/${index}`;

/** A tile expanded to its internal levels: layer r holds nodes at height 8L+r. */
class Tile {
  readonly layers: Uint8Array[];
  width = 0;
  /** Written by this process's sequencer: kept in cache while partial. */
  written = false;

  constructor(
    readonly level: number,
    readonly index: number,
  ) {
    this.layers = Array.from({ length: TILE_HEIGHT }, (_, r) => new Uint8Array((TILE_WIDTH >> r) * HASH_SIZE));
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

  /** Loads base hashes and derives every complete internal node. */
  static fromBase(level: number, index: number, base: Uint8Array, hasher: Rfc6962Hasher): Tile {
    const tile = new Tile(level, index);
    const width = base.length / HASH_SIZE;
    tile.layers[0]!.set(base);
    tile.width = width;
    for (let r = 1; r < TILE_HEIGHT; r++) {
      const count = width >> r;
      const below = tile.layers[r - 1]!;
      for (let j = 0; j < count; j++) {
        const left = below.subarray(2 * j * HASH_SIZE, (2 * j + 1) * HASH_SIZE);
        const right = below.subarray((2 * j + 1) * HASH_SIZE, (2 * j + 2) * HASH_SIZE);
        tile.layers[r]!.set(hasher.nodeHash(left, right), j * HASH_SIZE);
      }
    }
    return tile;
  }

  base(): Uint8Array {
    return this.layers[0]!.slice(0, this.width * HASH_SIZE);
  }
}

interface Position {
  readonly tile: string;
  readonly level: number;
  readonly index: number;
  readonly r: number;
  readonly j: number;
}

function locate(id: NodeId): Position {
  const level = Math.floor(id.level / TILE_HEIGHT);
  const r = id.level % TILE_HEIGHT;
  const perTile = TILE_WIDTH >> r;
  const index = Math.floor(id.index / perTile);
  return { tile: tileId(level, index), level, index, r, j: id.index - index * perTile };
}

export class TileStore implements SubtreeReader {
  private readonly cache = new Map<string, Tile>();

  constructor(
    private readonly tiles: Collection<TileDoc>,
    private readonly hasher: Rfc6962Hasher,
    private readonly maxCachedTiles = 1024,
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
    await Promise.all([...changed].map((key) => this.persist(touched.get(key)!)));
  }

  /** Forgets cached tiles: after losing the sequencer lease, another process may have written. */
  forgetPartialTiles(): void {
    for (const [key, tile] of this.cache) if (tile.width < TILE_WIDTH) this.cache.delete(key);
  }

  /**
   * Writes a tile by `_id` alone: FerretDB v1 pushes nothing else down, so a guard on `width`
   * in the filter would scan every tile. A tile only ever grows; the sequencer lease keeps one
   * writer at a time, and a tile written narrower by a process that lost its lease mid-batch
   * is rewritten whole by the next batch (and is never a fork: tiles derive from the leaves).
   */
  private async persist(tile: Tile): Promise<void> {
    const key = tileId(tile.level, tile.index);
    await this.tiles.updateOne(
      { _id: key },
      { $set: { level: tile.level, index: tile.index, width: tile.width, hashes: new Binary(tile.base()) } },
      { upsert: true },
    );
  }

  /** Loads tiles by `_id`; answers, per key found, the widest version known (cached or stored). */
  private async load(keys: string[]): Promise<Map<string, Tile>> {
    // One primary-key read per tile rather than `$in`, which FerretDB v1 answers with a scan.
    const found = await Promise.all(keys.map((key) => this.tiles.findOne({ _id: key })));
    const loaded = new Map<string, Tile>();
    for (const doc of found) {
      if (!doc) continue;
      const stored = Tile.fromBase(doc.level, doc.index, doc.hashes.buffer, this.hasher);
      const existing = this.cache.get(doc._id);
      const best = existing && existing.width >= stored.width ? existing : stored;
      this.remember(doc._id, best);
      loaded.set(doc._id, best);
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
