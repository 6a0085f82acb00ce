/**
 * The directory service: users, groups, memberships and API keys, with every rule that makes
 * a request a BAD_USER_INPUT (name lengths, unknown ids, duplicate group names, disabled
 * users, role sets, the last ADMIN). GraphQL and the `bootstrap-admin` command both go
 * through it, so no rule is written twice. Permission decisions (who may ask) are not made
 * here; the shell asks `auth/role` first.
 */
import { randomUUID } from 'node:crypto';
import { LedgerError } from '../errors';
import { LIMITS } from '../event/eventInput';
import { hashToken, newToken } from '../auth/apiKeyToken';
import { keyGroupsProblem, lastAdminProblem, type Role, roleSetProblem } from '../auth/role';
import { DuplicateKeyError } from '../storage/errors';
import type { ApiKeyRecord, GroupRecord, LedgerStorage, UserRecord, UserStatus, UserType } from '../storage/port';
import { groupNameKey } from './groupName';

/** A directory request that names something missing, duplicate or unusable. */
export class DirectoryInputError extends LedgerError {
  override name = 'DirectoryInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_INPUT', message);
  }
}

export interface NewUser {
  readonly name: string;
  readonly type: UserType;
  readonly externalId?: string | null;
}

export interface UserChange {
  readonly name?: string | null;
  readonly status?: UserStatus | null;
}

export interface NewApiKey {
  readonly name: string;
  readonly roles: readonly Role[];
  /** The key's user; absent: a new SERVICE user named after the key. */
  readonly userId?: string | null;
  readonly groupIds?: readonly string[] | null;
  readonly createdBy: string | null;
}

export interface CreatedApiKey {
  readonly key: ApiKeyRecord;
  /** Shown once. */
  readonly token: string;
  /** The SERVICE user created for it, when no user was named. */
  readonly createdUser?: UserRecord;
}

/** The fixed id of the first ADMIN user and key: two concurrent bootstraps cannot both win. */
export const BOOTSTRAP_ADMIN_ID = 'bootstrap-admin';

export const NAME_LIMITS = { name: 128, externalId: 256, description: 1024 } as const;

type DirectoryStorage = Pick<LedgerStorage, 'users' | 'groups' | 'apiKeys'>;

export class Directory {
  constructor(private readonly storage: DirectoryStorage) {}

  // Users -------------------------------------------------------------------------------

  async createUser(input: NewUser, id: string = randomUUID()): Promise<UserRecord> {
    const now = new Date();
    const user: UserRecord = {
      id,
      name: boundedText(input.name, 'name', NAME_LIMITS.name),
      type: input.type,
      externalId: input.externalId == null ? null : boundedText(input.externalId, 'externalId', NAME_LIMITS.externalId),
      status: 'ACTIVE',
      createdAt: now,
      updatedAt: now,
    };
    await this.storage.users.insert(user);
    return user;
  }

  /** Renames, disables or re-enables; the last ADMIN user cannot be disabled. */
  async updateUser(id: string, change: UserChange): Promise<{ before: UserRecord; after: UserRecord }> {
    const before = await this.existingUser(id, 'id');
    if (change.status === 'DISABLED' && before.status === 'ACTIVE') {
      const problem = lastAdminProblem(id, await this.activeAdminUserIds());
      if (problem) throw new DirectoryInputError('id', problem);
    }
    const after: UserRecord = {
      ...before,
      ...(change.name != null && { name: boundedText(change.name, 'name', NAME_LIMITS.name) }),
      ...(change.status != null && { status: change.status }),
      updatedAt: new Date(),
    };
    await this.storage.users.update(id, { name: after.name, status: after.status, updatedAt: after.updatedAt });
    return { before, after };
  }

  async existingUser(id: string, field: string): Promise<UserRecord> {
    const user = await this.storage.users.byId(id);
    if (!user) throw new DirectoryInputError(field, `no user ${id}`);
    return user;
  }

  user(id: string): Promise<UserRecord | undefined> {
    return this.storage.users.byId(id);
  }

  usersByIds(ids: readonly string[]): Promise<UserRecord[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.storage.users.byIds(ids);
  }

  listUsers(): Promise<UserRecord[]> {
    return this.storage.users.list();
  }

  /**
   * The directory users that event actors name: by user id, or by `externalId` (services name
   * people by their own identifiers). An id wins over an external id.
   */
  async usersNamedBy(actorIds: readonly string[]): Promise<Map<string, UserRecord>> {
    const unique = [...new Set(actorIds)];
    const out = new Map<string, UserRecord>();
    if (unique.length === 0) return out;
    for (const u of await this.storage.users.byIds(unique)) out.set(u.id, u);
    const rest = unique.filter((a) => !out.has(a));
    if (rest.length > 0) {
      for (const u of await this.storage.users.byExternalIds(rest)) if (u.externalId !== null && !out.has(u.externalId)) out.set(u.externalId, u);
    }
    return out;
  }

  // Groups ------------------------------------------------------------------------------

  async createGroup(input: { name: string; description?: string | null }): Promise<GroupRecord> {
    const name = boundedText(input.name, 'name', NAME_LIMITS.name);
    const description = input.description == null ? null : boundedText(input.description, 'description', NAME_LIMITS.description);
    // Checked first for a clear message; the unique name key settles races.
    if (await this.storage.groups.byNameKey(groupNameKey(name))) throw new DirectoryInputError('name', `a group named ${name} already exists`);
    const group: GroupRecord = { id: randomUUID(), name, nameKey: groupNameKey(name), description, members: [], createdAt: new Date() };
    try {
      await this.storage.groups.insert(group);
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new DirectoryInputError('name', `a group named ${name} already exists`);
      throw err;
    }
    return group;
  }

  async addMember(groupId: string, userId: string): Promise<GroupRecord> {
    const group = await this.existingGroup(groupId);
    const user = await this.existingUser(userId, 'userId');
    if (user.status !== 'ACTIVE') throw new DirectoryInputError('userId', `user ${userId} is disabled`);
    if (group.members.includes(userId)) throw new DirectoryInputError('userId', `user ${userId} is already a member of group ${groupId}`);
    await this.storage.groups.addMember(groupId, userId);
    return this.existingGroup(groupId);
  }

  async removeMember(groupId: string, userId: string): Promise<GroupRecord> {
    const group = await this.existingGroup(groupId);
    await this.existingUser(userId, 'userId');
    if (!group.members.includes(userId)) throw new DirectoryInputError('userId', `user ${userId} is not a member of group ${groupId}`);
    await this.storage.groups.removeMember(groupId, userId);
    return this.existingGroup(groupId);
  }

  async existingGroup(id: string, field = 'groupId'): Promise<GroupRecord> {
    const group = await this.storage.groups.byId(id);
    if (!group) throw new DirectoryInputError(field, `no group ${id}`);
    return group;
  }

  group(id: string): Promise<GroupRecord | undefined> {
    return this.storage.groups.byId(id);
  }

  groupsByIds(ids: readonly string[]): Promise<GroupRecord[]> {
    return ids.length === 0 ? Promise.resolve([]) : this.storage.groups.byIds(ids);
  }

  listGroups(): Promise<GroupRecord[]> {
    return this.storage.groups.list();
  }

  /** Each user's groups now, sorted (a stable snapshot for stamping events). */
  groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    return userIds.length === 0 ? Promise.resolve(new Map()) : this.storage.groups.groupIdsOf(userIds);
  }

  /** Every id must name a group. */
  async assertGroupsExist(ids: readonly string[], field: string): Promise<void> {
    const found = new Set((await this.groupsByIds(ids)).map((g) => g.id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new DirectoryInputError(field, `no group ${missing.join(', ')}`);
  }

  // API keys ----------------------------------------------------------------------------

  /**
   * Checks a new key fully before creating anything, then creates its SERVICE user if none
   * was named, then the key. (Permission to grant to the named user is the caller's check.)
   */
  async createApiKey(input: NewApiKey, id: string = randomUUID()): Promise<CreatedApiKey> {
    const name = boundedText(input.name, 'name', NAME_LIMITS.name);
    const roles = [...new Set(input.roles)];
    const problem = roleSetProblem(roles);
    if (problem) throw new DirectoryInputError('roles', problem);
    const groupIds = [...new Set(input.groupIds ?? [])].sort();
    // Each id is looked up; a key needs no more groups than an event can carry.
    if (groupIds.length > LIMITS.groups) throw new DirectoryInputError('groupIds', `a key may be scoped to at most ${LIMITS.groups} groups`);
    const groupsProblem = keyGroupsProblem(roles, groupIds);
    if (groupsProblem) throw new DirectoryInputError('groupIds', groupsProblem);
    await this.assertGroupsExist(groupIds, 'groupIds');
    let createdUser: UserRecord | undefined;
    let userId: string;
    if (input.userId != null) {
      const user = await this.existingUser(input.userId, 'userId');
      if (user.status !== 'ACTIVE') throw new DirectoryInputError('userId', `user ${user.id} is disabled`);
      userId = user.id;
    } else {
      createdUser = await this.createUser({ name, type: 'SERVICE' });
      userId = createdUser.id;
    }
    const token = newToken();
    const key: ApiKeyRecord = {
      id,
      name,
      roles,
      userId,
      groupIds,
      tokenHash: hashToken(token),
      createdAt: new Date(),
      createdBy: input.createdBy,
      revokedAt: null,
    };
    await this.storage.apiKeys.insert(key);
    return { key, token, ...(createdUser && { createdUser }) };
  }

  /** Revokes at once; keys are never deleted. The last active ADMIN key cannot be revoked. */
  async revokeApiKey(id: string): Promise<ApiKeyRecord> {
    const existing = await this.storage.apiKeys.byId(id);
    if (!existing) throw new DirectoryInputError('id', `no API key ${id}`);
    if (existing.revokedAt !== null) throw new DirectoryInputError('id', `API key ${id} is already revoked`);
    if (existing.roles.includes('ADMIN') && (await this.storage.apiKeys.activeAdmins()).length <= 1) {
      throw new DirectoryInputError('id', 'the last active ADMIN key cannot be revoked');
    }
    await this.storage.apiKeys.revoke(id, new Date());
    return (await this.storage.apiKeys.byId(id))!;
  }

  listApiKeys(): Promise<ApiKeyRecord[]> {
    return this.storage.apiKeys.list();
  }

  /** Users holding at least one unrevoked ADMIN key. */
  async activeAdminUserIds(): Promise<string[]> {
    const holders = [...new Set((await this.storage.apiKeys.activeAdmins()).map((k) => k.userId))];
    return (await this.usersByIds(holders)).filter((u) => u.status === 'ACTIVE').map((u) => u.id);
  }

  /**
   * The first ADMIN user and key, only while no ADMIN key exists. The fixed ids make two
   * concurrent bootstraps safe: the unique key id lets exactly one in, and a user left by a
   * bootstrap that died before its key is reused.
   */
  async bootstrapAdmin(name: string): Promise<CreatedApiKey & { user: UserRecord }> {
    if ((await this.storage.apiKeys.activeAdmins()).length > 0) {
      throw new DirectoryInputError('name', 'an ADMIN key already exists; ask an admin to create keys with createApiKey');
    }
    let user = await this.storage.users.byId(BOOTSTRAP_ADMIN_ID);
    if (!user) {
      try {
        user = await this.createUser({ name, type: 'HUMAN' }, BOOTSTRAP_ADMIN_ID);
      } catch (err) {
        if (!(err instanceof DuplicateKeyError)) throw err;
        user = (await this.storage.users.byId(BOOTSTRAP_ADMIN_ID))!;
      }
    }
    try {
      const created = await this.createApiKey({ name, roles: ['ADMIN'], userId: user.id, groupIds: [], createdBy: null }, BOOTSTRAP_ADMIN_ID);
      return { ...created, user };
    } catch (err) {
      if (err instanceof DuplicateKeyError) throw new DirectoryInputError('name', 'an ADMIN key was bootstrapped already');
      throw err;
    }
  }
}

function boundedText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw new DirectoryInputError(field, `${field} must be 1-${max} characters`);
  return trimmed;
}
