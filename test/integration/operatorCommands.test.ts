/**
 * Operator commands cannot be pointed at the wrong database by accident: each prints the
 * database it uses, refuses one that holds no ledger unless told to create it, and
 * `verify-db --vkey` on a log without events is an error, not "INTACT".
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '../../src/checkpoint/signer';
import { describeEachAdapter } from '../support/adapters';
import { ledgerEnv, runCli } from '../support/ledgerFixture';

describe('operator commands on the wrong database', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-ops-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('bootstrap-admin names the database, refuses an empty data folder, and creates one only with --create', async () => {
    const env = { MONGODB_URI: '', LEDGER_DATA_DIR: path.join(dir, 'fresh') };
    const refused = await runCli(['bootstrap-admin', '--name', 'root'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`database: sqlite ${path.join(dir, 'fresh', 'ledger.db')}`);
    expect(refused.stderr).toContain('holds no audit-ledger database');
    expect(refused.stderr).toContain('--create');
    const created = await runCli(['bootstrap-admin', '--name', 'root', '--create'], env);
    expect(created.code).toBe(0);
    expect(created.stdout.trim()).toMatch(/^alk_/);
  });

  it('verify-db refuses a data folder without a ledger, and calls a ledger without events EMPTY under --vkey', async () => {
    const vkey = generateSignerKey('ops.example/log').verifierKey;
    const none = await runCli(['verify-db', '--vkey', vkey], { MONGODB_URI: '', LEDGER_DATA_DIR: path.join(dir, 'nothing-here') });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('database: sqlite');
    expect(none.stderr).toContain('holds no audit-ledger database');
    // A ledger database with no log in it yet (created by bootstrap-admin --create, never served).
    const empty = await runCli(['verify-db', '--vkey', vkey], { MONGODB_URI: '', LEDGER_DATA_DIR: path.join(dir, 'fresh') });
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('EMPTY');
    expect(empty.stdout).not.toContain('INTACT\n');
  });
});

describeEachAdapter(
  'operator commands on a MongoDB database without a ledger',
  (adapter) => {
    it('verify-db and bootstrap-admin name the database without credentials and refuse it', async () => {
      const le = await ledgerEnv('ops', {}, adapter);
      try {
        for (const args of [['verify-db', '--vkey', generateSignerKey('ops.example/log').verifierKey], ['bootstrap-admin', '--name', 'root']]) {
          const res = await runCli(args, le.env);
          expect(res.code).toBe(1);
          expect(res.stderr).toContain(`database: mongodb mongodb://`);
          expect(res.stderr).toContain(`${String(le.env.LEDGER_DB_NAME)}`);
        }
      } finally {
        await le.dispose();
      }
    });
  },
  ['mongodb'],
);
