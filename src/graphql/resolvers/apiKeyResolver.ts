import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { roleSetProblem } from '../../auth/role';
import { authorize, badInput, type LedgerContext, mapErrors } from '../context';
import { ApiKey, ApiKeyInput, CreatedApiKey } from '../types/apiKey';
import type { ApiKeyDoc } from '../../auth/apiKeyStore';

@Resolver()
export class ApiKeyResolver {
  @Mutation(() => CreatedApiKey, { description: 'Creates an API key (ADMIN). The token is returned only here.' })
  createApiKey(@Ctx() ctx: LedgerContext, @Arg('input', () => ApiKeyInput) input: ApiKeyInput): Promise<CreatedApiKey> {
    const admin = authorize(ctx, 'manageKeys')!;
    return mapErrors(async () => {
      const name = input.name.trim();
      if (name.length === 0 || name.length > 128) throw badInput('name must be 1-128 characters', 'name');
      const problem = roleSetProblem(input.roles);
      if (problem) throw badInput(problem, 'roles');
      const { doc, token } = await ctx.ledger.apiKeys.create(name, input.roles, admin.keyId);
      return { id: doc._id, token };
    });
  }

  @Mutation(() => ApiKey, { description: 'Revokes an API key at once (ADMIN). Keys are never deleted.' })
  revokeApiKey(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<ApiKey> {
    authorize(ctx, 'manageKeys');
    return mapErrors(async () => {
      const existing = await ctx.ledger.apiKeys.byId(id);
      if (!existing) throw badInput(`no API key ${id}`, 'id');
      if (existing.roles.includes('ADMIN') && existing.revokedAt === null && (await ctx.ledger.apiKeys.countActiveAdmins()) <= 1) {
        throw badInput('the last active ADMIN key cannot be revoked', 'id');
      }
      return apiKeyView((await ctx.ledger.apiKeys.revoke(id))!);
    });
  }

  @Query(() => [ApiKey], { description: 'All API keys, revoked ones included (ADMIN).' })
  async apiKeys(@Ctx() ctx: LedgerContext): Promise<ApiKey[]> {
    authorize(ctx, 'manageKeys');
    return (await ctx.ledger.apiKeys.list()).map(apiKeyView);
  }
}

function apiKeyView(d: ApiKeyDoc): ApiKey {
  return { id: d._id, name: d.name, roles: d.roles as ApiKey['roles'], createdAt: d.createdAt, revokedAt: d.revokedAt };
}
