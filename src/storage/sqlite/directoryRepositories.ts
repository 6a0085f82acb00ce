/**
 * The directory: users, groups with their members, API keys. Small tables read whole or by
 * key. Group members are rows of `group_members` (indexed by user as well), so a user's
 * groups are an index read and adding a member is one atomic statement.
 */
import type Database from 'better-sqlite3';
import type { Role } from '../../auth/role';
import { DuplicateKeyError } from '../errors';
import type { ApiKeyRecord, ApiKeyRepository, GroupRecord, GroupRepository, UserRecord, UserRepository, UserStatus, UserType } from '../port';
import { sqliteCode, step } from './driverErrors';

/**
 * A unique-key collision as the port's DuplicateKeyError, naming the field that collided;
 * `unique` maps the message's `table.column` to that field.
 */
function duplicateOf(err: unknown, what: string, unique: Readonly<Record<string, string>>): DuplicateKeyError | undefined {
  const code = sqliteCode(err);
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return new DuplicateKeyError('id', `${what}: the id is taken`, { cause: err });
  if (code !== 'SQLITE_CONSTRAINT_UNIQUE') return undefined;
  const message = (err as Error).message;
  for (const [column, field] of Object.entries(unique)) {
    if (message.includes(column)) return new DuplicateKeyError(field, `${what}: the ${field} is taken`, { cause: err });
  }
  return new DuplicateKeyError('id', `${what}: ${message}`, { cause: err });
}

// ---------------------------------------------------------------------------------------

interface UserRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly external_id: string | null;
  readonly status: string;
  readonly created_at: number;
  readonly updated_at: number;
}

const USER_SELECT = 'SELECT id, name, type, external_id, status, created_at, updated_at FROM users';

function userOfRow(r: UserRow): UserRecord {
  return {
    id: r.id,
    name: r.name,
    type: r.type as UserType,
    externalId: r.external_id,
    status: r.status as UserStatus,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

export class SqliteUserRepository implements UserRepository {
  private readonly insertStatement: Database.Statement<[string, string, string, string | null, string, number, number]>;
  private readonly byIdStatement: Database.Statement<[string], UserRow>;
  private readonly byIdsStatement: Database.Statement<[string], UserRow>;
  private readonly byExternalIdsStatement: Database.Statement<[string], UserRow>;
  private readonly updateStatement: Database.Statement<[string, string, number, string]>;
  private readonly listStatement: Database.Statement<[], UserRow>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare('INSERT INTO users (id, name, type, external_id, status, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.byIdStatement = db.prepare(`${USER_SELECT} WHERE id = ?`);
    // A JSON array parameter: one statement whatever the number of ids.
    this.byIdsStatement = db.prepare(`${USER_SELECT} WHERE id IN (SELECT value FROM json_each(?))`);
    this.byExternalIdsStatement = db.prepare(`${USER_SELECT} WHERE external_id IN (SELECT value FROM json_each(?))`);
    this.updateStatement = db.prepare('UPDATE users SET name = ?, status = ?, updated_at = ? WHERE id = ?');
    this.listStatement = db.prepare(`${USER_SELECT} ORDER BY created_at, id`);
  }

  insert(u: UserRecord): Promise<void> {
    return step(() => {
      try {
        this.insertStatement.run(u.id, u.name, u.type, u.externalId, u.status, u.createdAt.getTime(), u.updatedAt.getTime());
      } catch (err) {
        throw duplicateOf(err, `user ${u.id}`, {}) ?? err;
      }
    });
  }

  byId(id: string): Promise<UserRecord | undefined> {
    return step(() => {
      const row = this.byIdStatement.get(id);
      return row && userOfRow(row);
    });
  }

  byIds(ids: readonly string[]): Promise<UserRecord[]> {
    return step(() => (ids.length === 0 ? [] : this.byIdsStatement.all(JSON.stringify(ids)).map(userOfRow)));
  }

  byExternalIds(externalIds: readonly string[]): Promise<UserRecord[]> {
    return step(() => (externalIds.length === 0 ? [] : this.byExternalIdsStatement.all(JSON.stringify(externalIds)).map(userOfRow)));
  }

  update(id: string, change: { name: string; status: UserStatus; updatedAt: Date }): Promise<void> {
    return step(() => {
      this.updateStatement.run(change.name, change.status, change.updatedAt.getTime(), id);
    });
  }

  list(): Promise<UserRecord[]> {
    return step(() => this.listStatement.all().map(userOfRow));
  }
}

// ---------------------------------------------------------------------------------------

interface GroupRow {
  readonly id: string;
  readonly name: string;
  readonly name_key: string;
  readonly description: string | null;
  readonly created_at: number;
}

const GROUP_SELECT = 'SELECT id, name, name_key, description, created_at FROM groups';

export class SqliteGroupRepository implements GroupRepository {
  private readonly insertGroup: (g: GroupRecord) => void;
  private readonly byIdStatement: Database.Statement<[string], GroupRow>;
  private readonly byNameKeyStatement: Database.Statement<[string], GroupRow>;
  private readonly byIdsStatement: Database.Statement<[string], GroupRow>;
  private readonly listStatement: Database.Statement<[], GroupRow>;
  private readonly membersStatement: Database.Statement<[string], string>;
  private readonly addMemberStatement: Database.Statement<[string, string, string, string]>;
  private readonly removeMemberStatement: Database.Statement<[string, string]>;
  private readonly groupsOfStatement: Database.Statement<[string], { user_id: string; group_id: string }>;

  constructor(db: Database.Database) {
    const insert = db.prepare<[string, string, string, string | null, number]>('INSERT INTO groups (id, name, name_key, description, created_at) VALUES (?, ?, ?, ?, ?)');
    const insertMember = db.prepare<[string, string, number]>('INSERT OR IGNORE INTO group_members (group_id, user_id, position) VALUES (?, ?, ?)');
    this.insertGroup = db.transaction((g: GroupRecord) => {
      insert.run(g.id, g.name, g.nameKey, g.description, g.createdAt.getTime());
      g.members.forEach((m, i) => insertMember.run(g.id, m, i + 1));
    }).immediate;
    this.byIdStatement = db.prepare(`${GROUP_SELECT} WHERE id = ?`);
    this.byNameKeyStatement = db.prepare(`${GROUP_SELECT} WHERE name_key = ?`);
    this.byIdsStatement = db.prepare(`${GROUP_SELECT} WHERE id IN (SELECT value FROM json_each(?))`);
    this.listStatement = db.prepare(`${GROUP_SELECT} ORDER BY created_at, id`);
    this.membersStatement = db.prepare<[string], string>('SELECT user_id FROM group_members WHERE group_id = ? ORDER BY position').pluck();
    // One statement, so atomic: the next position, and nothing for an unknown group or a
    // user already listed (OR IGNORE on the primary key).
    this.addMemberStatement = db.prepare(`
      INSERT OR IGNORE INTO group_members (group_id, user_id, position)
      SELECT ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM group_members WHERE group_id = ?)
      WHERE EXISTS (SELECT 1 FROM groups WHERE id = ?)`);
    this.removeMemberStatement = db.prepare('DELETE FROM group_members WHERE group_id = ? AND user_id = ?');
    this.groupsOfStatement = db.prepare(
      'SELECT user_id, group_id FROM group_members INDEXED BY group_members_user WHERE user_id IN (SELECT value FROM json_each(?)) ORDER BY user_id, group_id',
    );
  }

  insert(g: GroupRecord): Promise<void> {
    return step(() => {
      try {
        this.insertGroup(g);
      } catch (err) {
        throw duplicateOf(err, `group ${g.name}`, { 'groups.name_key': 'nameKey' }) ?? err;
      }
    });
  }

  byId(id: string): Promise<GroupRecord | undefined> {
    return step(() => {
      const row = this.byIdStatement.get(id);
      return row && this.groupOfRow(row);
    });
  }

  byNameKey(nameKey: string): Promise<GroupRecord | undefined> {
    return step(() => {
      const row = this.byNameKeyStatement.get(nameKey);
      return row && this.groupOfRow(row);
    });
  }

  byIds(ids: readonly string[]): Promise<GroupRecord[]> {
    return step(() => (ids.length === 0 ? [] : this.byIdsStatement.all(JSON.stringify(ids)).map((r) => this.groupOfRow(r))));
  }

  addMember(groupId: string, userId: string): Promise<void> {
    return step(() => {
      this.addMemberStatement.run(groupId, userId, groupId, groupId);
    });
  }

  removeMember(groupId: string, userId: string): Promise<void> {
    return step(() => {
      this.removeMemberStatement.run(groupId, userId);
    });
  }

  groupIdsOf(userIds: readonly string[]): Promise<Map<string, string[]>> {
    return step(() => {
      const out = new Map<string, string[]>(userIds.map((u) => [u, []]));
      if (userIds.length === 0) return out;
      for (const r of this.groupsOfStatement.all(JSON.stringify(userIds))) out.get(r.user_id)?.push(r.group_id);
      // SQL sorts by bytes; the port's order is JavaScript's.
      for (const ids of out.values()) ids.sort();
      return out;
    });
  }

  list(): Promise<GroupRecord[]> {
    return step(() => this.listStatement.all().map((r) => this.groupOfRow(r)));
  }

  private groupOfRow(r: GroupRow): GroupRecord {
    return {
      id: r.id,
      name: r.name,
      nameKey: r.name_key,
      description: r.description,
      members: this.membersStatement.all(r.id),
      createdAt: new Date(r.created_at),
    };
  }
}

// ---------------------------------------------------------------------------------------

interface ApiKeyRow {
  readonly id: string;
  readonly name: string;
  readonly roles: string;
  readonly user_id: string;
  readonly group_ids: string;
  readonly token_hash: string;
  readonly created_at: number;
  readonly created_by: string | null;
  readonly revoked_at: number | null;
}

const API_KEY_SELECT = 'SELECT id, name, roles, user_id, group_ids, token_hash, created_at, created_by, revoked_at FROM api_keys';

function apiKeyOfRow(r: ApiKeyRow): ApiKeyRecord {
  return {
    id: r.id,
    name: r.name,
    roles: JSON.parse(r.roles) as Role[],
    userId: r.user_id,
    groupIds: JSON.parse(r.group_ids) as string[],
    tokenHash: r.token_hash,
    createdAt: new Date(r.created_at),
    createdBy: r.created_by,
    revokedAt: r.revoked_at === null ? null : new Date(r.revoked_at),
  };
}

export class SqliteApiKeyRepository implements ApiKeyRepository {
  private readonly insertStatement: Database.Statement<[string, string, string, string, string, string, number, string | null, number | null]>;
  private readonly byIdStatement: Database.Statement<[string], ApiKeyRow>;
  private readonly byTokenHashStatement: Database.Statement<[string], ApiKeyRow>;
  private readonly revokeStatement: Database.Statement<[number, string]>;
  private readonly activeAdminsStatement: Database.Statement<[], ApiKeyRow>;
  private readonly listStatement: Database.Statement<[], ApiKeyRow>;

  constructor(db: Database.Database) {
    this.insertStatement = db.prepare(
      'INSERT INTO api_keys (id, name, roles, user_id, group_ids, token_hash, created_at, created_by, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.byIdStatement = db.prepare(`${API_KEY_SELECT} WHERE id = ?`);
    this.byTokenHashStatement = db.prepare(`${API_KEY_SELECT} WHERE token_hash = ?`);
    this.revokeStatement = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
    // A scan, but of the keys: a directory-sized table.
    this.activeAdminsStatement = db.prepare(
      `${API_KEY_SELECT} WHERE revoked_at IS NULL AND EXISTS (SELECT 1 FROM json_each(roles) WHERE value = 'ADMIN') ORDER BY created_at, id`,
    );
    this.listStatement = db.prepare(`${API_KEY_SELECT} ORDER BY created_at, id`);
  }

  insert(k: ApiKeyRecord): Promise<void> {
    return step(() => {
      try {
        this.insertStatement.run(
          k.id,
          k.name,
          JSON.stringify(k.roles),
          k.userId,
          JSON.stringify(k.groupIds),
          k.tokenHash,
          k.createdAt.getTime(),
          k.createdBy,
          k.revokedAt === null ? null : k.revokedAt.getTime(),
        );
      } catch (err) {
        throw duplicateOf(err, `API key ${k.id}`, { 'api_keys.token_hash': 'tokenHash' }) ?? err;
      }
    });
  }

  byId(id: string): Promise<ApiKeyRecord | undefined> {
    return step(() => {
      const row = this.byIdStatement.get(id);
      return row && apiKeyOfRow(row);
    });
  }

  byTokenHash(tokenHash: string): Promise<ApiKeyRecord | undefined> {
    return step(() => {
      const row = this.byTokenHashStatement.get(tokenHash);
      return row && apiKeyOfRow(row);
    });
  }

  revoke(id: string, at: Date): Promise<void> {
    return step(() => {
      this.revokeStatement.run(at.getTime(), id);
    });
  }

  activeAdmins(): Promise<ApiKeyRecord[]> {
    return step(() => this.activeAdminsStatement.all().map(apiKeyOfRow));
  }

  list(): Promise<ApiKeyRecord[]> {
    return step(() => this.listStatement.all().map(apiKeyOfRow));
  }
}
