/**
 * Blind indexes computed lately, for fields whose values recur (actor ids, target types): an
 * HMAC per event for a value seen a moment ago is a large part of what sealing an event costs
 * besides its own encryption. Two generations: when the newer one fills, it becomes the older
 * and the one before is dropped; a value found in the older one moves up. So any set of up to
 * `limit` recurring values stays found, and a value in use survives the turn of a generation
 * (the cache before, cleared whenever it filled, held 4,096 and then nothing: a few thousand
 * active actors missed on every event). Memory stays bounded at twice `limit` entries.
 */
export const DEFAULT_RECENT_BLINDS = 8_192;

export class RecentBlinds {
  private newer = new Map<string, string>();
  private older = new Map<string, string>();

  constructor(private readonly limit = DEFAULT_RECENT_BLINDS) {}

  /** The blind index of `value`, computed by `compute` only when not held. */
  get(value: string, compute: (value: string) => string): string {
    let blind = this.newer.get(value);
    if (blind !== undefined) return blind;
    blind = this.older.get(value) ?? compute(value);
    if (this.newer.size >= this.limit) {
      this.older = this.newer;
      this.newer = new Map();
    }
    this.newer.set(value, blind);
    return blind;
  }

  get size(): number {
    return this.newer.size + this.older.size;
  }
}
