/**
 * The sqlite adapter: the shared storage contract on an in-memory and on a file database,
 * then what only this adapter has: file modes, which files it agrees to open, the query
 * plans behind pages and counts, the background worker's counts, and the one-server lock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../src/errors';
import { leafOfFields } from '../../src/event/storedEvent';
import { DuplicateKeyError, WrongDatabaseError } from '../../src/storage/errors';
import type { EventCountKey, EventFields, EventPageQuery, EventQuery, LedgerStorage, RawStoredEvent } from '../../src/storage/port';
import { BackgroundWorker } from '../../src/storage/sqlite/backgroundClient';
import { MaintainedCounts, WorkerCountRunner } from '../../src/storage/sqlite/counts';
import { QueryPlanner } from '../../src/storage/sqlite/eventQueryPlan';
import { CHECKPOINT_HISTORY_SQL } from '../../src/storage/sqlite/logRepositories';
import { applyPragmas, SCHEMA_VERSION } from '../../src/storage/sqlite/schema';
import { acquireServerLock } from '../../src/storage/sqlite/serverLock';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { describeStorageContract, makeEvent, referenceCounts, referencePage } from './contract';

const root = mkdtempSync(path.join(os.tmpdir(), 'audit-ledger-sqlite-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let folders = 0;
/** A path in a folder of its own that does not exist yet. */
const freshFile = (): string => path.join(root, `db-${++folders}`, 'ledger.db');

describeStorageContract('sqlite (in memory)', { open: () => openSqliteStorage({ file: ':memory:', create: true }) });
const files = new WeakMap<LedgerStorage, string>();
describeStorageContract('sqlite (file)', {
  open: async () => {
    const file = freshFile();
    const storage = await openSqliteStorage({ file, create: true });
    files.set(storage, file);
    return storage;
  },
  reopen: (storage) => openSqliteStorage({ file: files.get(storage)!, create: false }),
});

const mode = (file: string): number => statSync(file).mode & 0o777;

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('sqlite adapter specifics', () => {
  describe('the database file', () => {
    it('is created private, with its folder, its WAL and shared-memory files, whatever the umask', async () => {
      const file = freshFile();
      const previous = process.umask(0o000);
      let storage: LedgerStorage;
      try {
        storage = await openSqliteStorage({ file, create: true });
      } finally {
        process.umask(previous);
      }
      try {
        await storage.events.append([makeEvent(0)]);
        expect(mode(path.dirname(file))).toBe(0o700);
        expect(mode(file)).toBe(0o600);
        expect(mode(`${file}-wal`)).toBe(0o600);
        expect(mode(`${file}-shm`)).toBe(0o600);
        expect(storage.kind).toBe('sqlite');
        expect(storage.description).toBe(path.resolve(file));
        expect(storage.sharedByProcesses).toBe(false);
        await storage.ping();
      } finally {
        await storage.close();
        await storage.close();
      }
      await expect(storage.ping()).rejects.toBeInstanceOf(LedgerError);
    });

    it('runs in WAL mode with full synchronous commits and a busy timeout', async () => {
      const file = freshFile();
      const storage = await openSqliteStorage({ file, create: true });
      await storage.close();
      const db = new Database(file, { readonly: true });
      try {
        expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      } finally {
        db.close();
      }
      // synchronous and busy_timeout are per connection: read them through the adapter's own module.
      const probe = new Database(file, { timeout: 5000 });
      try {
        applyPragmas(probe, { readonly: false });
        expect(probe.pragma('synchronous', { simple: true })).toBe(2);
        expect(probe.pragma('busy_timeout', { simple: true })).toBe(5000);
      } finally {
        probe.close();
      }
    });

    it('keeps its data across a reopen without create, and describes an in-memory database as such', async () => {
      const file = freshFile();
      const first = await openSqliteStorage({ file, create: true });
      const event = makeEvent(0, { groups: ['g1'] });
      await first.events.append([event]);
      await first.close();
      const again = await openSqliteStorage({ file, create: false });
      try {
        expect((await again.events.byLeafIndex(0))?.id).toBe(event.id);
        expect(await again.events.countBy('groups', {}, 1)).toEqual([{ key: 'g1', count: 1 }]);
      } finally {
        await again.close();
      }
      const created = await openSqliteStorage({ file, create: true });
      expect(await created.events.estimatedCount()).toBe(1);
      await created.close();
      const memory = await openSqliteStorage({ file: ':memory:', create: true });
      expect(memory.description).toBe(':memory:');
      await memory.close();
    });

    it('opens read-only for reading beside a server, refusing writes as a LedgerError', async () => {
      const file = freshFile();
      const writer = await openSqliteStorage({ file, create: true });
      await writer.events.append([makeEvent(0)]);
      const reader = await openSqliteStorage({ file, create: false, readonly: true });
      try {
        expect(await reader.events.estimatedCount()).toBe(1);
        await writer.events.append([makeEvent(1)]);
        expect(await reader.events.estimatedCount()).toBe(2);
        const err = await rejection(reader.events.append([makeEvent(2)]));
        expect(err).toBeInstanceOf(LedgerError);
        expect((err as LedgerError).code).toBe('UNAVAILABLE');
      } finally {
        await reader.close();
        await writer.close();
      }
    });
  });

  describe('which files it opens', () => {
    it('refuses a missing file without create, naming it and saying how to create one, and creates nothing', async () => {
      const file = freshFile();
      const err = await rejection(openSqliteStorage({ file, create: false }));
      expect(err).toBeInstanceOf(WrongDatabaseError);
      expect((err as WrongDatabaseError).code).toBe('WRONG_DATABASE');
      expect((err as Error).message).toContain(path.resolve(file));
      expect((err as Error).message).toMatch(/start the server|create/);
      expect(existsSync(file)).toBe(false);
    });

    it("refuses another application's SQLite database, with or without create", async () => {
      const file = freshFile();
      mkdirSync(path.dirname(file));
      const other = new Database(file);
      other.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY)');
      other.close();
      for (const create of [false, true]) {
        const err = await rejection(openSqliteStorage({ file, create }));
        expect(err).toBeInstanceOf(WrongDatabaseError);
        expect((err as Error).message).toContain(file);
      }
      const check = new Database(file, { readonly: true });
      expect(check.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all()).toEqual(['orders']);
      check.close();
    });

    it('refuses an empty file without create, and a file that is not SQLite at all', async () => {
      const empty = freshFile();
      mkdirSync(path.dirname(empty));
      writeFileSync(empty, '');
      await expect(openSqliteStorage({ file: empty, create: false })).rejects.toBeInstanceOf(WrongDatabaseError);
      const garbage = freshFile();
      mkdirSync(path.dirname(garbage));
      writeFileSync(garbage, 'this is not a database, just some text that is long enough to have a header. '.repeat(20));
      for (const create of [false, true]) await expect(openSqliteStorage({ file: garbage, create })).rejects.toBeInstanceOf(WrongDatabaseError);
    });

    it('refuses a ledger of a newer schema version, saying so', async () => {
      const file = freshFile();
      await (await openSqliteStorage({ file, create: true })).close();
      const db = new Database(file);
      db.prepare('UPDATE meta SET value = ? WHERE key = ?').run(String(SCHEMA_VERSION + 1), 'schema_version');
      db.close();
      for (const create of [false, true]) {
        const err = await rejection(openSqliteStorage({ file, create }));
        expect(err).toBeInstanceOf(WrongDatabaseError);
        expect((err as Error).message).toMatch(new RegExp(`schema version ${SCHEMA_VERSION + 1}, newer`));
      }
    });
  });

  describe('appends', () => {
    it('names a colliding event id as a duplicate id and stores nothing of the call', async () => {
      const storage = await openSqliteStorage({ file: ':memory:', create: true });
      try {
        const first = makeEvent(0);
        await storage.events.append([first]);
        const err = await rejection(storage.events.append([makeEvent(1), makeEvent(2, { id: first.id })]));
        expect(err).toBeInstanceOf(DuplicateKeyError);
        expect((err as DuplicateKeyError).field).toBe('id');
        expect(await storage.events.estimatedCount()).toBe(1);
      } finally {
        await storage.close();
      }
    });

    it('refuses leaves that do not follow each other', async () => {
      const storage = await openSqliteStorage({ file: ':memory:', create: true });
      try {
        await expect(storage.events.append([makeEvent(0), makeEvent(2)])).rejects.toBeInstanceOf(LedgerError);
        expect(await storage.events.estimatedCount()).toBe(0);
      } finally {
        await storage.close();
      }
    });
  });

  describe('the integrity reader', () => {
    it('shows edited columns as edited, damaged values as found, and rows at any position', async () => {
      const file = freshFile();
      const storage = await openSqliteStorage({ file, create: true });
      try {
        const events = [0, 1, 2, 3].map((i) => makeEvent(i, { source: { ip: '10.0.0.1' }, occurredAt: new Date(1000), groups: ['g1'] }));
        await storage.events.append(events);
        const db = new Database(file);
        db.prepare("UPDATE events SET actor_id = 'mallory' WHERE leaf_index = 0").run();
        db.prepare("UPDATE events SET source = '{not json', groups = 'nope', leaf_hash = 'text' WHERE leaf_index = 1").run();
        db.prepare("UPDATE events SET recorded_at = 'yesterday', occurred_at = 1.5 WHERE leaf_index = 2").run();
        db.prepare('UPDATE events SET leaf_index = -1 WHERE leaf_index = 3').run();
        db.close();

        const raw = (await collect(storage.integrity.events(2))).flat();
        expect(raw.map((r) => r.position)).toEqual([-1, 0, 1, 2]);
        const [moved, edited, damaged, retyped] = raw;
        expect(leafOfFields(moved!.fields as unknown as EventFields)).toBe(events[3]!.leaf);
        expect((edited!.fields.actor as { id: string }).id).toBe('mallory');
        expect(leafOfFields(edited!.fields as unknown as EventFields)).not.toBe(events[0]!.leaf);
        expect(damaged!.fields.source).toBe('{not json');
        expect(damaged!.fields.groups).toBe('nope');
        expect(damaged!.fields.leafHash).toBe('text');
        expect(retyped!.fields.recordedAt).toBe('yesterday');
        expect(retyped!.fields.occurredAt).toBe(1.5);
        // verify-db re-derives the leaf: a damaged value must fail that, not the walk.
        const rederive = (fields: RawStoredEvent['fields']): string | undefined => {
          try {
            return leafOfFields(fields as unknown as EventFields);
          } catch {
            return undefined;
          }
        };
        expect(rederive(damaged!.fields)).not.toBe(events[1]!.leaf);
        expect(rederive(retyped!.fields)).toBeUndefined();
      } finally {
        await storage.close();
      }
    });
  });

  describe('query plans', () => {
    const SIZE = 2000;
    const groups = Array.from({ length: 10 }, (_, i) => `g${i}`);
    const events = Array.from({ length: SIZE }, (_, i) =>
      makeEvent(i, {
        action: ['user.login', 'user.logout', 'doc.read', 'doc.write', 'user.role.grant'][i % 5]!,
        actor: { id: `u${i % 37}`, type: 'USER' },
        target: i % 4 === 0 ? undefined : { type: i % 3 ? 'doc' : 'user', id: `t${i % 53}` },
        outcome: i % 7 === 0 ? 'FAILURE' : 'SUCCESS',
        groups: [groups[i % 10]!, ...(i % 3 === 0 ? [groups[(i + 1) % 10]!] : [])].sort(),
        recordedAt: new Date(Date.UTC(2026, 0, 1) + Math.floor(i / 4) * 1000),
      }),
    );
    const at = (i: number): Date => events[i]!.recordedAt;
    let file: string;
    let storage: LedgerStorage;
    let db: Database.Database;
    let planner: QueryPlanner;

    beforeAll(async () => {
      file = freshFile();
      storage = await openSqliteStorage({ file, create: true });
      for (let i = 0; i < SIZE; i += 500) await storage.events.append(events.slice(i, i + 500));
      db = new Database(file, { readonly: true });
      planner = new QueryPlanner(db);
    });
    afterAll(async () => {
      db.close();
      await storage.close();
    });

    const queries: readonly (readonly [string, EventQuery])[] = [
      ['no filter', {}],
      ['one group', { groupIds: ['g3'] }],
      ['several groups', { groupIds: ['g1', 'g4', 'g7'] }],
      ['group and action', { groupIds: ['g2'], action: 'doc.read' }],
      ['group, action and time', { groupIds: ['g2'], action: 'doc.read', from: at(400), to: at(1500) }],
      ['group and action prefix', { groupIds: ['g4'], actionPrefix: 'user.' }],
      ['groups, action prefix and time', { groupIds: ['g1', 'g6'], actionPrefix: 'doc.', from: at(300), to: at(1700) }],
      ['actor', { actorId: 'u5' }],
      ['actor and group', { actorId: 'u5', groupIds: ['g5'] }],
      ['action', { action: 'user.logout' }],
      ['action prefix', { actionPrefix: 'user.' }],
      ['action prefix and group', { actionPrefix: 'doc.', groupIds: ['g8', 'g9'] }],
      ['target', { targetType: 'doc', targetId: 't7' }],
      ['target id', { targetId: 't7' }],
      ['target type', { targetType: 'user' }],
      ['outcome', { outcome: 'FAILURE' }],
      ['time range', { from: at(100), to: at(900) }],
      ['everything', { actorId: 'u1', action: 'user.login', actionPrefix: 'user.', targetType: 'doc', targetId: 't1', outcome: 'SUCCESS', from: at(1), to: at(1999), groupIds: ['g1'] }],
    ];

    /** The plan's lines, failing on a scan of a table without an index or a sort for a page. */
    function planOf(statement: { sql: string; params: readonly unknown[] }): string[] {
      return db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${statement.sql}`)
        .all(...statement.params)
        .map((r) => r.detail);
    }
    /** A scan of a whole table or a whole index (json_each and subquery results are fine). */
    const unindexed = (line: string): boolean => /^SCAN (e|g|x|events|event_groups|event_counts|group_counts)\b/.test(line);

    /** A target type alone has no index in leaf order: its (smaller) range is read and sorted, deliberately. */
    const sorted = new Set(['target type']);
    it.each(queries)('pages %s by index range scans in leaf order, and the right rows', async (title, filter) => {
      for (const newestFirst of [true, false]) {
        const q: EventPageQuery = { ...filter, treeSize: SIZE - 3, limit: 50, newestFirst, afterLeafIndex: newestFirst ? SIZE - 100 : 20 };
        const statements = planner.pagePlan(q);
        for (const statement of statements) {
          const plan = planOf(statement);
          expect({ sql: statement.sql, plan, unindexed: plan.filter(unindexed) }).toEqual({ sql: statement.sql, plan, unindexed: [] });
          expect(plan.some((line) => line.includes('TEMP B-TREE'))).toBe(sorted.has(title));
          expect(plan.some((line) => /^SEARCH (e|g) /.test(line))).toBe(true);
        }
        expect((await storage.events.page(q)).map((e) => e.leafIndex)).toEqual(referencePage(events, q).map((e) => e.leafIndex));
      }
    });

    it('answers the size history from checkpoints_created_at, one entry per look-up', () => {
      const latestAt = planOf({ sql: CHECKPOINT_HISTORY_SQL.latestAt, params: [at(500).getTime()] });
      expect(latestAt).toEqual([expect.stringMatching(/^SEARCH checkpoints USING COVERING INDEX checkpoints_created_at \(created_at<\?\)$/)]);
      const earliest = planOf({ sql: CHECKPOINT_HISTORY_SQL.earliest, params: [] });
      expect(earliest).toEqual([expect.stringMatching(/^SCAN checkpoints USING COVERING INDEX checkpoints_created_at$/)]);
    });

    it('drives a page from the group when the group is smaller, and from the actor when the actor is', () => {
      const byGroup = planner.pagePlan({ treeSize: SIZE, limit: 10, groupIds: ['g3'], outcome: 'SUCCESS' });
      expect(planOf(byGroup[0]!)[0]).toMatch(/^SEARCH g USING PRIMARY KEY \(group_id=\? AND leaf_index>\? AND leaf_index<\?\)/);
      const byActor = planner.pagePlan({ treeSize: SIZE, limit: 10, groupIds: ['g3'], actorId: 'u5' });
      expect(planOf(byActor[0]!)[0]).toMatch(/^SEARCH e USING INDEX events_actor/);
      // A narrow time range is itself the smallest scan.
      const narrow = planner.pagePlan({ treeSize: SIZE, limit: 10, outcome: 'SUCCESS', from: at(1000), to: at(1010) });
      expect(planOf(narrow[0]!)[0]).toMatch(/^SEARCH e USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/);
      // A target type is sorted from its index range only when that range is the smaller;
      // a type on most events is found sooner by the leaf range in order.
      const rare = planner.pagePlan({ treeSize: SIZE, limit: 10, targetType: 'user' });
      expect(planOf(rare[0]!)).toEqual([expect.stringMatching(/^SEARCH e USING INDEX events_target \(target_type=\?\)/), 'USE TEMP B-TREE FOR ORDER BY']);
      const common = planner.pagePlan({ treeSize: SIZE, limit: 10, targetType: 'doc', from: at(1500) });
      expect(planOf(common[0]!)).toEqual([expect.stringMatching(/^SEARCH e USING INTEGER PRIMARY KEY/)]);
    });

    it("tests a group page's action on the group row, before reading the event", async () => {
      const q: EventPageQuery = { treeSize: SIZE, limit: 10, newestFirst: true, groupIds: ['g2'], action: 'doc.read' };
      const [plan] = planner.pagePlan(q);
      expect(planOf(plan!)[0]).toMatch(/^SEARCH g USING PRIMARY KEY \(group_id=\? AND leaf_index>\? AND leaf_index<\?\)/);
      const right = referencePage(events, q).map((e) => e.leafIndex);
      expect((await storage.events.page(q)).map((e) => e.leafIndex)).toEqual(right);
      // A group row saying another action hides its event, although the event matches: the
      // scan decided on the group row alone, without reading the event. NULL (a row not yet
      // filled by the schema upgrade) leaves the decision to the event.
      const writer = new Database(file);
      const setAction = writer.prepare<[string | null, number]>("UPDATE event_groups SET action = ? WHERE group_id = 'g2' AND leaf_index = ?");
      try {
        setAction.run('user.login', right[0]!);
        expect((await storage.events.page(q)).map((e) => e.leafIndex)).toEqual(referencePage(events.filter((e) => e.leafIndex !== right[0]), q).map((e) => e.leafIndex));
        setAction.run(null, right[0]!);
        expect((await storage.events.page(q)).map((e) => e.leafIndex)).toEqual(right);
      } finally {
        setAction.run('doc.read', right[0]!);
        writer.close();
      }
    });

    it('counts groups by group or by action over a time range from their group rows, reading an event only for a row not filled yet', async () => {
      const shapes: EventQuery[] = [
        { groupIds: ['g2'], from: at(400), to: at(1500) },
        { groupIds: ['g2'], action: 'doc.read', from: at(400), to: at(1500) },
        { groupIds: ['g1', 'g6'], actionPrefix: 'doc.', from: at(300), to: at(1700) },
      ];
      for (const key of ['action', 'groups'] as const) {
        for (const q of shapes) {
          const statement = planner.countPlan(key, q, SIZE)!;
          const plan = planOf(statement);
          expect({ key, q, plan }).toEqual({ key, q, plan: expect.arrayContaining([expect.stringMatching(/^SEARCH g USING PRIMARY KEY \(group_id=\? AND leaf_index>\? AND leaf_index<\?\)/)]) });
          // `x` is the unfilled row's look-up of its event; `e` would be a read of every event.
          expect(plan.filter((line) => /^(SEARCH|SCAN) e\b/.test(line))).toEqual([]);
          expect(await storage.events.countBy(key, q, SIZE)).toEqual(referenceCounts(events, key, q, SIZE));
        }
      }
    });

    it("counts a time range by group, action or outcome from each key's index, without reading an event", async () => {
      for (const q of [{ from: at(100), to: at(900) }, { from: at(0) }, { to: at(1200) }] satisfies EventQuery[]) {
        for (const key of ['groups', 'action', 'outcome'] as const) {
          const statement = planner.countPlan(key, q, SIZE - 3)!;
          const plan = planOf(statement);
          expect({ key, q, read: plan.filter((line) => !/^(SEARCH (event_groups USING PRIMARY KEY|events USING COVERING INDEX events_(action|outcome)) \(|COMPOUND QUERY$|LEFT-MOST SUBQUERY$|UNION ALL$)/.test(line)) }).toEqual({ key, q, read: [] });
          expect(await storage.events.countBy(key, q, SIZE - 3)).toEqual(referenceCounts(events, key, q, SIZE - 3));
        }
      }
    });

    const keys: EventCountKey[] = ['groups', 'action', 'actor.id', 'outcome'];
    it.each(queries)('counts %s from an index, and the right counts', async (_title, filter) => {
      for (const key of keys) {
        const statement = planner.countPlan(key, filter, SIZE - 3);
        if (statement) {
          const plan = planOf(statement);
          expect({ key, sql: statement.sql, unindexed: plan.filter(unindexed) }).toEqual({ key, sql: statement.sql, unindexed: [] });
        }
        expect(await storage.events.countBy(key, filter, SIZE - 3)).toEqual(referenceCounts(events, key, filter, SIZE - 3));
      }
    });

    it('reads maintained counts by their primary keys, less a primary-key range of the leaves past the tree size', () => {
      const maintained = new MaintainedCounts(db);
      const shapes: readonly (readonly [EventCountKey, EventQuery])[] = [
        ['action', {}],
        ['actor.id', {}],
        ['outcome', {}],
        ['groups', {}],
        ['action', { groupIds: ['g1'] }],
        ['actor.id', { groupIds: ['g1'] }],
        ['groups', { groupIds: ['g1'] }],
        ['groups', { groupIds: ['g1', 'g2', 'g9'] }],
      ];
      for (const [key, q] of shapes) {
        for (const treeSize of [SIZE, SIZE - 3]) {
          const statement = maintained.statement(key, q, treeSize);
          expect(statement).toBeDefined();
          const plan = planOf(statement!);
          expect({ key, q, treeSize, plan, unindexed: plan.filter(unindexed) }).toEqual({ key, q, treeSize, plan, unindexed: [] });
          // The totals: a search of event_counts or group_counts by its primary key.
          expect(plan.some((line) => /^SEARCH (event_counts|group_counts) USING PRIMARY KEY/.test(line))).toBe(true);
          if (treeSize < SIZE) expect(plan.some((line) => /SEARCH e USING INTEGER PRIMARY KEY \(rowid>\?\)/.test(line))).toBe(true);
        }
      }
      // Other filters, or several groups by another key, are not the totals' to answer.
      expect(maintained.statement('action', { actorId: 'u1' }, SIZE)).toBeUndefined();
      expect(maintained.statement('action', { groupIds: ['g1', 'g2'] }, SIZE)).toBeUndefined();
      // Nor a tree size far behind the stored leaves: the worker aggregates then.
      expect(maintained.statement('action', {}, 0)).toBeDefined();
    });
  });

  describe('the background worker\'s counts', () => {
    it('answers aggregates from its own read-only connection to the file', async () => {
      const file = freshFile();
      const storage = await openSqliteStorage({ file, create: true });
      const events = Array.from({ length: 40 }, (_, i) => makeEvent(i, { actor: { id: `u${i % 3}`, type: 'USER' }, groups: [`g${i % 4}`] }));
      await storage.events.append(events);
      const background = new BackgroundWorker(file);
      const runner = new WorkerCountRunner(background);
      try {
        const rows = await runner.run({ sql: 'SELECT actor_id AS key, count(*) AS n FROM events WHERE leaf_index < ? GROUP BY actor_id', params: [30] });
        expect(rows.sort((a, b) => String(a.key).localeCompare(String(b.key)))).toEqual([
          { key: 'u0', n: 10 },
          { key: 'u1', n: 10 },
          { key: 'u2', n: 10 },
        ]);
        // Several at once, answered in turn.
        const many = await Promise.all([1, 2, 3].map((n) => runner.run({ sql: 'SELECT ? AS key, count(*) AS n FROM events', params: [String(n)] })));
        expect(many).toEqual([1, 2, 3].map((n) => [{ key: String(n), n: 40 }]));
        const write = await rejection(runner.run({ sql: 'DELETE FROM events RETURNING leaf_index AS key, 1 AS n', params: [] }));
        expect(write).toBeInstanceOf(LedgerError);
        expect((write as LedgerError).code).toBe('UNAVAILABLE');
        const bad = await rejection(runner.run({ sql: 'SELECT nonsense FROM nowhere', params: [] }));
        expect(bad).toBeInstanceOf(LedgerError);
        // The adapter's own filtered counts go through its worker.
        const q: EventQuery = { actorId: 'u1', groupIds: ['g1', 'g2'] };
        expect(await storage.events.countBy('groups', q, 35)).toEqual(referenceCounts(events, 'groups', q, 35));
      } finally {
        await runner.close();
        await background.close();
        await storage.close();
      }
      await expect(runner.run({ sql: 'SELECT 1 AS key, 1 AS n', params: [] })).rejects.toBeInstanceOf(LedgerError);
    });
  });

  describe('the server lock', () => {
    it('lets one server hold a data folder, names the holder to a second, and is free again once released', async () => {
      const dir = path.join(root, `lock-${++folders}`);
      const lock = await acquireServerLock(dir);
      const file = path.join(dir, 'server.lock');
      expect(readFileSync(file, 'utf8').trim()).toBe(String(process.pid));
      expect(mode(file)).toBe(0o600);
      expect(mode(dir)).toBe(0o700);
      const err = await rejection(acquireServerLock(dir));
      expect(err).toBeInstanceOf(WrongDatabaseError);
      expect((err as Error).message).toContain(`pid ${process.pid}`);
      expect((err as Error).message).toContain(dir);
      await lock.release();
      expect(existsSync(file)).toBe(false);
      const again = await acquireServerLock(dir);
      await again.release();
      await again.release();
    });

    it('takes over a lock left by a process that is gone, or one without a pid', async () => {
      const gone = spawnSync(process.execPath, ['-e', '']).pid;
      expect(gone).toBeGreaterThan(0);
      for (const content of [`${gone}\n`, '', 'garbage']) {
        const dir = path.join(root, `lock-${++folders}`);
        mkdirSync(dir);
        writeFileSync(path.join(dir, 'server.lock'), content);
        const lock = await acquireServerLock(dir);
        expect(readFileSync(path.join(dir, 'server.lock'), 'utf8').trim()).toBe(String(process.pid));
        await lock.release();
      }
    });
  });
});
