/**
 * Who a request's token speaks for. The key's user is read on every request, so disabling a
 * user (or revoking a key) takes effect at once, with no cache to outlive it.
 */
import type { UserDoc, UserStore } from '../directory/user';
import type { ApiKeyDoc, ApiKeyStore } from './apiKeyStore';
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

export function actorOfUser(user: Pick<UserDoc, '_id' | 'name' | 'type'>): KnownActor {
  return { id: user._id, type: user.type === 'HUMAN' ? 'USER' : 'SERVICE', name: user.name };
}

export function principalOf(key: ApiKeyDoc, user: UserDoc): Principal {
  const actor = actorOfUser(user);
  return {
    keyId: key._id,
    name: key.name,
    roles: key.roles,
    userId: user._id,
    userName: user.name,
    actorType: actor.type,
    groupIds: key.groupIds,
  };
}

export async function authenticate(token: string | undefined, keys: ApiKeyStore, users: UserStore): Promise<Authentication> {
  if (token === undefined) return { kind: 'anonymous' };
  const key = await keys.byToken(token);
  if (!key) return { kind: 'refused', reason: 'unknown API key' };
  const user = await users.byId(key.userId);
  if (!user) return { kind: 'refused', reason: `the key's user ${key.userId} does not exist` };
  const actor = actorOfUser(user);
  if (key.revokedAt !== null) return { kind: 'refused', reason: 'revoked API key', actor };
  if (user.status !== 'ACTIVE') return { kind: 'refused', reason: `the key's user ${user._id} is disabled`, actor };
  return { kind: 'authenticated', principal: principalOf(key, user) };
}
