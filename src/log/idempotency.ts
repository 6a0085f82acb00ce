/**
 * Idempotency keys. A client key is scoped to the credential that sent it (two services may
 * both use "retry-1"), and remembered with a digest of the content it was first sent with,
 * so that a retry (same key, same content) gets the original receipt while a reuse of the
 * key for other content is refused rather than silently answered with an unrelated event.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { LedgerError } from '../errors';
import type { EventContent } from '../event/eventRecord';

/** The same idempotency key was sent before with different content. */
export class IdempotencyConflictError extends LedgerError {
  override name = 'IdempotencyConflictError';
  constructor(
    readonly idempotencyKey: string,
    readonly leafIndex: number,
  ) {
    super(
      'IDEMPOTENCY_CONFLICT',
      `idempotency key ${JSON.stringify(idempotencyKey)} was used for different content, recorded at leaf ${leafIndex}`,
    );
  }
}

/** The stored form of a client key: `k:<credential>:<key>`. */
export function scopedKey(credentialId: string, clientKey: string): string {
  return `k:${credentialId}:${clientKey}`;
}

/** The client's own key back from its scoped form. */
export function clientKeyOf(scoped: string): string {
  const second = scoped.indexOf(':', 2);
  return second < 0 ? scoped : scoped.slice(second + 1);
}

/** What a request asked to record, before the server stamps groups: the part a retry must repeat. */
export type RequestedContent = Omit<EventContent, 'groups' | 'submitter'> & { readonly explicitGroups?: readonly string[] };

/** SHA-256 (hex) of the request's canonical JSON. */
export function contentDigest(content: RequestedContent): string {
  const text = canonicalize({ ...content, explicitGroups: [...(content.explicitGroups ?? [])].sort() });
  if (text === undefined) throw new TypeError('request content cannot be canonicalised');
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Whether a retry repeats the content first sent under its key. Keys remembered before
 * digests were kept have an empty digest: unknown, so taken as a retry (as they always were).
 */
export function sameContent(remembered: string | undefined, sent: string | undefined): boolean {
  return remembered === '' || remembered === sent;
}
