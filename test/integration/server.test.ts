import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeEachAdapter } from '../support/adapters';
import { startServerProcess, waitHealthy } from '../support/serverProcess';
import { engineUri } from '../support/testDatabase';

describe('the server process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-server-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  describeEachAdapter(
    'on a configured MongoDB',
    () => {
      it('serves /healthz and GraphQL, and shuts down cleanly on SIGTERM', async () => {
        const server = await startServerProcess({ MONGODB_URI: engineUri(), LEDGER_DB_NAME: `srv_${process.pid}`, LEDGER_DATA_DIR: dataDir });
        try {
          await waitHealthy(server.url);
          const res = await fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ query: '{ serverInfo { name version } }' }),
          });
          expect(res.status).toBe(200);
          expect(await res.json()).toEqual({ data: { serverInfo: { name: 'audit-ledger', version: expect.any(String) } } });
        } finally {
          expect(await server.stop('SIGTERM')).toBe(0);
        }
        expect(server.output()).toContain('"storage":"mongodb"');
        expect(server.output()).toContain('stopped');
      });
    },
    ['mongodb'],
  );

  it.each(['SIGINT', 'SIGTERM'] as const)('runs on the embedded SQLite database when MONGODB_URI is unset, with private files, and stops on %s', async (signal) => {
    const dir = path.join(dataDir, `embedded-${signal}`);
    const server = await startServerProcess({ MONGODB_URI: '', LEDGER_DATA_DIR: dir });
    try {
      await waitHealthy(server.url);
    } finally {
      expect(await server.stop(signal)).toBe(0);
    }
    expect(server.output()).toContain('"storage":"sqlite"');
    expect(server.output()).toContain(path.join(dir, 'ledger.db'));
    expect(server.output()).toContain('"msg":"stopped"');
    expect((await stat(path.join(dir, 'ledger.db'))).mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('refuses a second server on the same embedded database, naming the first', async () => {
    const dir = path.join(dataDir, 'locked');
    const first = await startServerProcess({ MONGODB_URI: '', LEDGER_DATA_DIR: dir });
    try {
      await waitHealthy(first.url);
      const second = await startServerProcess({ MONGODB_URI: '', LEDGER_DATA_DIR: dir });
      expect(await second.exited).toBe(1);
      expect(second.output()).toContain(`another audit-ledger server (pid ${first.child.pid})`);
    } finally {
      expect(await first.stop()).toBe(0);
    }
  });

  it('refuses invalid configuration with a clear message and exit code 2', async () => {
    const server = await startServerProcess({ MONGODB_URI: 'postgres://nope', LEDGER_PUBLIC_PROOFS: 'maybe' });
    const code = await server.exited;
    expect(code).toBe(2);
    expect(server.output()).toContain('MONGODB_URI must start with mongodb://');
    expect(server.output()).toContain('LEDGER_PUBLIC_PROOFS must be true or false');
  });
});
