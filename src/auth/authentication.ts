/**
 * Who a request's token speaks for. The key and its user are looked up on every request, so
 * disabling a user (or revoking a key) takes effect at once: where the lookups are cached
 * (directory/directoryCache.ts, storage one server owns), every change empties the cache.
 */
import type { ApiKeyRecord, ApiKeyRepository, UserRecord, UserRepository } from '../storage/port';
import { hashToken, looksLikeToken } from './apiKeyToken';
import type { Principal, PrincipalActorType } from './role';

/** How a known user appears as an event actor. */
export interface KnownActor {
  readonly id: string;
  readonly type: PrincipalActorType;
  readonly name: string;
}

export type Authentication =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'authenticated'; readonly principal: Principal }
  /** A token was sent but may not be used; `actor` is its user when the key is known. */
  | { readonly kind: 'refused'; readonly reason: string; readonly actor?: KnownActor };

export function actorOfUser(user: Pick<UserRecord, 'id' | 'name' | 'type'>): KnownActor {
  return { id: user.id, type: user.type === 'HUMAN' ? 'USER' : 'SERVICE', name: user.name };
}

export function principalOf(key: ApiKeyRecord, user: UserRecord): Principal {
  const actor = actorOfUser(user);
  return {
    keyId: key.id,
    name: key.name,
    roles: key.roles,
    userId: user.id,
    userName: user.name,
    actorType: actor.type,
    groupIds: key.groupIds,
  };
}

export async function authenticate(token: string | undefined, keys: ApiKeyRepository, users: UserRepository): Promise<Authentication> {
  if (token === undefined) return { kind: 'anonymous' };
  const key = looksLikeToken(token) ? await keys.byTokenHash(hashToken(token)) : undefined;
  if (!key) return { kind: 'refused', reason: 'unknown API key' };
  const user = await users.byId(key.userId);
  if (!user) return { kind: 'refused', reason: `the key's user ${key.userId} does not exist` };
  const actor = actorOfUser(user);
  if (key.revokedAt !== null) return { kind: 'refused', reason: 'revoked API key', actor };
  if (user.status !== 'ACTIVE') return { kind: 'refused', reason: `the key's user ${user.id} is disabled`, actor };
  return { kind: 'authenticated', principal: principalOf(key, user) };
}
