/**
 * Where a tree node's hash is stored: the C2SP tlog-tiles layout. Tile (L, N) holds the
 * hashes of the nodes at height 8·L with indices 256·N … 256·N+255 (fewer while it is the
 * partial, rightmost tile). Only every eighth level is stored; a node in between is rebuilt
 * from at most 128 hashes of the one tile below it, the trade Go's sumdb and Tessera make.
 * Pure: no I/O.
 */
import type { NodeId } from '../merkle/nodeId';

export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 1 << TILE_HEIGHT;

/** A node's place: tile (level, index), layer r inside it (height 8·level + r), position j in the layer. */
export interface TilePosition {
  readonly tile: string;
  readonly level: number;
  readonly index: number;
  readonly r: number;
  readonly j: number;
}

export function tileKey(level: number, index: number): string {
  return `${level}/${index}`;
}

export function locateNode(id: NodeId): TilePosition {
  const level = Math.floor(id.level / TILE_HEIGHT);
  const r = id.level % TILE_HEIGHT;
  const perTile = TILE_WIDTH >> r;
  const index = Math.floor(id.index / perTile);
  return { tile: tileKey(level, index), level, index, r, j: id.index - index * perTile };
}
