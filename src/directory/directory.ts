/**
 * The directory: users, groups and memberships, with the checks that make a request a
 * BAD_USER_INPUT (unknown ids, duplicate group names, disabled users). Permission decisions
 * are not made here; the shell asks `auth/role` first.
 */
import type { Db } from 'mongodb';
import { ensureCollection } from '../db/collections';
import { DuplicateGroupNameError, type GroupDoc, GROUPS_COLLECTION, groupNameKey, GroupStore } from './group';
import { type UserDoc, USERS_COLLECTION, type UserStatus, UserStore, type UserType } from './user';

/** A directory request that names something missing, duplicate or unusable. */
export class DirectoryInputError extends Error {
  override readonly name = 'DirectoryInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
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

export class Directory {
  readonly users: UserStore;
  readonly groups: GroupStore;

  constructor(db: Db) {
    this.users = new UserStore(db.collection(USERS_COLLECTION.name));
    this.groups = new GroupStore(db.collection(GROUPS_COLLECTION.name));
  }

  static async ensureCollections(db: Db): Promise<void> {
    for (const def of [USERS_COLLECTION, GROUPS_COLLECTION]) await ensureCollection(db, def);
  }

  createUser(input: NewUser, id?: string): Promise<UserDoc> {
    const externalId = input.externalId == null ? null : boundedText(input.externalId, 'externalId', 256);
    return this.users.create({ name: boundedText(input.name, 'name', 128), type: input.type, externalId }, id);
  }

  async updateUser(id: string, change: UserChange): Promise<{ before: UserDoc; after: UserDoc }> {
    const before = await this.existingUser(id, 'id');
    const after = await this.users.update(before, {
      ...(change.name != null && { name: boundedText(change.name, 'name', 128) }),
      ...(change.status != null && { status: change.status }),
    });
    return { before, after };
  }

  async createGroup(input: { name: string; description?: string | null }): Promise<GroupDoc> {
    const name = boundedText(input.name, 'name', 128);
    const description = input.description == null ? null : boundedText(input.description, 'description', 1024);
    // Checked first for a clear message; the unique index settles races.
    if (await this.groups.byNameKey(groupNameKey(name))) throw new DirectoryInputError('name', `a group named ${name} already exists`);
    try {
      return await this.groups.create({ name, description });
    } catch (err) {
      if (err instanceof DuplicateGroupNameError) throw new DirectoryInputError('name', `a group named ${name} already exists`);
      throw err;
    }
  }

  async addMember(groupId: string, userId: string): Promise<GroupDoc> {
    const group = await this.existingGroup(groupId);
    const user = await this.existingUser(userId, 'userId');
    if (user.status !== 'ACTIVE') throw new DirectoryInputError('userId', `user ${userId} is disabled`);
    if (group.members.includes(userId)) throw new DirectoryInputError('userId', `user ${userId} is already a member of group ${groupId}`);
    return (await this.groups.addMember(groupId, userId))!;
  }

  async removeMember(groupId: string, userId: string): Promise<GroupDoc> {
    const group = await this.existingGroup(groupId);
    await this.existingUser(userId, 'userId');
    if (!group.members.includes(userId)) throw new DirectoryInputError('userId', `user ${userId} is not a member of group ${groupId}`);
    return (await this.groups.removeMember(groupId, userId))!;
  }

  async existingUser(id: string, field: string): Promise<UserDoc> {
    const user = await this.users.byId(id);
    if (!user) throw new DirectoryInputError(field, `no user ${id}`);
    return user;
  }

  async existingGroup(id: string, field = 'groupId'): Promise<GroupDoc> {
    const group = await this.groups.byId(id);
    if (!group) throw new DirectoryInputError(field, `no group ${id}`);
    return group;
  }

  /** Every id must name a group. */
  async assertGroupsExist(ids: readonly string[], field: string): Promise<void> {
    const found = new Set((await this.groups.byIds(ids)).map((g) => g._id));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length > 0) throw new DirectoryInputError(field, `no group ${missing.join(', ')}`);
  }
}

function boundedText(value: string, field: string, max: number): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw new DirectoryInputError(field, `${field} must be 1-${max} characters`);
  return trimmed;
}
