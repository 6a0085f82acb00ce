import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { keyGrantDecision, keyGroupsProblem, roleSetProblem } from '../../auth/role';
import { LIMITS } from '../../event/eventInput';
import { changeEvent } from '../../ledger/selfEvent';
import { actorOf, authorizeKey, badInput, enforce, guard, type LedgerContext } from '../context';
import { ApiKey, ApiKeyInput, CreatedApiKey } from '../types/apiKey';
import type { ApiKeyDoc } from '../../auth/apiKeyStore';

@Resolver()
export class ApiKeyResolver {
  @Mutation(() => CreatedApiKey, {
    description: 'Creates an API key (ADMIN), never for the caller\'s own user. The token is returned only here.',
  })
  createApiKey(@Ctx() ctx: LedgerContext, @Arg('input', () => ApiKeyInput) input: ApiKeyInput): Promise<CreatedApiKey> {
    return guard(ctx, 'createApiKey', async () => {
      const admin = authorizeKey(ctx, 'manageKeys');
      const { directory, apiKeys } = ctx.ledger;
      const name = input.name.trim();
      if (name.length === 0 || name.length > 128) throw badInput('name must be 1-128 characters', 'name');
      const problem = roleSetProblem(input.roles);
      if (problem) throw badInput(problem, 'roles');
      const groupIds = [...new Set(input.groupIds ?? [])];
      // Each id is looked up; a key needs no more groups than an event can carry.
      if (groupIds.length > LIMITS.groups) throw badInput(`a key may be scoped to at most ${LIMITS.groups} groups`, 'groupIds');
      const groupsProblem = keyGroupsProblem(input.roles, groupIds);
      if (groupsProblem) throw badInput(groupsProblem, 'groupIds');
      await directory.assertGroupsExist(groupIds, 'groupIds');
      const actor = actorOf(admin);
      let userId: string;
      if (input.userId != null) {
        const user = await directory.existingUser(input.userId, 'userId');
        enforce(keyGrantDecision(admin, user._id));
        if (user.status !== 'ACTIVE') throw badInput(`user ${user._id} is disabled`, 'userId');
        userId = user._id;
      } else {
        const user = await directory.createUser({ name, type: 'SERVICE' });
        await ctx.ledger.recordSelf([
          changeEvent('ledger.user.created', actor, { type: 'user', id: user._id, name: user.name }, { type: user.type }, ctx.source),
        ]);
        userId = user._id;
      }
      const { doc, token } = await apiKeys.create({ name, roles: input.roles, userId, groupIds, createdBy: admin.keyId });
      await ctx.ledger.recordSelf([
        changeEvent('ledger.apikey.created', actor, { type: 'apikey', id: doc._id, name: doc.name }, {
          roles: [...doc.roles],
          userId: doc.userId,
          groupIds: doc.groupIds,
        }, ctx.source),
      ]);
      return { id: doc._id, token, userId };
    });
  }

  @Mutation(() => ApiKey, { description: 'Revokes an API key at once (ADMIN). Keys are never deleted.' })
  revokeApiKey(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    return guard(ctx, 'revokeApiKey', async () => {
      const admin = authorizeKey(ctx, 'manageKeys');
      const existing = await ctx.ledger.apiKeys.byId(id);
      if (!existing) throw badInput(`no API key ${id}`, 'id');
      if (existing.revokedAt !== null) throw badInput(`API key ${id} is already revoked`, 'id');
      if (existing.roles.includes('ADMIN') && (await ctx.ledger.apiKeys.countActiveAdmins()) <= 1) {
        throw badInput('the last active ADMIN key cannot be revoked', 'id');
      }
      const revoked = (await ctx.ledger.apiKeys.revoke(id))!;
      await ctx.ledger.recordSelf([
        changeEvent('ledger.apikey.revoked', actorOf(admin), { type: 'apikey', id: revoked._id, name: revoked.name }, { userId: revoked.userId }, ctx.source),
      ]);
      return apiKeyView(revoked);
    });
  }

  @Query(() => [ApiKey], { description: 'All API keys, revoked ones included (ADMIN).' })
  apiKeys(@Ctx() ctx: LedgerContext): Promise<ApiKey[]> {
    return guard(ctx, 'apiKeys', async () => {
      authorizeKey(ctx, 'manageKeys');
      return (await ctx.ledger.apiKeys.list()).map(apiKeyView);
    });
  }
}

function apiKeyView(d: ApiKeyDoc): ApiKey {
  return {
    id: d._id,
    name: d.name,
    roles: d.roles as ApiKey['roles'],
    userId: d.userId,
    groupIds: d.groupIds,
    createdAt: d.createdAt,
    revokedAt: d.revokedAt,
  };
}
