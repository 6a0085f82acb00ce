/**
 * Argument checks shared by the proof verifiers. Proofs arrive from the network (often
 * via JSON), so every number and hash is checked before it reaches the bit arithmetic,
 * which is only exact for non-negative safe integers.
 */
import { VerificationError } from './errors';
import { HASH_SIZE } from './rfc6962';

export function assertTreePosition(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new VerificationError('INVALID_ARGUMENT', `${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

export function assertHash(name: string, value: unknown): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    throw new VerificationError('INVALID_ARGUMENT', `${name} must be a ${HASH_SIZE}-byte Uint8Array`);
  }
}

export function assertHashList(name: string, value: unknown): asserts value is readonly Uint8Array[] {
  if (!Array.isArray(value)) {
    throw new VerificationError('INVALID_ARGUMENT', `${name} must be an array of hashes`);
  }
  value.forEach((h, i) => assertHash(`${name}[${i}]`, h));
}
