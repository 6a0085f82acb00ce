/**
 * verify-db against a real log on each storage adapter: events recorded through the server
 * process, then the database tampered with in each way an operator could, and the CLI run
 * as a child process. Every case works on its own copy of the recorded database.
 */
import Database from 'better-sqlite3';
import { sqliteFile } from '../../src/storage/open';
import { gqlOk } from '../support/graphqlClient';
import { describeEachAdapter } from '../support/adapters';
import { bootstrapKeys, type LedgerEnv, ledgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import { copyLedger, type LedgerTamper, tamperWith } from '../support/storageTamper';

function input(i: number): Record<string, unknown> {
  return { action: 'document.update', actor: { id: `user-${i % 7}`, type: 'USER' }, target: { type: 'doc', id: `d${i}` }, metadata: { n: i } };
}

describeEachAdapter('verify-db', (adapter) => {
  let ledger: LedgerEnv;
  let size: number;
  const open: LedgerTamper[] = [];

  beforeAll(async () => {
    ledger = await ledgerEnv('vdb', {}, adapter);
    const server = await startLedger(ledger.env);
    try {
      const keys = await bootstrapKeys(server.url, ledger.env);
      // 300 leaves: one full level-0 tile, so that a level-1 tile entry (leaves 0-255) exists too.
      const batch = Array.from({ length: 300 }, (_, i) => input(i));
      await gqlOk(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: batch }, keys.appender);
      for (let i = 300; i < 303; i++) {
        await gqlOk(server.url, 'mutation($i: EventInput!) { recordEvent(input: $i) { leafIndex } }', { i: input(i) }, keys.appender);
      }
      size = 303;
    } finally {
      await server.stop();
    }
  });

  afterAll(async () => {
    for (const t of open) await t.close();
    await ledger.dispose();
  });

  /** A private copy of the recorded ledger to tamper with, and verify-db on it. */
  async function copy(): Promise<{ tamper: LedgerTamper; env: NodeJS.ProcessEnv; verifyDb(args?: string[]): ReturnType<typeof runCli> }> {
    const env = await copyLedger(adapter, ledger.env);
    const tamper = await tamperWith(adapter, env);
    open.push(tamper);
    return {
      tamper,
      env,
      async verifyDb(args: string[] = []) {
        await tamper.close();
        return runCli(['verify-db', ...args], env);
      },
    };
  }

  function affected(stdout: string): string | undefined {
    return /affected leaf indices: (.*)/.exec(stdout)?.[1];
  }

  it('passes an untouched database, naming the database it checked', async () => {
    const { verifyDb } = await copy();
    const res = await verifyDb(['--progress']);
    expect(res.stdout).toContain('INTACT');
    expect(res.stderr).toContain(`verify-db [`);
    expect(res.stderr).toContain(`database: ${adapter}`);
    expect(res.stdout).toContain(`${size} recomputed`);
    expect(res.code).toBe(0);
  });

  it('names an event whose field was edited', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.setActorId(7, 'someone-else');
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('7');
    expect(res.stdout).toContain('leaf 7: the event document is inconsistent: its fields do not match its stored leaf text');
  });

  it('names an event edited together with its leaf and leaf hash', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.rewriteEvent(9, (f) => ({ ...f, outcome: 'DENIED' }));
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('9');
    expect(res.stdout).toContain('leaf 9: the event does not match the stored leaf hash (tile 0/0 entry 9)');
  });

  it('names deleted events, in the middle and at the end', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.deleteEvents([12, 13, size - 1]);
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe(`12-13, ${size - 1}`);
    expect(res.stdout).toContain('leaf 12: missing from the events collection');
  });

  it('names every leaf displaced by an inserted event', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.insertForgedAt(295);
    const res = await verifyDb();
    expect(res.code).toBe(1);
    // Leaves 295..302 now hold other events than the signed tree; leaf 303 is beyond the last checkpoint.
    expect(affected(res.stdout)).toBe(`295-${size - 1}`);
    expect(res.stdout).toContain('1 after the latest checkpoint');
  });

  it('gives the same verdict whichever threads read, however the walk is cut into ranges', async () => {
    const { tamper, env, verifyDb } = await copy();
    await tamper.deleteEvents([12, 13]);
    await tamper.swapEvents(40, 41);
    await tamper.setActorId(100, 'someone-else');
    await tamper.insertForgedAt(295);
    const verdict = (stdout: string): string => stdout.replace(/^ {2}time .*$/m, '');
    const one = await verifyDb(['--workers', '0']);
    expect(one.code).toBe(1);
    expect(affected(one.stdout)).toBe(`12-13, 40-41, 100, 295-${size - 1}`);
    for (const args of [['--workers', '2', '--batch-size', '7'], ['--workers', '1', '--batch-size', '256'], ['--workers', '3', '--batch-size', '1']]) {
      const res = await runCli(['verify-db', ...args], env);
      expect([args.join(' '), res.code, verdict(res.stdout)]).toEqual([args.join(' '), 1, verdict(one.stdout)]);
    }
  });

  // The range workers first check each event from its raw column values and read the record
  // again only when those are not exactly what the ledger writes: a column edited in ways
  // that path does not take must get the record check's verdict, on every thread.
  if (adapter === 'sqlite') {
    it('judges raw column edits the same whichever threads read (SQLite)', async () => {
      const { env, verifyDb } = await copy();
      const db = new Database(sqliteFile(String(env.LEDGER_DATA_DIR)));
      try {
        const groups = (db.prepare('SELECT groups FROM events WHERE leaf_index = 20').pluck().get() as string).replace(/,/g, ', ');
        // The same group ids in other JSON spacing: the same fields, so not a finding.
        db.prepare('UPDATE events SET groups = ? WHERE leaf_index = 20').run(` ${groups} `);
        db.prepare("UPDATE events SET leaf_hash = lower(hex(leaf_hash)) WHERE leaf_index = 21").run();
        db.prepare("UPDATE events SET leaf_hash = leaf_hash || x'00' WHERE leaf_index = 22").run();
        db.prepare(`UPDATE events SET groups = '["someone-else"]' WHERE leaf_index = 23`).run();
        db.prepare('UPDATE events SET recorded_at = recorded_at + 0.5 WHERE leaf_index = 25').run();
        db.prepare("UPDATE events SET metadata = ' {\"n\": 26} ' WHERE leaf_index = 26").run();
      } finally {
        db.close();
      }
      const verdict = (stdout: string): string => stdout.replace(/^ {2}time .*$/m, '');
      const one = await verifyDb(['--workers', '0']);
      expect(one.code).toBe(1);
      expect(affected(one.stdout)).toBe('21-23, 25');
      expect(one.stdout).toContain('leaf 21: the event document is inconsistent: its stored leaf hash does not match its leaf');
      for (const args of [['--workers', '2'], ['--workers', '1', '--batch-size', '3']]) {
        const res = await runCli(['verify-db', ...args], env);
        expect([args.join(' '), res.code, verdict(res.stdout)]).toEqual([args.join(' '), 1, verdict(one.stdout)]);
      }
    });
  }

  it('names both events of a swapped pair', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.swapEvents(3, 4);
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('3-4');
  });

  it('names the leaf under an edited level-0 tile hash', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.flipTileHash(0, 1, 5);
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('261');
  });

  it('names every leaf under an edited level-1 tile hash', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.flipTileHash(1, 0, 0);
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(affected(res.stdout)).toBe('0-255');
    expect(res.stdout).toContain('stored subtree hash tile 1/0 entry 0 (height 8) differs');
  });

  it('rejects a checkpoint whose signature does not verify, and a malformed --vkey', async () => {
    const { tamper, verifyDb } = await copy();
    await tamper.corruptLatestSignature();
    const res = await verifyDb();
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('signature INVALID');
    const bad = await verifyDb(['--vkey', 'not-a-key']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--vkey is not a verifier key');
  });
});
