/**
 * A real ledger server process on either storage adapter, in its own data folder (and, on
 * MongoDB, its own database), with an ADMIN key (from the bootstrap-admin CLI) and APPENDER,
 * AUDITOR and READER keys.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Role } from '../../src/auth/role';
import { loadConfig } from '../../src/config';
import { Directory } from '../../src/directory/directory';
import { openStorage } from '../../src/storage/open';
import type { LedgerStorage } from '../../src/storage/port';
import type { AdapterName } from './adapters';
import { type ServerProcess, startServerProcess, waitHealthy } from './serverProcess';
import { engineUri } from './testDatabase';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'audit-ledger.js');
const run = promisify(execFile);

export interface LedgerEnv {
  readonly adapter: AdapterName;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  dispose(): Promise<void>;
}

/**
 * `LEDGER_RECORD_READS` defaults to off here: suites that assert exact log sizes around their
 * own reads (audit, verify-db) would otherwise see each read grow the log. Suites about the
 * ledger recording itself turn it on.
 */
export async function ledgerEnv(prefix: string, overrides: NodeJS.ProcessEnv = {}, adapter: AdapterName = 'sqlite'): Promise<LedgerEnv> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `audit-ledger-${prefix}-`));
  const env = {
    // Empty, not absent: the run's own MONGODB_URI (the test engine) must not leak into a sqlite server.
    MONGODB_URI: adapter === 'mongodb' ? engineUri() : '',
    LEDGER_DB_NAME: `${prefix}_${randomBytes(4).toString('hex')}`,
    LEDGER_DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    LEDGER_RECORD_READS: 'false',
    // The suites audit whole logs without a key (a proof request per checkpoint seen), far
    // faster than any one real auditor; the hostile suite tests the default limits.
    LEDGER_RATE_LIMIT_ANONYMOUS: '5000/10000',
    ...overrides,
  };
  return { adapter, env, dataDir, dispose: () => rm(dataDir, { recursive: true, force: true }) };
}

/** The storage a ledger env names, opened from the test process (beside a running server). */
export function openEnvStorage(env: NodeJS.ProcessEnv): Promise<LedgerStorage> {
  return openStorage(loadConfig({ ...env }), { create: false });
}

export async function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? '', stderr: e.stderr ?? '', code: e.code ?? 1 };
  }
}

export async function startLedger(env: NodeJS.ProcessEnv): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  await waitHealthy(server.url);
  return server;
}

export interface Keys {
  readonly admin: string;
  readonly appender: string;
  readonly auditor: string;
  readonly reader: string;
}

/**
 * The ADMIN key comes from the bootstrap-admin CLI; the others are written straight to the
 * database through the directory service (each with a SERVICE user of its name, as
 * createApiKey makes), so that the log starts empty: suites that count leaves need not count
 * key creations.
 */
export async function bootstrapKeys(_url: string, env: NodeJS.ProcessEnv): Promise<Keys> {
  const boot = await runCli(['bootstrap-admin', '--name', 'root'], env);
  if (boot.code !== 0) throw new Error(`bootstrap-admin failed: ${boot.stderr}`);
  const admin = boot.stdout.trim().split('\n').at(-1)!;
  const storage = await openEnvStorage(env);
  try {
    const directory = new Directory(storage);
    const create = async (name: string, roles: Role[]): Promise<string> =>
      (await directory.createApiKey({ name, roles, createdBy: 'bootstrap-admin' })).token;
    return {
      admin,
      appender: await create('svc', ['APPENDER']),
      auditor: await create('auditor', ['AUDITOR']),
      reader: await create('reader', ['READER']),
    };
  } finally {
    await storage.close();
  }
}
