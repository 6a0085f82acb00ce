import { Ctx, Query, Resolver } from 'type-graphql';
import { AccessDenied, guard, principalOf, type LedgerContext } from '../context';
import type { RoleEnum } from '../types/apiKey';
import { Viewer } from '../types/viewer';

@Resolver(() => Viewer)
export class ViewerResolver {
  /** Any valid key may read its own identity and scope: nothing it could not learn by trying. */
  @Query(() => Viewer, { description: 'The calling API key: its name, roles, user and the names of the groups it is scoped to (any key).' })
  viewer(@Ctx() ctx: LedgerContext): Promise<Viewer> {
    return guard(ctx, 'viewer', async () => {
      if (ctx.authentication.kind === 'refused') throw new AccessDenied('UNAUTHENTICATED', ctx.authentication.reason);
      const principal = principalOf(ctx);
      if (!principal) throw new AccessDenied('UNAUTHENTICATED', 'viewer needs an API key');
      const groups = await ctx.ledger.directory.groupsByIds([...principal.groupIds]);
      return {
        keyId: principal.keyId,
        name: principal.name,
        roles: principal.roles.map((r) => r as RoleEnum),
        userId: principal.userId,
        userName: principal.userName,
        groups: groups.map((g) => ({ id: g.id, name: g.name })),
      };
    });
  }
}
