/**
 * The RFC 6962 (and RFC 9162 §2.1.1) Merkle tree hash: SHA-256 with one-byte domain
 * separation between leaves (0x00) and interior nodes (0x01), so that no leaf can be
 * passed off as an interior node (second-preimage resistance across levels).
 */
import { sha256 } from '@noble/hashes/sha2.js';

/** Output size of the tree hash, in bytes. */
export const HASH_SIZE = 32;

/**
 * The three functions a Merkle tree needs. Kept as an interface so that server code can
 * plug in a faster SHA-256 without changing any tree algorithm.
 */
export interface Rfc6962Hasher {
  /** SHA-256(0x00 || leaf): the hash of a log entry. */
  leafHash(leaf: Uint8Array): Uint8Array;
  /** SHA-256(0x01 || left || right): the hash of an interior node. */
  nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array;
  /** SHA-256(""): the root of the empty tree. */
  emptyRoot(): Uint8Array;
}

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

export function leafHash(leaf: Uint8Array): Uint8Array {
  const input = new Uint8Array(1 + leaf.length);
  input[0] = LEAF_PREFIX;
  input.set(leaf, 1);
  return sha256(input);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  // One buffer and one update: faster than three streaming updates on 65-byte inputs.
  const input = new Uint8Array(1 + left.length + right.length);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return sha256(input);
}

export function emptyRoot(): Uint8Array {
  return sha256(new Uint8Array(0));
}

/** The portable hasher (@noble/hashes); works in browsers and Node alike. */
export const rfc6962: Rfc6962Hasher = { leafHash, nodeHash, emptyRoot };
