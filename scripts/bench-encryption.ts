/**
 * What encryption at rest costs: `npm run bench:encryption` starts the real server twice, on
 * fresh SQLite data folders, with LEDGER_ENCRYPTION off and then on, and measures through
 * GraphQL over HTTP:
 *   - batched appends: BENCH_EVENTS events (default 100,000) as recordEvents batches of
 *     BENCH_BATCH (1,000) from BENCH_CLIENTS (4) concurrent clients; this also fills the log;
 *   - single-event appends: recordEvent from 32 clients for BENCH_SINGLE_SECONDS (10 s);
 *   - read latency (p50, p99): event(leafIndex) at random leaves, and a group-filtered page
 *     (events(filter: { groupIds }, first: 50)), BENCH_READS (2,000) each, 8 at a time.
 * It prints one markdown table with both columns and their ratio (target ≥ 0.8). Every loop
 * is bounded, and the server processes are stopped on exit (also on Ctrl-C or a failure).
 * Needs a build (`npm run build`): it runs bin/audit-ledger.js as operators do.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'audit-ledger.js');
const EVENTS = intEnv('BENCH_EVENTS', 100_000);
const BATCH = intEnv('BENCH_BATCH', 1_000);
const CLIENTS = intEnv('BENCH_CLIENTS', 4);
const SINGLE_CLIENTS = 32;
const SINGLE_SECONDS = intEnv('BENCH_SINGLE_SECONDS', 10);
const READS = intEnv('BENCH_READS', 2_000);
const READ_CONCURRENCY = 8;
const GROUPS = 4;

const children = new Set<ChildProcess>();
const folders = new Set<string>();

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) === 0) throw new Error(`${name} must be a whole number above zero`);
  return Number(raw);
}

function log(line: string): void {
  process.stderr.write(`bench:encryption: ${line}\n`);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

interface Server {
  readonly url: string;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  stop(): Promise<void>;
}

async function startServer(encryption: boolean): Promise<Server> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `audit-ledger-bench-enc-${encryption ? 'on' : 'off'}-`));
  folders.add(dataDir);
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MONGODB_URI: '',
    NODE_ENV: 'production',
    LEDGER_DATA_DIR: dataDir,
    LEDGER_ENCRYPTION: encryption ? 'on' : 'off',
    LEDGER_RECORD_READS: 'false',
    LEDGER_RETENTION_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    PORT: String(port),
    HOST: '127.0.0.1',
  };
  const child = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited at start-up:\n${stderr}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the server did not become healthy in 60 s:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    env,
    dataDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(killer);
      children.delete(child);
    },
  };
}

async function gql<T>(url: string, token: string, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(120_000),
  });
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length || !body.data) throw new Error(`GraphQL: ${body.errors?.[0]?.message ?? `HTTP ${res.status}`}`);
  return body.data;
}

interface Keys {
  readonly appender: string;
  readonly auditor: string;
  readonly groups: string[];
}

async function setUp(server: Server): Promise<Keys> {
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'bootstrap-admin', '--name', 'bench'], { env: server.env });
  const admin = stdout.trim().split('\n').at(-1)!;
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    groups.push((await gql<{ createGroup: { id: string } }>(server.url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `team-${g}` })).createGroup.id);
  }
  const key = async (name: string, roles: string[], groupIds?: string[]): Promise<string> =>
    (
      await gql<{ createApiKey: { token: string } }>(server.url, admin, 'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { token } }', {
        i: { name, roles, ...(groupIds && { groupIds }) },
      })
    ).createApiKey.token;
  return { appender: await key('bench-appender', ['APPENDER'], groups), auditor: await key('bench-auditor', ['AUDITOR']), groups };
}

let sequence = 0;
function input(groups: readonly string[]): Record<string, unknown> {
  const n = sequence++;
  return {
    action: ['user.login', 'invoice.refund', 'record.read', 'record.update'][n % 4],
    actor: { id: `user-${n % 5000}`, type: 'USER', name: `User ${n % 5000}` },
    target: { type: 'invoice', id: `inv-${n}` },
    outcome: n % 17 === 0 ? 'FAILURE' : 'SUCCESS',
    source: { ip: `10.0.${(n >> 8) & 255}.${n & 255}`, requestId: `req-${n}` },
    metadata: { amount: n % 1000, currency: 'EUR', note: 'benchmark event with a little personal data' },
    groups: [groups[n % groups.length]],
  };
}

const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';
const RECORD_ONE = 'mutation($i: EventInput!) { recordEvent(input: $i) { leafIndex } }';

async function fill(server: Server, keys: Keys): Promise<number> {
  const batches = Math.ceil(EVENTS / BATCH);
  let next = 0;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < batches) {
        const b = next++;
        const size = Math.min(BATCH, EVENTS - b * BATCH);
        await gql(server.url, keys.appender, RECORD_MANY, { i: Array.from({ length: size }, () => input(keys.groups)) });
        done += size;
        if (b % 20 === 0) log(`  ${done.toLocaleString('en-US')} / ${EVENTS.toLocaleString('en-US')} events`);
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

async function singles(server: Server, keys: Keys): Promise<number> {
  const deadline = performance.now() + SINGLE_SECONDS * 1000;
  const cap = 200_000;
  let done = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: SINGLE_CLIENTS }, async () => {
      while (performance.now() < deadline && done < cap) {
        await gql(server.url, keys.appender, RECORD_ONE, { i: input(keys.groups) });
        done++;
      }
    }),
  );
  return done / ((performance.now() - start) / 1000);
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

async function latencies(count: number, request: (i: number) => Promise<unknown>): Promise<Latency> {
  const times: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: READ_CONCURRENCY }, async () => {
      while (next < count) {
        const i = next++;
        const t = performance.now();
        await request(i);
        times.push(performance.now() - t);
      }
    }),
  );
  times.sort((a, b) => a - b);
  const at = (q: number): number => times[Math.min(times.length - 1, Math.floor(q * times.length))]!;
  return { p50: at(0.5), p99: at(0.99) };
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) {
    const st = await stat(path.join(dir, name));
    total += st.isDirectory() ? await folderBytes(path.join(dir, name)) : st.size;
  }
  return total;
}

interface Result {
  readonly batched: number;
  readonly single: number;
  readonly point: Latency;
  readonly page: Latency;
  readonly size: number;
  readonly bytes: number;
}

async function run(encryption: boolean): Promise<Result> {
  log(`encryption ${encryption ? 'on' : 'off'}: starting a server on a fresh SQLite data folder`);
  const server = await startServer(encryption);
  try {
    const keys = await setUp(server);
    log(`filling ${EVENTS.toLocaleString('en-US')} events in batches of ${BATCH} from ${CLIENTS} clients`);
    const batched = await fill(server, keys);
    log(`single-event appends from ${SINGLE_CLIENTS} clients for ${SINGLE_SECONDS} s`);
    const single = await singles(server, keys);
    const size = (await gql<{ checkpoint: { treeSize: number } }>(server.url, keys.auditor, '{ checkpoint { treeSize } }')).checkpoint.treeSize;
    log(`reads: ${READS} event(leafIndex) and ${READS} group-filtered pages, ${READ_CONCURRENCY} at a time`);
    const EVENT = 'query($l: SafeInt!) { event(leafIndex: $l) { id leaf actor { id name } metadata } }';
    const PAGE = 'query($g: [ID!]) { events(filter: { groupIds: $g }, first: 50) { edges { node { leafIndex actor { id } metadata } } } }';
    const point = await latencies(READS, () => gql(server.url, keys.auditor, EVENT, { l: Math.floor(Math.random() * size) }));
    const page = await latencies(READS, (i) => gql(server.url, keys.auditor, PAGE, { g: [keys.groups[i % GROUPS]] }));
    await server.stop();
    const bytes = await folderBytes(server.dataDir);
    return { batched, single, point, page, size, bytes };
  } finally {
    await server.stop();
    await rm(server.dataDir, { recursive: true, force: true });
    folders.delete(server.dataDir);
  }
}

function table(off: Result, on: Result): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const ratio = (x: number): string => `${x.toFixed(2)}×`;
  const rows: Array<[string, string, string, string]> = [
    [`append, batched (recordEvents × ${BATCH}, ${CLIENTS} clients), events/s`, n(off.batched), n(on.batched), ratio(on.batched / off.batched)],
    [`append, single event (${SINGLE_CLIENTS} clients), events/s`, n(off.single), n(on.single), ratio(on.single / off.single)],
    ['event(leafIndex) p50', ms(off.point.p50), ms(on.point.p50), ratio(off.point.p50 / on.point.p50)],
    ['event(leafIndex) p99', ms(off.point.p99), ms(on.point.p99), ratio(off.point.p99 / on.point.p99)],
    ['group-filtered page of 50, p50', ms(off.page.p50), ms(on.page.p50), ratio(off.page.p50 / on.page.p50)],
    ['group-filtered page of 50, p99', ms(off.page.p99), ms(on.page.p99), ratio(off.page.p99 / on.page.p99)],
    ['data folder after the run', `${(off.bytes / 2 ** 20).toFixed(0)} MiB`, `${(on.bytes / 2 ** 20).toFixed(0)} MiB`, ratio(off.bytes / on.bytes)],
  ];
  return [
    `Encryption at rest, SQLite, ${n(off.size)} / ${n(on.size)} events (ratio: on ÷ off for throughput, off ÷ on for latency and size; target ≥ 0.80×)`,
    '',
    '| measure | encryption off | encryption on | ratio |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

function cleanUp(): void {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
}

async function main(): Promise<void> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('no build: run `npm run build` first');
  process.once('SIGINT', () => {
    cleanUp();
    process.exit(130);
  });
  process.once('exit', cleanUp);
  const off = await run(false);
  const on = await run(true);
  process.stdout.write(`${table(off, on)}\n`);
}

main().catch(async (err: unknown) => {
  process.stderr.write(`bench:encryption failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  cleanUp();
  for (const dir of folders) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  process.exitCode = 1;
});
