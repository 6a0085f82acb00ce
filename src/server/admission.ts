/**
 * Who is calling, decided from the headers before the body is read, and whether they may call
 * now. Valid API keys are limited per key (high: a service appending at full speed through one
 * key must never meet it); everyone else (no key, or a key that is unknown, revoked or whose
 * user is disabled) per client address (low).
 *
 * An unknown token costs a database look-up, so a flood of made-up tokens must not bypass the
 * address limit: a token not recently seen valid is only looked up while its address still
 * has tokens in its bucket, and is charged to the address if it turns out invalid. Tokens
 * seen valid are remembered (by SHA-256, bounded) only to pick the bucket: authorization is
 * still decided by the look-up on every request.
 */
import { createHash } from 'node:crypto';
import type { Request } from 'express';
import type { Authentication } from '../auth/authentication';
import type { Source } from '../event/eventRecord';
import { bearerToken } from '../graphql/context';
import type { Admission } from './httpServer';
import { HttpError } from './jsonErrors';
import { addressKey, type RateLimit, RateLimitedError, RateLimiter } from './rateLimit';

export interface LedgerAdmission extends Admission {
  readonly authentication: Authentication;
  /** The client's address and user agent, for the events recorded about this request. */
  readonly source: Source;
  /** The client's rate-limit key (IPv6 per /64). */
  readonly clientKey: string;
}

export interface AdmissionOptions {
  readonly perKey: RateLimit;
  readonly anonymous: RateLimit;
  /** Null while the ledger is starting. */
  readonly authenticate: ((token: string | undefined) => Promise<Authentication>) | null;
  readonly now?: () => number;
}

const KNOWN_TOKENS_MAX = 10_000;
const AUTHENTICATION_TIMEOUT_MS = 3_000;

export class AdmissionControl {
  private readonly perKey: RateLimiter;
  private readonly perAddress: RateLimiter;
  /** SHA-256 of tokens seen valid → key id (insertion order = age). */
  private readonly knownTokens = new Map<string, string>();
  authenticate: AdmissionOptions['authenticate'];

  constructor(options: AdmissionOptions) {
    this.perKey = new RateLimiter(options.perKey, options.now);
    this.perAddress = new RateLimiter(options.anonymous, options.now);
    this.authenticate = options.authenticate;
  }

  async admit(req: Request): Promise<LedgerAdmission> {
    const authenticate = this.authenticate;
    if (!authenticate) throw new HttpError(503, 'UNAVAILABLE', 'the ledger is starting', { 'Retry-After': '1' });
    const clientKey = addressKey(req.ip ?? req.socket.remoteAddress);
    const token = bearerToken(req.headers.authorization);
    const tokenHash = token === undefined ? undefined : createHash('sha256').update(token).digest('hex');
    const knownKey = tokenHash === undefined ? undefined : this.knownTokens.get(tokenHash);
    if (knownKey !== undefined) check(this.perKey.take(knownKey), 'key');
    else if (token === undefined) check(this.perAddress.take(clientKey), 'address');
    else check(this.perAddress.peek(clientKey), 'address');

    let authentication: Authentication;
    let timer: NodeJS.Timeout | undefined;
    try {
      // The driver would wait 10 s to select a server that is gone; a caller learns sooner.
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('authentication timed out')), AUTHENTICATION_TIMEOUT_MS);
      });
      authentication = await Promise.race([authenticate(token), late]);
    } catch {
      throw new HttpError(503, 'UNAVAILABLE', 'the database is unavailable; try again later', { 'Retry-After': '5' });
    } finally {
      clearTimeout(timer);
    }
    if (authentication.kind === 'authenticated') {
      if (knownKey === undefined) {
        this.remember(tokenHash!, authentication.principal.keyId);
        check(this.perKey.take(authentication.principal.keyId), 'key');
      }
    } else if (tokenHash !== undefined) {
      this.knownTokens.delete(tokenHash);
      check(this.perAddress.take(clientKey), 'address');
    }
    const userAgent = req.headers['user-agent'];
    return {
      authenticated: authentication.kind === 'authenticated',
      authentication,
      clientKey,
      source: { ...(req.ip !== undefined && { ip: req.ip }), ...(userAgent !== undefined && { userAgent }) },
    };
  }

  private remember(tokenHash: string, keyId: string): void {
    if (this.knownTokens.size >= KNOWN_TOKENS_MAX) {
      const oldest = this.knownTokens.keys().next();
      if (!oldest.done) this.knownTokens.delete(oldest.value);
    }
    this.knownTokens.set(tokenHash, keyId);
  }
}

function check(admit: ReturnType<RateLimiter['take']>, scope: 'key' | 'address'): void {
  if (!admit.allowed) throw new RateLimitedError(admit.retryAfterSeconds, scope);
}
