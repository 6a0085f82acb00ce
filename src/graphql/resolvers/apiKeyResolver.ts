import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { keyGrantDecision } from '../../auth/role';
import { changeEvent } from '../../ledger/selfEvent';
import type { ApiKeyRecord } from '../../storage/port';
import { actorOf, authorizeKey, enforce, guard, type LedgerContext } from '../context';
import { ApiKey, ApiKeyInput, CreatedApiKey } from '../types/apiKey';

@Resolver()
export class ApiKeyResolver {
  @Mutation(() => CreatedApiKey, {
    description: 'Creates an API key (ADMIN), never for the caller\'s own user. The token is returned only here.',
  })
  createApiKey(@Ctx() ctx: LedgerContext, @Arg('input', () => ApiKeyInput) input: ApiKeyInput): Promise<CreatedApiKey> {
    return guard(ctx, 'createApiKey', async () => {
      const admin = authorizeKey(ctx, 'manageKeys');
      if (input.userId != null) enforce(keyGrantDecision(admin, input.userId));
      const created = await ctx.ledger.directory.createApiKey({ ...input, createdBy: admin.keyId });
      const actor = actorOf(admin);
      const { key, createdUser } = created;
      await ctx.ledger.recordSelf([
        ...(createdUser ? [changeEvent('ledger.user.created', actor, { type: 'user', id: createdUser.id, name: createdUser.name }, { type: createdUser.type }, ctx.source)] : []),
        changeEvent('ledger.apikey.created', actor, { type: 'apikey', id: key.id, name: key.name }, {
          roles: [...key.roles],
          userId: key.userId,
          groupIds: [...key.groupIds],
        }, ctx.source),
      ]);
      return { id: key.id, token: created.token, userId: key.userId };
    });
  }

  @Mutation(() => ApiKey, { description: 'Revokes an API key at once (ADMIN). Keys are never deleted.' })
  revokeApiKey(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    return guard(ctx, 'revokeApiKey', async () => {
      const admin = authorizeKey(ctx, 'manageKeys');
      const revoked = await ctx.ledger.directory.revokeApiKey(id);
      await ctx.ledger.recordSelf([
        changeEvent('ledger.apikey.revoked', actorOf(admin), { type: 'apikey', id: revoked.id, name: revoked.name }, { userId: revoked.userId }, ctx.source),
      ]);
      return apiKeyView(revoked);
    });
  }

  @Query(() => [ApiKey], { description: 'All API keys, revoked ones included (ADMIN).' })
  apiKeys(@Ctx() ctx: LedgerContext): Promise<ApiKey[]> {
    return guard(ctx, 'apiKeys', async () => {
      authorizeKey(ctx, 'manageKeys');
      return (await ctx.ledger.directory.listApiKeys()).map(apiKeyView);
    });
  }
}

function apiKeyView(k: ApiKeyRecord): ApiKey {
  return {
    id: k.id,
    name: k.name,
    roles: [...k.roles] as ApiKey['roles'],
    userId: k.userId,
    groupIds: [...k.groupIds],
    createdAt: k.createdAt,
    revokedAt: k.revokedAt,
  };
}
