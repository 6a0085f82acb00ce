/**
 * Our tlog-tiles API read by code we did not write: `tilecheck` (test/interop/tiles, a small
 * Go program over golang.org/x/mod's sumdb/note and sumdb/tlog, built through the Go module
 * proxy) verifies the served checkpoint, reads the tree through `tlog.TileHashReader` (which
 * authenticates every tile against the signed root), recomputes the root, proves and checks
 * records and the consistency of an older checkpoint, and checks entry bundles against the
 * leaf hashes. Run at several sizes (a few leaves, 256·k + r, exactly 256·k, and past 65,536,
 * where level-2 tiles appear), then against answers altered in flight and a tampered tile in
 * storage, which it must refuse.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { buildGoTool, describeWithGo } from '../support/goTools';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { tamperWith } from '../support/storageTamper';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Events per recordEvents call (the server's limit is 10,000). */
const BATCH = 10_000;

function runTool(binary: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(binary, args, { timeout: 300_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** An HTTP proxy in front of the server that may alter what it answers. */
async function alteringProxy(upstream: string, alter: (path: string, body: Buffer) => Buffer): Promise<{ url: string; close(): Promise<void> }> {
  const proxy = http.createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string> = {};
      if (req.headers.authorization) headers.authorization = req.headers.authorization;
      const answer = await fetch(`${upstream}${req.url ?? '/'}`, { headers });
      const body = alter(req.url ?? '/', Buffer.from(await answer.arrayBuffer()));
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' }).end(body);
    })().catch(() => res.writeHead(502).end());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

describeWithGo('Go sumdb/tlog reads and verifies our tiles (tilecheck)', () => {
  let tilecheck: string;
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let recorded = 0;
  /** Checkpoints saved along the way, by size. */
  const saved = new Map<number, string>();

  const record = async (count: number): Promise<void> => {
    for (let left = count; left > 0; left -= BATCH) {
      const n = Math.min(BATCH, left);
      const inputs = Array.from({ length: n }, (_, i) => ({ action: 'doc.read', actor: { id: `u-${(recorded + i) % 13}`, type: 'USER' }, target: { type: 'doc', id: `d-${recorded + i}` } }));
      await gqlOk(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: inputs }, keys.appender);
      recorded += n;
    }
  };
  const size = async (): Promise<number> => (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }')).checkpoint.treeSize;
  /** Saves the served checkpoint to a file; answers the file. */
  const saveCheckpoint = async (): Promise<{ file: string; size: number }> => {
    const text = await (await fetch(`${server.url}/checkpoint`)).text();
    const treeSize = Number(text.split('\n')[1]);
    const file = path.join(le.dataDir, `checkpoint-${treeSize}.txt`);
    await writeFile(file, text);
    saved.set(treeSize, file);
    return { file, size: treeSize };
  };
  const check = (url: string, ...extra: string[]): Promise<Run> => runTool(tilecheck, ['-url', url, '-vkey', vkey, ...extra]);
  const expectOk = (run: Run): void => {
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/\nok\n$/);
  };

  beforeAll(async () => {
    tilecheck = await buildGoTool('tiles', '.', 'tilecheck');
    le = await ledgerEnv('tilecheck', {}, 'sqlite');
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    vkey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
  }, 600_000);

  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('verifies a log of a few leaves', async () => {
    await record(5);
    const { size: n } = await saveCheckpoint();
    expect(n).toBeGreaterThanOrEqual(5);
    const run = await check(server.url, '-token', keys.auditor);
    expectOk(run);
    expect(run.stdout).toContain(`size ${n}`);
    expect(run.stdout).toContain('1 entry bundles match');
  });

  it('verifies a log of 256·k + r leaves, every leaf of a tile edge, and its consistency with the earlier checkpoint', async () => {
    const [firstSize, old] = [...saved.entries()][0]!;
    await record(700);
    const { size: n } = await saveCheckpoint();
    expect(n % 256).not.toBe(0);
    const run = await check(server.url, '-old', old, '-token', keys.auditor, '-leaves', `0,255,256,511,512,${n - 1}`);
    expectOk(run);
    expect(run.stdout).toContain(`consistency from size ${firstSize} to ${n}`);
    expect(run.stdout).toContain('3 entry bundles match');
  });

  it('verifies a log of exactly 256·k leaves', async () => {
    await record(1024 - (await size()));
    const { size: n } = await saveCheckpoint();
    expect(n).toBe(1024);
    const previous = [...saved.entries()].find(([s]) => s !== n && s > 256)![1];
    expectOk(await check(server.url, '-old', previous, '-token', keys.auditor, '-leaves', '0,767,768,1023'));
  });

  it('verifies a log past 65,536 leaves (level-2 tiles), from a checkpoint of 1,024', async () => {
    await record(256 * 256 + 3 - (await size()));
    const { size: n } = await saveCheckpoint();
    expect(n).toBe(65_539);
    const run = await check(server.url, '-old', saved.get(1024)!, '-token', keys.auditor, '-leaves', '0,1023,1024,65535,65536,65538');
    expectOk(run);
    expect(run.stdout).toContain('consistency from size 1024 to 65539');
  }, 600_000);

  it('refuses a tile altered in flight', async () => {
    const proxy = await alteringProxy(server.url, (url, body) => {
      if (url.startsWith('/tile/0/000')) body[100]! ^= 1;
      return body;
    });
    try {
      const run = await check(proxy.url);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tilecheck: FAIL: .*downloaded inconsistent tile/m);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a checkpoint altered in flight', async () => {
    const proxy = await alteringProxy(server.url, (url, body) => (url === '/checkpoint' ? Buffer.from(body.toString('utf8').replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) - 1}\n`)) : body));
    try {
      const run = await check(proxy.url);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tilecheck: FAIL: the served checkpoint: the signature does not verify/m);
    } finally {
      await proxy.close();
    }
  });

  it('refuses an entry bundle altered in flight', async () => {
    const proxy = await alteringProxy(server.url, (url, body) => {
      if (url.startsWith('/tile/entries/000')) body[10]! ^= 1;
      return body;
    });
    try {
      const run = await check(proxy.url, '-token', keys.auditor, '-leaves', '3');
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/^tilecheck: FAIL: tile\/entries\/000(\.p\/\d+)?: entry 0 does not hash to leaf 0's hash/m);
    } finally {
      await proxy.close();
    }
  });

  it('refuses a log whose stored tile was tampered with', async () => {
    const tamper = await tamperWith('sqlite', le.env);
    try {
      await tamper.flipTileHash(0, 0, 2);
    } finally {
      await tamper.close();
    }
    const run = await check(server.url);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^tilecheck: FAIL: .*downloaded inconsistent tile/m);
  });
});
