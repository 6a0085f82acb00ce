/**
 * audit and monitor against a real server process: normal growth, inclusion checks, a
 * pinned key that does not match, bad inputs, a stale log, and a log whose history was
 * rewritten (database wiped, signing key kept, different events recorded past the old size).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '../../src/checkpoint/signer';
import { freeLoopbackPort } from '../../src/storage/mongodb/engine/embeddedEngine';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, type LedgerEnv, ledgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { tamperWith } from '../support/storageTamper';
import { sqliteFile } from '../../src/storage/open';

interface Received {
  readonly body: { kind: string; message: string; url: string; origin: string; previous: unknown; current: unknown; at: string };
}

/** A loopback webhook receiver that records every POSTed alert. */
async function webhookReceiver(): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      received.push({ body: JSON.parse(body) as Received['body'] });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, received, close: () => new Promise((r) => server.close(() => r())) };
}

describe('audit and monitor', () => {
  let ledger: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let vkey: string;
  let origin: string;
  let work: string;

  const record = async (n: number, tag: string): Promise<void> => {
    const inputs = Array.from({ length: n }, (_, i) => ({ action: `test.${tag}`, actor: { id: `u${i}`, type: 'USER' } }));
    await gqlOk(server.url, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: inputs }, keys.appender);
  };
  const audit = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['audit', '--url', server.url, '--vkey', vkey, ...args], env);
  const stateOf = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as { treeSize: number; checkpoint: string };

  beforeAll(async () => {
    ledger = await ledgerEnv('audit');
    work = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-auditor-'));
    server = await startLedger(ledger.env);
    keys = await bootstrapKeys(server.url, ledger.env);
    const info = await gqlOk<{ logInfo: { origin: string; verifierKey: string } }>(server.url, '{ logInfo { origin verifierKey } }');
    ({ origin, verifierKey: vkey } = info.logInfo);
  });

  afterAll(async () => {
    await server.stop();
    await rm(work, { recursive: true, force: true });
    await ledger.dispose();
  });

  it('follows normal growth, and verifies given leaves and every event', async () => {
    const state = path.join(work, 'growth.json');
    await record(3, 'a');
    const first = await audit(['--state', state]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('first audit: trusting checkpoint 3');
    expect((await stateOf(state)).treeSize).toBe(3);

    await record(4, 'b');
    const second = await audit(['--state', state, '--leaf', '0', '6', '--leaf', '2,3']);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('consistent: 3 → 7 (+4)');
    expect(second.stdout).toContain('4 leaf inclusion proofs verified');
    expect((await stateOf(state)).treeSize).toBe(7);

    const all = await audit(['--state', state, '--all-events'], { AUDIT_LEDGER_TOKEN: keys.auditor });
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('consistent: size 7 unchanged');
    expect(all.stdout).toContain('7 events verified');

    const beyond = await audit(['--state', state, '--leaf', '7']);
    expect(beyond.code).toBe(1);
    expect(beyond.stderr).toContain('leaf 7 is not below the log');
  });

  it('catches an event whose served fields were edited in the database (--all-events)', async () => {
    const state = path.join(work, 'edited.json');
    expect((await audit(['--state', state])).code).toBe(0);
    const before = await readFile(state, 'utf8');
    const tamper = await tamperWith('sqlite', ledger.env);
    try {
      await tamper.setActorId(1, 'mallory');
      const res = await audit(['--state', state, '--all-events', '--token', keys.auditor]);
      expect(res.code).toBe(2);
      expect(res.stdout).toContain('leaf 1: the fields served differ from its leaf text');
      expect(await readFile(state, 'utf8')).toBe(before);
    } finally {
      await tamper.setActorId(1, 'u1');
      await tamper.close();
    }
  });

  it('rejects a checkpoint that the pinned key does not sign (exit 1)', async () => {
    const other = generateSignerKey(origin).verifierKey;
    const res = await runCli(['audit', '--url', server.url, '--vkey', other, '--state', path.join(work, 'other.json')], {});
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^audit-ledger: the latest checkpoint of http:\/\/127\.0\.0\.1:\d+ is rejected: /);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('answers bad inputs with one clear line and exit 1', async () => {
    const state = path.join(work, 'bad.json');
    const unknown = await audit(['--state', state, '--bogus']);
    expect([unknown.code, unknown.stderr]).toEqual([1, "audit-ledger: audit: unknown option '--bogus'\n"]);
    const duration = await runCli(['monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--interval', '10 minutes'], {});
    expect(duration.code).toBe(1);
    expect(duration.stderr).toContain('is not a duration like 500ms, 30s, 10m or 1h');
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const unreachable = await runCli(['audit', '--url', closed, '--vkey', vkey, '--state', state], {});
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe(`audit-ledger: cannot reach ${closed}/checkpoint: ECONNREFUSED\n`);
    await writeFile(state, '{"not": "a state"}');
    const malformed = await audit(['--state', state]);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toContain('is not an audit-ledger audit state');
    const badKey = await runCli(['audit', '--url', server.url, '--vkey', 'nope', '--state', state], {});
    expect(badKey.code).toBe(1);
    expect(badKey.stderr).toContain('--vkey is not a note verifier key');
  });

  it('monitors: one line per poll, then a stale alert (exit 3)', async () => {
    const state = path.join(work, 'monitor.json');
    const polls = await runCli(['monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--interval', '100ms', '--max-polls', '2'], {});
    expect(polls.code).toBe(0);
    const lines = polls.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z size=7 root=[0-9a-f]{16} first poll$/);
    expect(lines[1]).toMatch(/ size=7 root=[0-9a-f]{16} \+0$/);

    const hook = await webhookReceiver();
    try {
      const stale = await runCli(
        ['monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--interval', '200ms', '--stale-after', '500ms', '--max-polls', '20', '--webhook', hook.url],
        {},
      );
      expect(stale.code).toBe(3);
      expect(hook.received.map((r) => r.body.kind)).toEqual(['stale']);
      expect(hook.received[0]!.body).toMatchObject({ url: server.url, origin, current: { treeSize: 7 } });
    } finally {
      await hook.close();
    }
  });

  it('catches a rewritten history: audit exits 2 with both checkpoints, monitor alerts', async () => {
    const state = path.join(work, 'rewrite.json');
    expect((await audit(['--state', state])).code).toBe(0);
    const saved = await readFile(state, 'utf8');
    const oldNote = (JSON.parse(saved) as { checkpoint: string }).checkpoint;

    // Wipe the database but keep the signing key: the same log identity, a different history.
    await server.stop();
    const file = sqliteFile(ledger.dataDir);
    for (const f of [file, `${file}-wal`, `${file}-shm`]) await rm(f, { force: true });
    server = await startLedger(ledger.env);
    keys = await bootstrapKeys(server.url, ledger.env);
    await record(9, `rewritten-${randomBytes(2).toString('hex')}`);

    const res = await audit(['--state', state]);
    expect(res.code).toBe(2);
    expect(res.stdout).toContain('INCONSISTENT: ');
    expect(res.stdout).toContain(oldNote);
    const newNote = await (await fetch(`${server.url}/checkpoint`)).text();
    expect(newNote.split('\n')[1]).toBe('9');
    expect(res.stdout).toContain(newNote);
    expect(await readFile(state, 'utf8')).toBe(saved);

    const hook = await webhookReceiver();
    try {
      const mon = await runCli(['monitor', '--url', server.url, '--vkey', vkey, '--state', state, '--interval', '100ms', '--max-polls', '3', '--webhook', hook.url], {});
      expect(mon.code).toBe(2);
      expect(mon.stdout).toContain('INCONSISTENT: ');
      expect(hook.received).toHaveLength(1);
      expect(hook.received[0]!.body).toMatchObject({
        kind: 'inconsistency',
        url: server.url,
        origin,
        previous: { treeSize: 7, note: oldNote },
        current: { treeSize: 9, note: newNote },
      });
    } finally {
      await hook.close();
    }
    expect(await readFile(state, 'utf8')).toBe(saved);
  });
});
