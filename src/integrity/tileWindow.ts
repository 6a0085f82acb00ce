/**
 * The stored hash tiles that a streaming walk over the leaves needs next. Tiles are read
 * ahead in chunks (one read each, the next chunk in flight while the current one is
 * used) and dropped once the walk has passed them, so memory stays constant however long
 * the log. Lookups are synchronous, which keeps the tree check itself free of I/O.
 */
import { TILE_HEIGHT, TILE_WIDTH } from '../log/tileLayout';
import type { IntegrityReader } from '../storage/port';
import { HASH_SIZE } from '../verify/rfc6962';
import type { StoredNodes } from './treeCheck';

/** 2^(8·7) leaves is beyond Number.MAX_SAFE_INTEGER, so no log has a tile above level 6. */
const MAX_LEVEL = 6;

export class TileWindow implements StoredNodes {
  /** levels[L] maps a tile index to its stored base hashes. */
  private readonly levels: Map<number, Uint8Array>[] = Array.from({ length: MAX_LEVEL + 1 }, () => new Map());
  /** Level-0 tiles below this are loaded (or known not to be stored). */
  private loadedUpTo = 0;
  /** Level-0 tiles below this are loaded or being loaded. */
  private requestedUpTo = 0;
  private current = -1;
  private ahead: Promise<void> | undefined;
  /** Tiles whose stored form is damaged (a partial hash, or an `_id` that is not its position). */
  readonly malformed: string[] = [];

  constructor(
    private readonly reader: Pick<IntegrityReader, 'tiles'>,
    private readonly chunk = 64,
  ) {}

  /** Whether reach(leafIndex) has nothing to do: its tiles are the current ones. */
  reached(leafIndex: number): boolean {
    return Math.floor(leafIndex / TILE_WIDTH) === this.current;
  }

  /** Makes every tile holding a node that completes at `leafIndex` available to nodeHash(). */
  async reach(leafIndex: number): Promise<void> {
    const tile = Math.floor(leafIndex / TILE_WIDTH);
    if (tile === this.current) return;
    this.current = tile;
    if (tile >= this.loadedUpTo) {
      if (this.ahead) await this.ahead;
      this.ahead = undefined;
      if (tile >= this.loadedUpTo) await this.load(tile);
    }
    this.evictBefore(tile);
    if (!this.ahead && tile >= this.requestedUpTo - this.chunk / 2) this.ahead = this.load(this.requestedUpTo);
  }

  nodeHash(height: number, index: number): Uint8Array | undefined {
    const level = height / TILE_HEIGHT;
    const base = this.levels[level]?.get(Math.floor(index / TILE_WIDTH));
    const j = index % TILE_WIDTH;
    if (!base || (j + 1) * HASH_SIZE > base.length) return undefined;
    return base.subarray(j * HASH_SIZE, (j + 1) * HASH_SIZE);
  }

  /** Loads level-0 tiles [first, first + chunk) and the higher tiles above them. */
  private async load(first: number): Promise<void> {
    const last = first + this.chunk - 1;
    this.requestedUpTo = last + 1;
    const ids: string[] = [];
    for (let n = first; n <= last; n++) ids.push(`0/${n}`);
    for (let level = 1, span = TILE_WIDTH; level <= MAX_LEVEL; level++, span *= TILE_WIDTH) {
      for (let m = Math.floor(first / span); m <= Math.floor(last / span); m++) {
        if (!this.levels[level]!.has(m)) ids.push(`${level}/${m}`);
      }
    }
    const docs = await this.reader.tiles(ids);
    for (const doc of docs) {
      if (`${doc.level}/${doc.index}` !== doc.id) {
        // Left out, so the leaves under it are named as having no stored hash.
        this.malformed.push(doc.id);
        continue;
      }
      const base = doc.hashes;
      const partial = base.length % HASH_SIZE;
      // A cut-off trailing hash counts as not stored; the whole ones before it still count.
      if (partial !== 0) this.malformed.push(doc.id);
      this.levels[doc.level]?.set(doc.index, base.subarray(0, base.length - partial));
    }
    this.loadedUpTo = Math.max(this.loadedUpTo, last + 1);
  }

  private evictBefore(tile: number): void {
    for (let level = 0, span = 1; level <= MAX_LEVEL; level++, span *= TILE_WIDTH) {
      const keep = Math.floor(tile / span);
      for (const index of this.levels[level]!.keys()) if (index < keep) this.levels[level]!.delete(index);
    }
  }
}
