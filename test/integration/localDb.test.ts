import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { freeLoopbackPort } from '../../src/storage/mongodb/engine/embeddedEngine';
import { EngineUnavailableError, ensureFerretdbBinary } from '../../src/storage/mongodb/engine/ferretdbBinary';

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'audit-ledger.js');

describe('npx audit-ledger local-db', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-localdb-'));
  });
  afterAll(async () => rm(dataDir, { recursive: true, force: true }));

  it('prints a mongodb:// URI that the driver can ping, and stops on SIGINT with exit 0', async () => {
    const port = await freeLoopbackPort();
    const child = spawn(process.execPath, [BIN, 'local-db', '--data-dir', dataDir, '--port', String(port)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const uri = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk;
        const line = out.split('\n').find((l) => l.startsWith('mongodb://'));
        if (line) resolve(line.trim());
      });
      void exited.then((code) => reject(new Error(`local-db exited early with ${code}`)));
    });
    expect(uri).toBe(`mongodb://127.0.0.1:${port}/`);
    const client = new MongoClient(uri);
    try {
      expect(await client.db('admin').command({ ping: 1 })).toMatchObject({ ok: 1 });
    } finally {
      await client.close();
    }
    // A second engine on the same files is refused, naming the one that serves them.
    const second = spawn(process.execPath, [BIN, 'local-db', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    second.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    expect(await new Promise<number | null>((resolve) => second.once('exit', (c) => resolve(c)))).toBe(1);
    expect(err).toContain(`an engine already serves ${path.join(dataDir, 'db')} at ${uri}`);
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });

  it('rejects a bad --port with a usage error (exit 2)', async () => {
    const child = spawn(process.execPath, [BIN, 'local-db', '--port', 'eighty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(2);
    expect(err).toContain('expected a port number');
  });

  it('says exactly what to install or set when there is no binary, no MONGODB_URI and no Go', async () => {
    const emptyCache = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-nocache-'));
    try {
      const failure = ensureFerretdbBinary({ cacheDir: emptyCache, env: { PATH: '' }, goFallbackDirs: [] });
      await expect(failure).rejects.toBeInstanceOf(EngineUnavailableError);
      await expect(failure).rejects.toThrow(/set MONGODB_URI.*install Go/s);
    } finally {
      await rm(emptyCache, { recursive: true, force: true });
    }
  });
});
