/**
 * The lines of one export page as UTF-8 bytes, encoded line by line into one buffer.
 *
 * Concatenating a page's lines into one string and writing that costs three passes over
 * ~1 MB: the HTTP layer measures the string's UTF-8 length (flattening a rope of tens of
 * thousands of pieces), then the socket encodes it again. Encoding each line as it is made,
 * while it is small and in cache, is one pass, and the socket takes the bytes as they are.
 */

/** UTF-8 needs at most 3 bytes per UTF-16 code unit (a surrogate pair: 4 bytes for 2 units). */
const MAX_BYTES_PER_UNIT = 3;
const MIN_CAPACITY = 64 * 1024;

export class Utf8Chunk {
  private buffer: Buffer;
  private length = 0;

  /** @param expectedBytes the size this chunk will likely reach (the previous page's), to allocate once */
  constructor(expectedBytes = 0) {
    this.buffer = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, Math.ceil(expectedBytes * 1.25)));
  }

  get byteLength(): number {
    return this.length;
  }

  add(text: string): void {
    const worst = this.length + text.length * MAX_BYTES_PER_UNIT;
    if (worst > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(worst, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    this.length += this.buffer.write(text, this.length, 'utf8');
  }

  /** The bytes added so far (a view: the chunk must not be added to once taken). */
  bytes(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}
