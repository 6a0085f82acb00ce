import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { GroupRecord, UserRecord } from '../../storage/port';
import { changeEvent } from '../../ledger/selfEvent';
import { actorOf, authorizeKey, guard, type LedgerContext } from '../context';
import { CreateGroupInput, CreateUserInput, Group, UpdateUserInput, User, type UserStatusEnum, type UserTypeEnum } from '../types/directory';

export function userView(u: UserRecord): User {
  return {
    id: u.id,
    name: u.name,
    type: u.type as UserTypeEnum,
    externalId: u.externalId,
    status: u.status as UserStatusEnum,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
  };
}

export function groupView(g: GroupRecord): Group {
  return { id: g.id, name: g.name, description: g.description, createdAt: g.createdAt, memberIds: [...g.members] };
}

const userTarget = (u: UserRecord) => ({ type: 'user', id: u.id, name: u.name });
const groupTarget = (g: GroupRecord) => ({ type: 'group', id: g.id, name: g.name });

@Resolver(() => User)
export class UserResolver {
  @Query(() => [User], { description: 'Every user, disabled ones included (ADMIN, AUDITOR).' })
  users(@Ctx() ctx: LedgerContext): Promise<User[]> {
    return guard(ctx, 'users', async () => {
      authorizeKey(ctx, 'readDirectory');
      return (await ctx.ledger.directory.listUsers()).map(userView);
    });
  }

  @Query(() => User, { nullable: true, description: 'One user (ADMIN, AUDITOR).' })
  user(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<User | null> {
    return guard(ctx, 'user', async () => {
      authorizeKey(ctx, 'readDirectory');
      const doc = await ctx.ledger.directory.user(id);
      return doc ? userView(doc) : null;
    });
  }

  @FieldResolver(() => [Group], { description: "The user's groups now (events keep the groups of their time)." })
  async groups(@Root() user: User, @Ctx() ctx: LedgerContext): Promise<Group[]> {
    const ids = (await ctx.ledger.directory.groupIdsOf([user.id])).get(user.id) ?? [];
    return (await ctx.ledger.directory.groupsByIds(ids)).map(groupView);
  }

  @Mutation(() => User, { description: 'Creates a user (ADMIN).' })
  createUser(@Ctx() ctx: LedgerContext, @Arg('input', () => CreateUserInput) input: CreateUserInput): Promise<User> {
    return guard(ctx, 'createUser', async () => {
      const admin = authorizeKey(ctx, 'manageDirectory');
      const user = await ctx.ledger.directory.createUser(input);
      await ctx.ledger.recordSelf([changeEvent('ledger.user.created', actorOf(admin), userTarget(user), { type: user.type }, ctx.source)]);
      return userView(user);
    });
  }

  @Mutation(() => User, { description: 'Renames, disables or re-enables a user (ADMIN). Users are never deleted.' })
  updateUser(
    @Ctx() ctx: LedgerContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateUserInput) input: UpdateUserInput,
  ): Promise<User> {
    return guard(ctx, 'updateUser', async () => {
      const admin = authorizeKey(ctx, 'manageDirectory');
      const { before, after } = await ctx.ledger.directory.updateUser(id, input);
      const changed = {
        ...(before.name !== after.name && { name: { from: before.name, to: after.name } }),
        ...(before.status !== after.status && { status: { from: before.status, to: after.status } }),
      };
      await ctx.ledger.recordSelf([changeEvent('ledger.user.updated', actorOf(admin), userTarget(after), changed, ctx.source)]);
      return userView(after);
    });
  }
}

@Resolver(() => Group)
export class GroupResolver {
  @Query(() => [Group], { description: 'Every group (ADMIN, AUDITOR).' })
  groups(@Ctx() ctx: LedgerContext): Promise<Group[]> {
    return guard(ctx, 'groups', async () => {
      authorizeKey(ctx, 'readDirectory');
      return (await ctx.ledger.directory.listGroups()).map(groupView);
    });
  }

  @Query(() => Group, { nullable: true, description: 'One group (ADMIN, AUDITOR).' })
  group(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<Group | null> {
    return guard(ctx, 'group', async () => {
      authorizeKey(ctx, 'readDirectory');
      const doc = await ctx.ledger.directory.group(id);
      return doc ? groupView(doc) : null;
    });
  }

  @FieldResolver(() => [User])
  async members(@Root() group: Group, @Ctx() ctx: LedgerContext): Promise<User[]> {
    const users = await ctx.ledger.directory.usersByIds(group.memberIds);
    const byId = new Map(users.map((u) => [u.id, u]));
    return group.memberIds.flatMap((id) => {
      const u = byId.get(id);
      return u ? [userView(u)] : [];
    });
  }

  @Mutation(() => Group, { description: 'Creates a group; names are unique, case-insensitively (ADMIN).' })
  createGroup(@Ctx() ctx: LedgerContext, @Arg('input', () => CreateGroupInput) input: CreateGroupInput): Promise<Group> {
    return guard(ctx, 'createGroup', async () => {
      const admin = authorizeKey(ctx, 'manageDirectory');
      const group = await ctx.ledger.directory.createGroup(input);
      await ctx.ledger.recordSelf([changeEvent('ledger.group.created', actorOf(admin), groupTarget(group), undefined, ctx.source)]);
      return groupView(group);
    });
  }

  @Mutation(() => Group, { description: 'Adds an active user to a group (ADMIN). Recorded events keep their groups.' })
  addGroupMember(@Ctx() ctx: LedgerContext, @Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string): Promise<Group> {
    return guard(ctx, 'addGroupMember', async () => {
      const admin = authorizeKey(ctx, 'manageDirectory');
      const group = await ctx.ledger.directory.addMember(groupId, userId);
      await ctx.ledger.recordSelf([changeEvent('ledger.group.member.added', actorOf(admin), groupTarget(group), { userId }, ctx.source)]);
      return groupView(group);
    });
  }

  @Mutation(() => Group, { description: 'Removes a user from a group (ADMIN). Recorded events keep their groups.' })
  removeGroupMember(@Ctx() ctx: LedgerContext, @Arg('groupId', () => ID) groupId: string, @Arg('userId', () => ID) userId: string): Promise<Group> {
    return guard(ctx, 'removeGroupMember', async () => {
      const admin = authorizeKey(ctx, 'manageDirectory');
      const group = await ctx.ledger.directory.removeMember(groupId, userId);
      await ctx.ledger.recordSelf([changeEvent('ledger.group.member.removed', actorOf(admin), groupTarget(group), { userId }, ctx.source)]);
      return groupView(group);
    });
  }
}
