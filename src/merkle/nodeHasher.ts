/**
 * RFC 6962 hasher on node:crypto's one-shot hash (Node >= 20.12), which avoids the
 * Hash object and runs OpenSSL's SHA-256: about twice the node-hash throughput of
 * @noble/hashes (scripts/bench-core.ts). Server-only; the verifier library uses noble.
 *
 * Results are plain Uint8Arrays rather than Buffers, because Buffer changes the meaning
 * of slice() (a view, not a copy) and makes Jest's toEqual fail against Uint8Array.
 */
import { hash } from 'node:crypto';
import type { Rfc6962Hasher } from '../verify/rfc6962';

/**
 * The digest as a 'binary' (latin1) string, one char per byte, copied into a fresh 32-byte array. A
 * 'buffer' digest is a Buffer with an ArrayBuffer of its own, which V8 must track and free
 * one by one: measured at 0.9-1.1 µs per node hash, against 0.37 µs this way (a typed array
 * this small lives on the JS heap and dies young).
 */
function sha256(data: Uint8Array | string): Uint8Array {
  return bytesOfLatin1(hash('sha256', data, 'binary'));
}

export function bytesOfLatin1(text: string): Uint8Array {
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const EMPTY_ROOT = sha256(new Uint8Array(0));
const HASH_SIZE = 32;

// Interior nodes are hashed by the million during appends; filling one reused buffer
// instead of allocating 65 bytes per node is ~1.5x faster. Safe because hash() is
// synchronous and consumes its input before returning.
const nodeInput = new Uint8Array(1 + 2 * HASH_SIZE);
nodeInput[0] = 0x01;

/** An RFC 6962 hasher that can also hash a whole level of a subtree in one call. */
export interface LayerHasher extends Rfc6962Hasher {
  /**
   * Writes into `into` the `count` parents of the 2·count hashes laid end to end in `below`
   * (parent j = nodeHash(below[2j], below[2j+1])).
   */
  parentLayer(below: Uint8Array, into: Uint8Array, count: number): void;
}

export const nodeCryptoRfc6962: LayerHasher = {
  leafHash(leaf: Uint8Array): Uint8Array {
    const input = new Uint8Array(1 + leaf.length);
    input[0] = 0x00;
    input.set(leaf, 1);
    return sha256(input);
  },
  nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
    if (left.length === HASH_SIZE && right.length === HASH_SIZE) {
      nodeInput.set(left, 1);
      nodeInput.set(right, 1 + HASH_SIZE);
      return sha256(nodeInput);
    }
    const input = new Uint8Array(1 + left.length + right.length);
    input[0] = 0x01;
    input.set(left, 1);
    input.set(right, 1 + left.length);
    return sha256(input);
  },
  parentLayer(below: Uint8Array, into: Uint8Array, count: number): void {
    if (below.length < 2 * count * HASH_SIZE || into.length < count * HASH_SIZE) throw new RangeError(`parentLayer: ${count} parents need ${2 * count} hashes below and room for ${count}`);
    // Each digest as a 'binary' (latin1) string lives on V8's heap; as a Buffer it would be an ArrayBuffer
    // of its own per node. Rebuilding a tile (254 nodes) this way takes half the CPU and
    // leaves the garbage collector far less to do (proofs rebuild one tile per request).
    const out = Buffer.from(into.buffer, into.byteOffset, into.byteLength);
    for (let j = 0; j < count; j++) {
      nodeInput.set(below.subarray(2 * j * HASH_SIZE, (2 * j + 2) * HASH_SIZE), 1);
      out.write(hash('sha256', nodeInput, 'binary'), j * HASH_SIZE, HASH_SIZE, 'binary');
    }
  },
  emptyRoot(): Uint8Array {
    // A copy, so that a caller mutating the result cannot corrupt later calls.
    return EMPTY_ROOT.slice();
  },
};
