import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startServerProcess, waitHealthy } from '../support/serverProcess';
import { engineUri } from '../support/testDatabase';

describe('the server process', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-server-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('serves /healthz and GraphQL against a configured database, and shuts down cleanly on SIGTERM', async () => {
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
    expect(server.output()).toContain('stopped');
  });

  it.each(['SIGINT', 'SIGTERM'] as const)('starts the embedded engine itself when MONGODB_URI is unset, and stops it on %s', async (signal) => {
    const env = { MONGODB_URI: '', LEDGER_DATA_DIR: dataDir };
    const server = await startServerProcess(env);
    try {
      await waitHealthy(server.url);
    } finally {
      expect(await server.stop(signal)).toBe(0);
    }
    expect(server.output()).toContain('"embedded":true');
    expect(server.output()).toContain('"msg":"stopped"');
    // The engine the server started is gone with it.
    const enginePid = Number(/"enginePid":(\d+)/.exec(server.output())?.[1]);
    expect(enginePid).toBeGreaterThan(0);
    expect(() => process.kill(enginePid, 0)).toThrow();
  });

  it('refuses invalid configuration with a clear message and exit code 2', async () => {
    const server = await startServerProcess({ MONGODB_URI: 'postgres://nope', LEDGER_PUBLIC_PROOFS: 'maybe' });
    const code = await server.exited;
    expect(code).toBe(2);
    expect(server.output()).toContain('MONGODB_URI must start with mongodb://');
    expect(server.output()).toContain('LEDGER_PUBLIC_PROOFS must be true or false');
  });
});
