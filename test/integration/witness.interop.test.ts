/**
 * Witness cosigning against a witness we did not write: litewitness and witnessctl from
 * filippo.io/torchwood v0.6.1 (test/interop/witness/), signing through a real ssh-agent
 * (Debian openssh-client), talking C2SP tlog-witness to real server processes over HTTP.
 *
 * One witness, three logs it knows: the main log (republishing every second), a log whose
 * receipts wait for the witness, and a fork of the main log (same key and origin, another
 * history) that the witness must refuse.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { base64 } from '@scure/base';
import { generateSignerKey, parseSignerKey } from '../../src/checkpoint/signer';
import { freeLoopbackPort } from '../../src/storage/mongodb/engine/embeddedEngine';
import { verifyCheckpoint } from '../../src/verify/checkpoint';
import { formatWitnessKey, verifyCosignatures } from '../../src/verify/cosignature';
import { parseNote } from '../../src/verify/note';
import { buildGoTool, describeWithGo } from '../support/goTools';
import { errorCode, gql, gqlOk, RECEIPT_FIELDS } from '../support/graphqlClient';
import { bootstrapKeys, ledgerEnv, type LedgerEnv, runCli, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';

const run = promisify(execFile);
const WITNESS_NAME = 'witness.test/litewitness';
const RECORD = `mutation($i: EventInput!) { recordEvent(input: $i) { ${RECEIPT_FIELDS} } }`;

jest.setTimeout(240_000);

/** Polls `check` until it returns a value (not undefined), or fails with the last state. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

async function checkpointNote(url: string): Promise<string> {
  const res = await fetch(`${url}/checkpoint`);
  if (res.status !== 200) throw new Error(`GET /checkpoint: ${res.status}`);
  return res.text();
}

async function metric(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

interface Log {
  readonly le: LedgerEnv;
  readonly origin: string;
  readonly verifierKey: string;
  server?: ServerProcess;
  appender?: string;
}

describeWithGo('witness cosigning with a real litewitness (torchwood v0.6.1)', () => {
  let dir: string;
  let witnessctl: string;
  let litewitness: string;
  let agent: ChildProcess | undefined;
  let witness: ChildProcess | undefined;
  let witnessOutput = '';
  let witnessUrl: string;
  let witnessKey: string;
  const db = () => path.join(dir, 'witness.db');
  let main: Log;
  let waiting: Log;

  const cosignatureOf = (note: string) => verifyCosignatures(note, [witnessKey])[0]!;

  async function newLog(prefix: string, origin: string, env: NodeJS.ProcessEnv, signerKey?: string): Promise<Log> {
    const le = await ledgerEnv(prefix, { LEDGER_ORIGIN: origin, LEDGER_METRICS: 'on', ...env });
    const key = signerKey ?? generateSignerKey(origin).signerKey;
    await writeFile(path.join(le.dataDir, 'signing.key'), `${key}\n`, { mode: 0o600 });
    const { verifierKey } = parseSignerKey(key);
    return { le, origin, verifierKey };
  }

  async function start(log: Log): Promise<void> {
    log.server = await startLedger(log.le.env);
    log.appender ??= (await bootstrapKeys(log.server.url, log.le.env)).appender;
  }

  /** Records n events one by one; the tree size of the last receipt (the head then). */
  async function record(log: Log, n: number): Promise<number> {
    let size = 0;
    for (let i = 0; i < n; i++) {
      const res = await gqlOk<{ recordEvent: { inclusionProof: { treeSize: number } } }>(
        log.server!.url,
        RECORD,
        { i: { action: 'doc.read', actor: { id: `u${i}`, type: 'USER' } } },
        log.appender,
      );
      size = res.recordEvent.inclusionProof.treeSize;
    }
    return size;
  }

  async function addLogToWitness(log: Log): Promise<void> {
    await run(witnessctl, ['add-log', '-db', db(), '-origin', log.origin]);
    await run(witnessctl, ['add-key', '-db', db(), '-origin', log.origin, '-key', log.verifierKey]);
  }

  async function witnessSizes(): Promise<Map<string, number>> {
    const { stdout } = await run(witnessctl, ['list-logs', '-db', db()]);
    return new Map(
      stdout
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { origin: string; size: number })
        .map((l) => [l.origin, l.size]),
    );
  }

  beforeAll(async () => {
    [litewitness, witnessctl] = await Promise.all([
      buildGoTool('witness', 'filippo.io/torchwood/cmd/litewitness', 'litewitness'),
      buildGoTool('witness', 'filippo.io/torchwood/cmd/witnessctl', 'witnessctl'),
    ]);
    // Short: a Unix socket path must fit in 108 bytes.
    dir = await mkdtemp(path.join(os.tmpdir(), 'lw-'));
    const sock = path.join(dir, 'agent.sock');
    await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'litewitness', '-f', path.join(dir, 'witness_key')]);
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    await eventually('the ssh-agent socket', async () => (existsSync(sock) ? true : undefined), 10_000);
    await run('ssh-add', [path.join(dir, 'witness_key')], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
    const fingerprint = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'witness_key.pub')])).stdout.split(' ')[1]!;
    // The witness key from the SSH public key (its last 32 bytes): cross-checked with what litewitness prints.
    const blob = base64.decode((await readFile(path.join(dir, 'witness_key.pub'), 'utf8')).split(' ')[1]!);
    witnessKey = formatWitnessKey(WITNESS_NAME, blob.subarray(blob.length - 32));

    main = await newLog('wmain', 'ledger.test/witnessed', { LEDGER_WITNESS_REPUBLISH_MS: '1000' });
    waiting = await newLog('wwait', 'ledger.test/waits', { LEDGER_WITNESS_WAIT: 'on', LEDGER_WITNESS_WAIT_MS: '3000', LEDGER_WITNESS_REPUBLISH_MS: 'off' });
    await addLogToWitness(main);
    await addLogToWitness(waiting);

    const port = await freeLoopbackPort();
    witnessUrl = `http://127.0.0.1:${port}`;
    witness = spawn(litewitness, ['-db', db(), '-name', WITNESS_NAME, '-ssh-agent', sock, '-key', fingerprint, '-listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    witness.stderr?.setEncoding('utf8').on('data', (c: string) => (witnessOutput += c));
    await eventually('litewitness to listen', async () => (/msg=listening/.test(witnessOutput) ? true : undefined), 30_000);
    expect(witnessOutput).toContain(`vkey=${witnessKey}`);

    for (const log of [main, waiting]) {
      Object.assign(log.le.env, { LEDGER_WITNESSES: `${witnessKey} ${witnessUrl}` });
      await start(log);
    }
  });

  afterAll(async () => {
    for (const log of [main, waiting]) {
      await log?.server?.stop();
      await log?.le.dispose();
    }
    if (witness && witness.exitCode === null) witness.kill('SIGTERM');
    if (agent && agent.exitCode === null) agent.kill('SIGTERM');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('publishes a checkpoint that the witness cosigned, on GET /checkpoint and the checkpoint query', async () => {
    const size = await record(main, 3);
    const note = await eventually('a cosigned /checkpoint', async () => {
      const n = await checkpointNote(main.server!.url);
      return Number(n.split('\n')[1]) === size && cosignatureOf(n).status === 'valid' ? n : undefined;
    });
    expect(verifyCheckpoint(note, main.verifierKey).treeSize).toBe(size);
    expect(parseNote(note).signatures.map((s) => s.name)).toEqual([main.origin, WITNESS_NAME]);
    expect((await witnessSizes()).get(main.origin)).toBeGreaterThanOrEqual(size);
    const query = await gqlOk<{ checkpoint: { note: string } }>(main.server!.url, '{ checkpoint { note } }');
    expect(cosignatureOf(query.checkpoint.note).status).toBe('valid');
    // And Go's reference code agrees: sumdb/note opens the published note with our key and
    // torchwood's cosignature/v1 verifier accepts litewitness's line in it.
    const cosigcheck = await buildGoTool('cosignature', '.', 'cosigcheck');
    const file = path.join(dir, 'published.note');
    await writeFile(file, note);
    const { stdout } = await run(cosigcheck, ['verify', file, main.verifierKey, '1', witnessKey]);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ name: WITNESS_NAME, timestamp: cosignatureOf(note).timestamp }, { cosigned: 1, quorum: 1 }]);
  });

  it('gets the next checkpoint cosigned too: the witness accepted our consistency proof', async () => {
    const before = Number((await checkpointNote(main.server!.url)).split('\n')[1]);
    const size = await record(main, 4);
    expect(size).toBeGreaterThan(before);
    await eventually('a cosignature on the larger checkpoint', async () => {
      const n = await checkpointNote(main.server!.url);
      return Number(n.split('\n')[1]) === size && cosignatureOf(n).status === 'valid' ? true : undefined;
    });
    expect((await witnessSizes()).get(main.origin)).toBe(size);
    expect(await metric(main.server!.url, 'audit_ledger_witness_requests_total', 'outcome="cosigned"')).toBeGreaterThanOrEqual(2);
  });

  it('re-sends the checkpoint of a quiet log, so the cosignature timestamp moves on', async () => {
    const note = await checkpointNote(main.server!.url);
    const first = cosignatureOf(note);
    expect(first.status).toBe('valid');
    await eventually('a fresher cosignature of the same checkpoint', async () => {
      const again = await checkpointNote(main.server!.url);
      const c = cosignatureOf(again);
      return parseNote(again).text === parseNote(note).text && c.status === 'valid' && c.timestamp! > first.timestamp! ? true : undefined;
    }, 30_000);
    // So a monitor with the witness policy calls the unchanged log quiet, not frozen.
    const mon = await runCli(
      ['monitor', '--url', main.server!.url, '--vkey', main.verifierKey, '--witness', witnessKey, '--state', path.join(dir, 'monitor.json'), '--interval', '100ms', '--max-polls', '2'],
      {},
    );
    expect(mon.code).toBe(0);
    expect(mon.stdout).toMatch(/ \+0 quiet, cosigned \d+ s ago\n/);
  });

  it('makes waiting receipts carry a checkpoint the witness cosigned', async () => {
    const res = await gqlOk<{ recordEvent: { leafIndex: number; inclusionProof: { treeSize: number; checkpoint: { note: string } } } }>(
      waiting.server!.url,
      RECORD,
      { i: { action: 'doc.read', actor: { id: 'w', type: 'USER' } } },
      waiting.appender,
    );
    const receipt = res.recordEvent;
    expect(receipt.inclusionProof.treeSize).toBeGreaterThan(receipt.leafIndex);
    expect(cosignatureOf(receipt.inclusionProof.checkpoint.note).status).toBe('valid');
    expect(verifyCheckpoint(receipt.inclusionProof.checkpoint.note, waiting.verifierKey).treeSize).toBe(receipt.inclusionProof.treeSize);
  });

  it('gets no cosignature for a fork of the log (same key and origin, another history); the fork keeps serving', async () => {
    const mainSize = Number((await checkpointNote(main.server!.url)).split('\n')[1]);
    // An auditor with a witness policy trusts the main log's cosigned checkpoint.
    const policy = ['--vkey', main.verifierKey, '--witness', witnessKey];
    const auditState = path.join(dir, 'audit-state.json');
    const audited = await runCli(['audit', '--url', main.server!.url, '--state', auditState, ...policy], {});
    expect(audited.code).toBe(0);
    expect(audited.stdout).toContain(`witnesses (1 of 1 witnesses): ${WITNESS_NAME} cosigned at `);
    const signerKey = (await readFile(path.join(main.le.dataDir, 'signing.key'), 'utf8')).trim();
    const fork = await newLog('wfork', main.origin, { LEDGER_WITNESSES: `${witnessKey} ${witnessUrl}`, LEDGER_WITNESS_REPUBLISH_MS: 'off' }, signerKey);
    try {
      await start(fork);
      // A longer history than the main log's: the witness checks a consistency proof and refuses it.
      await gqlOk(fork.server!.url, RECORD, { i: { action: 'fork.only', actor: { id: 'x', type: 'USER' } } }, fork.appender);
      await record(fork, mainSize + 2);
      await eventually('the witness to refuse the fork', async () =>
        (await metric(fork.server!.url, 'audit_ledger_witness_requests_total', 'outcome="refused"')) >= 1 ? true : undefined,
      );
      expect(fork.server!.output()).toMatch(/witness did not cosign the checkpoint: HTTP 422/);
      const forkNote = await checkpointNote(fork.server!.url);
      expect(verifyCheckpoint(forkNote, main.verifierKey).origin).toBe(main.origin);
      expect(cosignatureOf(forkNote).status).toBe('absent');
      expect((await witnessSizes()).get(main.origin)).toBe(mainSize);
      // audit with the witness policy: a newcomer shown the fork refuses it for lack of the
      // cosignature (exit 3); the auditor who saw the witnessed history has the evidence (exit 2).
      const newcomer = await runCli(['audit', '--url', fork.server!.url, '--state', path.join(dir, 'newcomer.json'), ...policy], {});
      expect(newcomer.code).toBe(3);
      expect(newcomer.stderr).toContain(`missing: ${WITNESS_NAME}`);
      const seen = await runCli(['audit', '--url', fork.server!.url, '--state', auditState, ...policy], {});
      expect(seen.code).toBe(2);
      expect(seen.stdout).toContain('INCONSISTENT: ');
      // Still appending and serving.
      await record(fork, 1);
      expect((await fetch(`${fork.server!.url}/healthz`)).status).toBe(200);
    } finally {
      await fork.server?.stop();
      await fork.le.dispose();
    }
  });

  it('keeps appending when the witness is down, publishing the newest cosigned checkpoint; waiting receipts fail clearly', async () => {
    witness!.kill('SIGTERM');
    await new Promise((r) => witness!.once('exit', r));
    const cosigned = await checkpointNote(main.server!.url);
    const before = Number(cosigned.split('\n')[1]);
    expect(cosignatureOf(cosigned).status).toBe('valid');
    // Receipts carry the new head at once...
    expect(await record(main, 2)).toBe(before + 2);
    const head = await gqlOk<{ checkpoint: { note: string } }>(main.server!.url, `{ checkpoint(treeSize: ${before + 2}) { note } }`);
    expect(cosignatureOf(head.checkpoint.note).status).toBe('absent');
    verifyCheckpoint(head.checkpoint.note, main.verifierKey);
    // ...while what is published stays the newest checkpoint the witness cosigned, still checkable by a client's policy.
    const note = await checkpointNote(main.server!.url);
    expect(Number(note.split('\n')[1])).toBe(before);
    expect(cosignatureOf(note).status).toBe('valid');
    await eventually('the failure to be counted', async () =>
      (await metric(main.server!.url, 'audit_ledger_witness_requests_total', 'outcome="unreachable"')) >= 1 ? true : undefined,
    );

    const res = await gql(waiting.server!.url, RECORD, { i: { action: 'doc.read', actor: { id: 'late', type: 'USER' } } }, waiting.appender);
    expect(errorCode(res)).toBe('WITNESS_QUORUM_NOT_MET');
    expect(res.errors?.[0]?.message).toMatch(/the event is recorded, but 1 of 1 witness cosignatures .* did not arrive within 3000 ms/);
    expect((await fetch(`${waiting.server!.url}/healthz`)).status).toBe(200);
  });
});
