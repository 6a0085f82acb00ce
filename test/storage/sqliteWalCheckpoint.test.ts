/**
 * The write-ahead log is copied into the database file by the background worker, beside the
 * append worker, so that the writer's own automatic checkpoint finds little left to copy: the
 * append runner reports what each append committed, and the checkpointer asks for a
 * checkpoint once enough has been, one at a time; one that fails costs nothing but speed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LedgerError } from '../../src/errors';
import type { AppendPart, LedgerStorage } from '../../src/storage/port';
import { WorkerAppendRunner } from '../../src/storage/sqlite/appendRunner';
import { openSqliteStorage } from '../../src/storage/sqlite/sqliteStorage';
import { BackgroundWorker } from '../../src/storage/sqlite/backgroundClient';
import { WalCheckpointer } from '../../src/storage/sqlite/walCheckpointer';
import { makeEvent } from './contract';

describe('background WAL checkpoints (SQLite)', () => {
  let dir: string;
  let file: string;
  let storage: LedgerStorage;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-wal-checkpoint-'));
    file = path.join(dir, 'ledger.db');
    storage = await openSqliteStorage({ file, create: true, appendInWorker: true });
  });
  afterAll(async () => {
    await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the append runner reports the events each append committed, whole or in parts, and nothing for a failed one', async () => {
    const committed: number[] = [];
    const runner = new WorkerAppendRunner(file, (n) => committed.push(n));
    try {
      await runner.append([makeEvent(0), makeEvent(1)], undefined);
      const part = (from: number, n: number): AppendPart => ({ events: Array.from({ length: n }, (_, i) => makeEvent(from + i)) });
      await runner.appendParts([part(2, 3), part(5, 4)]);
      await expect(runner.append([makeEvent(3)], undefined)).rejects.toThrow();
      expect(committed).toEqual([2, 7]);
    } finally {
      await runner.close();
    }
  });

  it("the worker threads report how long they were busy (the server's utilisation metric), and keep it once stopped", async () => {
    const runner = new WorkerAppendRunner(file);
    expect(runner.busySeconds()).toBe(0); // started on first use
    const from = await storage.events.estimatedCount();
    await runner.append(Array.from({ length: 300 }, (_, i) => makeEvent(from + i, { groups: [`g${i % 5}`] })), undefined);
    const busy = runner.busySeconds();
    expect(busy).toBeGreaterThan(0);
    await runner.close();
    expect(runner.busySeconds()).toBeGreaterThanOrEqual(busy);
    // The server storage names its threads.
    expect(storage.threadActivity?.().map((t) => t.thread)).toEqual(['append', 'background']);
  });

  it('checkpoints once enough events were committed, copying the whole log into the database file', async () => {
    const background = new BackgroundWorker(file);
    const checkpointer = new WalCheckpointer(background, 100);
    try {
      const from = await storage.events.estimatedCount();
      await storage.events.append(Array.from({ length: 60 }, (_, i) => makeEvent(from + i, { groups: [`g${i % 7}`] })));
      checkpointer.appended(60);
      await checkpointer.idle();
      expect(checkpointer.stats.completed).toBe(0);
      await storage.events.append(Array.from({ length: 60 }, (_, i) => makeEvent(from + 60 + i)));
      checkpointer.appended(60);
      await checkpointer.idle();
      const { completed, last, lastFailure } = checkpointer.stats;
      expect(lastFailure).toBeUndefined();
      expect(completed).toBe(1);
      expect(last!.logFrames).toBeGreaterThan(0);
      expect(last!.checkpointedFrames).toBe(last!.logFrames);
      // What it copied is the database: a fresh connection reads every event.
      const db = new Database(file, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) FROM events WHERE leaf_index >= ?').pluck().get(from)).toBe(120);
      } finally {
        db.close();
      }
      // Counts share the thread: a count and a checkpoint sent together are both answered.
      const [rows, again] = await Promise.all([background.count('SELECT count(*) AS key, 1 AS n FROM events WHERE leaf_index >= ?', [from]), background.checkpoint()]);
      expect(rows).toEqual([{ key: 120, n: 1 }]);
      expect(again.checkpointedFrames).toBe(again.logFrames);
    } finally {
      await checkpointer.idle();
      await background.close();
    }
  });

  it('a checkpoint that cannot run is remembered, and neither throws nor stops the next', async () => {
    const nowhere = new BackgroundWorker(path.join(dir, 'no-such.db'));
    const missing = new WalCheckpointer(nowhere, 1);
    try {
      missing.appended(5);
      await missing.idle();
      expect(missing.stats.completed).toBe(0);
      // In the port's terms, as the statement would have failed on this thread.
      expect(missing.stats.lastFailure).toBeInstanceOf(LedgerError);
      expect((missing.stats.lastFailure as LedgerError).code).toBe('UNAVAILABLE');
      expect(missing.stats.lastFailure?.message).toMatch(/unable to open|no such|cannot open/i);
      missing.appended(5);
      await missing.idle();
      expect(missing.stats.lastFailure).toBeDefined();
    } finally {
      await missing.idle();
      await nowhere.close();
    }
    // Its worker closed, it asks for nothing more.
    missing.appended(50);
    await missing.idle();
    expect(missing.stats.completed).toBe(0);
  });

  it('the server storage commits and reads as before with the checkpointer beside it', async () => {
    const from = await storage.events.estimatedCount();
    for (let b = 0; b < 6; b++) {
      await storage.events.append(Array.from({ length: 200 }, (_, i) => makeEvent(from + b * 200 + i, { groups: [`g${i % 11}`] })));
    }
    expect((await storage.events.range(from, from + 1200)).map((e) => e.leafIndex)).toEqual(Array.from({ length: 1200 }, (_, i) => from + i));
  });
});
