/**
 * Upgrading a schema version 1 SQLite ledger (event_groups without `action`) to version 2:
 * done on a writable open, refused on a read-only one, and correct at every point of the fill,
 * including one cut short and resumed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { WrongDatabaseError } from '../../src/storage/errors';
import type { EventCountKey, EventPageQuery, EventQuery, LedgerStorage, StoredEvent } from '../../src/storage/port';
import { SCHEMA_VERSION } from '../../src/storage/sqlite/schema';
import { FILL_SQL, fillGroupActions, GroupActionFill, upgradeSchema } from '../../src/storage/sqlite/schemaUpgrade';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { makeEvent, referenceCounts, referencePage } from './contract';

const root = mkdtempSync(path.join(os.tmpdir(), 'audit-ledger-sqlite-upgrade-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let folders = 0;
const freshFile = (): string => path.join(root, `db-${++folders}`, 'ledger.db');

const SIZE = 1500;
const ACTIONS = ['user.login', 'user.logout', 'doc.read', 'doc.write', 'user.role.grant'];
const events: StoredEvent[] = Array.from({ length: SIZE }, (_, i) =>
  makeEvent(i, {
    action: ACTIONS[i % ACTIONS.length]!,
    actor: { id: `u${i % 13}`, type: 'USER' },
    outcome: i % 7 === 0 ? 'FAILURE' : 'SUCCESS',
    groups: [`g${i % 4}`, ...(i % 3 === 0 ? [`g${(i + 1) % 4}`] : [])].sort(),
    recordedAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
  }),
);
const at = (i: number): Date => events[i]!.recordedAt;

const queries: readonly EventQuery[] = [
  { groupIds: ['g2'], action: 'doc.read' },
  { groupIds: ['g2'], action: 'doc.read', from: at(300), to: at(1200) },
  { groupIds: ['g1', 'g3'], action: 'user.logout' },
  { groupIds: ['g0'], actionPrefix: 'user.' },
  { groupIds: ['g0', 'g1'], actionPrefix: 'doc.', outcome: 'SUCCESS' },
  { groupIds: ['g3'] },
];

/** Every page and count of `queries` is the reference's. */
async function expectRightAnswers(storage: LedgerStorage): Promise<void> {
  for (const q of queries) {
    for (const newestFirst of [true, false]) {
      const page: EventPageQuery = { ...q, treeSize: SIZE, limit: 40, newestFirst };
      expect({ q, newestFirst, page: (await storage.events.page(page)).map((e) => e.leafIndex) }).toEqual({
        q,
        newestFirst,
        page: referencePage(events, page).map((e) => e.leafIndex),
      });
    }
    for (const key of ['groups', 'outcome'] satisfies EventCountKey[]) {
      expect({ q, key, counts: await storage.events.countBy(key, q, SIZE) }).toEqual({ q, key, counts: referenceCounts(events, key, q, SIZE) });
    }
  }
}

/** A ledger file holding `events`, brought back to schema version 1 (event_groups as that release made it). */
async function versionOneLedger(): Promise<string> {
  const file = freshFile();
  const storage = await openSqliteStorage({ file, create: true });
  for (let i = 0; i < SIZE; i += 500) await storage.events.append(events.slice(i, i + 500));
  await storage.close();
  const db = new Database(file);
  db.exec(`
    CREATE TABLE event_groups_v1 (group_id TEXT NOT NULL, leaf_index INTEGER NOT NULL, PRIMARY KEY (group_id, leaf_index)) WITHOUT ROWID;
    INSERT INTO event_groups_v1 SELECT group_id, leaf_index FROM event_groups;
    DROP TABLE event_groups;
    ALTER TABLE event_groups_v1 RENAME TO event_groups;
    UPDATE meta SET value = '1' WHERE key = 'schema_version';
  `);
  db.close();
  return file;
}

interface Inspection {
  readonly version: string;
  readonly fillCursor: string | undefined;
  readonly rows: number;
  readonly unfilled: number;
  readonly wrong: number;
}

function inspect(file: string): Inspection {
  const db = new Database(file, { readonly: true });
  try {
    const meta = (key: string): string | undefined => db.prepare<[string], string>('SELECT value FROM meta WHERE key = ?').pluck().get(key);
    const count = (sql: string): number => db.prepare<[], number>(sql).pluck().get()!;
    return {
      version: meta('schema_version')!,
      fillCursor: meta('fill_group_actions'),
      rows: count('SELECT count(*) FROM event_groups'),
      unfilled: count('SELECT count(*) FROM event_groups WHERE action IS NULL'),
      wrong: count('SELECT count(*) FROM event_groups g JOIN events e ON e.leaf_index = g.leaf_index WHERE g.action IS NOT e.action'),
    };
  } finally {
    db.close();
  }
}

function versionOf(file: string): string | undefined {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare<[], string>("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get();
  } finally {
    db.close();
  }
}

const groupRows = events.reduce((n, e) => n + new Set(e.groups).size, 0);

function captureLogger(): { lines: string[]; info(obj: object, msg?: string): void } {
  const lines: string[] = [];
  return { lines, info: (_obj, msg) => lines.push(String(msg)) };
}

describe('sqlite schema upgrade 1 → 2 (event_groups.action)', () => {
  it('writes the action of every group row on a new ledger', async () => {
    const file = freshFile();
    const storage = await openSqliteStorage({ file, create: true });
    try {
      for (let i = 0; i < SIZE; i += 500) await storage.events.append(events.slice(i, i + 500));
      expect(inspect(file)).toEqual({ version: String(SCHEMA_VERSION), fillCursor: undefined, rows: groupRows, unfilled: 0, wrong: 0 });
      await expectRightAnswers(storage);
    } finally {
      await storage.close();
    }
  });

  it('upgrades a version 1 file opened for writing: the column added, every row filled from its event, logged', async () => {
    for (const create of [false, true]) {
      const file = await versionOneLedger();
      expect(versionOf(file)).toBe('1');
      const logger = captureLogger();
      const storage = await openSqliteStorage({ file, create, logger });
      try {
        expect(inspect(file)).toEqual({ version: '2', fillCursor: undefined, rows: groupRows, unfilled: 0, wrong: 0 });
        expect(logger.lines).toEqual(
          expect.arrayContaining([
            'SQLite ledger schema upgraded: event_groups.action added',
            'filling event_groups.action from the stored events (schema upgrade)',
            'event_groups.action filled',
          ]),
        );
        await expectRightAnswers(storage);
        // Appends after the upgrade carry their action.
        const next = makeEvent(SIZE, { action: 'doc.read', groups: ['g2'], recordedAt: new Date(at(SIZE - 1).getTime() + 1000) });
        await storage.events.append([next]);
        expect(inspect(file)).toMatchObject({ unfilled: 0, wrong: 0 });
      } finally {
        await storage.close();
      }
      // Opened again, nothing is left to do.
      const again = captureLogger();
      await (await openSqliteStorage({ file, create: false, logger: again })).close();
      expect(again.lines.filter((l) => l.includes('event_groups.action'))).toEqual([]);
    }
  });

  it('refuses a version 1 file opened read-only, saying how to upgrade it, and changes nothing', async () => {
    const file = await versionOneLedger();
    const err = await openSqliteStorage({ file, create: false, readonly: true }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WrongDatabaseError);
    expect((err as Error).message).toMatch(/schema version 1, older than this release's \(2\), and is open read-only: start the server on it once/);
    expect(versionOf(file)).toBe('1');
  });

  it('answers right with the fill not begun or cut short, and finishes it on the next writable open', async () => {
    const file = await versionOneLedger();
    const db = new Database(file);
    upgradeSchema(db, 1);
    expect(inspect(file)).toEqual({ version: '2', fillCursor: JSON.stringify({ next: 0, end: SIZE }), rows: groupRows, unfilled: groupRows, wrong: groupRows });
    // Not begun: every group row is NULL, and the events decide.
    const reader = await openSqliteStorage({ file, create: false, readonly: true });
    try {
      await expectRightAnswers(reader);
      // Cut short after the first 600 leaves (as a kill between two fill transactions leaves it).
      db.prepare(FILL_SQL).run(0, 600);
      db.prepare("UPDATE meta SET value = ? WHERE key = 'fill_group_actions'").run(JSON.stringify({ next: 600, end: SIZE }));
      const cut = inspect(file);
      expect(cut.unfilled).toBeGreaterThan(0);
      expect(cut.unfilled).toBeLessThan(groupRows);
      expect(cut.wrong).toBe(cut.unfilled);
      await expectRightAnswers(reader);
    } finally {
      await reader.close();
      db.close();
    }
    const writer = await openSqliteStorage({ file, create: false });
    try {
      expect(inspect(file)).toEqual({ version: '2', fillCursor: undefined, rows: groupRows, unfilled: 0, wrong: 0 });
      await expectRightAnswers(writer);
    } finally {
      await writer.close();
    }
  });

  it('fills in bounded transactions, each advancing the cursor, and never scans event_groups', async () => {
    const file = await versionOneLedger();
    const db = new Database(file);
    try {
      upgradeSchema(db, 1);
      const plan = db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${FILL_SQL}`)
        .all(0, 100)
        .map((r) => r.detail);
      expect(plan).toContainEqual(expect.stringMatching(/^SEARCH g USING PRIMARY KEY \(group_id=\? AND leaf_index=\?\)$/));
      expect(plan.filter((line) => /^SCAN (g|e|event_groups|events)\b/.test(line))).toEqual([]);

      const fill = new GroupActionFill(db, 400);
      const filledBelow = (leaf: number): { below: number; above: number } => ({
        below: db.prepare<[number], number>('SELECT count(*) FROM event_groups WHERE leaf_index < ? AND action IS NULL').pluck().get(leaf)!,
        above: db.prepare<[number], number>('SELECT count(*) FROM event_groups WHERE leaf_index >= ? AND action IS NOT NULL').pluck().get(leaf)!,
      });
      for (const next of [400, 800, 1200]) {
        expect(fill.step()).toEqual({ next, end: SIZE });
        expect(fill.cursor()).toEqual({ next, end: SIZE });
        expect(filledBelow(next)).toEqual({ below: 0, above: 0 });
      }
      expect(fill.step()).toBeUndefined();
      expect(fill.cursor()).toBeUndefined();
      expect(inspect(file)).toEqual({ version: '2', fillCursor: undefined, rows: groupRows, unfilled: 0, wrong: 0 });
      // Done: another fill has nothing to do.
      const logger = captureLogger();
      fillGroupActions(db, logger);
      expect(logger.lines).toEqual([]);
    } finally {
      db.close();
    }
  });
});
