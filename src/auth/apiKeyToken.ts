/**
 * API key tokens. A token is shown once, at creation; only its SHA-256 is stored (tokens
 * carry 256 random bits, so a fast hash is enough and a stolen database yields no usable key).
 */
import { createHash, randomBytes } from 'node:crypto';

const TOKEN_PREFIX = 'alk_';

export function newToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** Whether a string could be one of our tokens at all (saves a look-up for garbage). */
export function looksLikeToken(token: string): boolean {
  return token.startsWith(TOKEN_PREFIX);
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
