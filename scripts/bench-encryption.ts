/**
 * What encryption at rest costs: `npm run bench:encryption` starts two real servers at once, on
 * fresh SQLite data folders, one with LEDGER_ENCRYPTION off and one with it on, and measures
 * both through GraphQL over HTTP in alternating rounds (off, on, off, on, …), so that load from
 * other processes on a shared machine falls on both columns alike:
 *   - batched appends: BENCH_EVENTS events (default 100,000) per server as recordEvents
 *     batches of BENCH_BATCH (1,000) from BENCH_CLIENTS (4) concurrent clients; this also
 *     fills the logs;
 *   - single-event appends: recordEvent from 32 clients, BENCH_SINGLE_SECONDS (10 s) per server;
 *   - read latency (p50, p99): event(leafIndex) at random leaves, and a group-filtered page
 *     (events(filter: { groupIds }, first: 50)), BENCH_READS (8,000) each, 8 at a time, after
 *     BENCH_WARMUP_READS (4,000) of each that are not measured.
 * A third server, encryption on with no read cache (LEDGER_SEALED_READ_CACHE=0), shows the
 * cost of reads that miss the cache of opened events (lifecycle/sealedReadCache.ts): every
 * event unwrapped and opened afresh.
 * Besides wall-clock rates it reports each server's CPU time per event or request (from
 * /proc/<pid>/stat), which other processes disturb far less. It prints one markdown table with
 * the columns and their ratios to "off" (target ≥ 0.8). Every loop is bounded, and the servers are
 * stopped on exit (also on Ctrl-C or a failure). Needs a build (`npm run build`).
 */
import {
  cpuSeconds,
  freeLoopbackPort,
  gql,
  log,
  makeTempDir,
  pathBytes,
  runCli,
  runMain,
  type ServerProcess,
  startServer,
  summarize,
} from './benchSupport';

const EVENTS = intEnv('BENCH_EVENTS', 100_000);
const BATCH = intEnv('BENCH_BATCH', 1_000);
const CLIENTS = intEnv('BENCH_CLIENTS', 4);
const SINGLE_CLIENTS = 32;
const SINGLE_SECONDS = intEnv('BENCH_SINGLE_SECONDS', 10);
const READS = intEnv('BENCH_READS', 8_000);
const READ_CONCURRENCY = 8;
/** Unmeasured reads of each kind per server before the measured ones. */
const WARMUP_READS = intEnv('BENCH_WARMUP_READS', 4_000);
/**
 * Alternating rounds per measure: each server gets 1/ROUNDS of the work per round. On this
 * shared machine the same server's speed drifts by 10% and more from one stretch of seconds
 * to the next; many short rounds (and reads enough in each) pair the columns closely in time.
 */
const ROUNDS = intEnv('BENCH_ROUNDS', 8);
const GROUPS = 4;

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) === 0) throw new Error(`${name} must be a whole number above zero`);
  return Number(raw);
}

type Mode = 'off' | 'on' | 'on, no read cache';
const MODES: readonly Mode[] = ['off', 'on', 'on, no read cache'];

interface Server {
  readonly mode: Mode;
  readonly process: ServerProcess;
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
}

async function start(mode: Mode): Promise<Server> {
  const dataDir = await makeTempDir(`audit-ledger-bench-enc-${mode === 'off' ? 'off' : 'on'}-`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    MONGODB_URI: '',
    NODE_ENV: 'production',
    LEDGER_DATA_DIR: dataDir,
    LEDGER_ENCRYPTION: mode === 'off' ? 'off' : 'on',
    LEDGER_SEALED_READ_CACHE: mode === 'on, no read cache' ? '0' : '',
    LEDGER_RECORD_READS: 'false',
    LEDGER_RETENTION_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
    PORT: String(await freeLoopbackPort()),
    HOST: '127.0.0.1',
  };
  return { mode, process: await startServer(env), env, dataDir };
}

interface Keys {
  readonly appender: string;
  readonly auditor: string;
  readonly groups: string[];
}

async function setUp(server: Server): Promise<Keys> {
  const boot = await runCli(['bootstrap-admin', '--name', 'bench'], server.env, 120_000);
  if (boot.code !== 0) throw new Error(`bootstrap-admin failed (code ${boot.code}):\n${boot.stderr}`);
  const admin = boot.stdout.trim().split('\n').at(-1)!;
  const url = server.process.url;
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    groups.push((await gql<{ createGroup: { id: string } }>(url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `team-${g}` })).createGroup.id);
  }
  const key = async (name: string, roles: string[], groupIds?: string[]): Promise<string> =>
    (
      await gql<{ createApiKey: { token: string } }>(url, admin, 'mutation($i: ApiKeyInput!) { createApiKey(input: $i) { token } }', {
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
const EVENT = 'query($l: SafeInt!) { event(leafIndex: $l) { id leaf actor { id name } metadata } }';
const PAGE = 'query($g: [ID!]) { events(filter: { groupIds: $g }, first: 50) { edges { node { leafIndex actor { id } metadata } } } }';

/** What one server did in one stretch: units of work, wall time, its own CPU time. */
interface Stretch {
  units: number;
  wallMs: number;
  cpuSeconds: number;
}

const emptyStretch = (): Stretch => ({ units: 0, wallMs: 0, cpuSeconds: 0 });

/** Runs `work` (which returns units done) against one server, adding its wall and CPU time to `into`. */
async function measured(server: Server, into: Stretch, work: () => Promise<number>): Promise<void> {
  const cpu0 = (await cpuSeconds(server.process.pid)) ?? 0;
  const t0 = performance.now();
  into.units += await work();
  into.wallMs += performance.now() - t0;
  into.cpuSeconds += ((await cpuSeconds(server.process.pid)) ?? cpu0) - cpu0;
  server.process.assertRunning(`encryption ${server.mode}`);
}

async function fill(server: Server, keys: Keys, events: number): Promise<number> {
  const batches = Math.ceil(events / BATCH);
  let next = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next < batches) {
        const b = next++;
        const size = Math.min(BATCH, events - b * BATCH);
        await gql(server.process.url, keys.appender, RECORD_MANY, { i: Array.from({ length: size }, () => input(keys.groups)) });
        done += size;
      }
    }),
  );
  return done;
}

async function singles(server: Server, keys: Keys, seconds: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  const cap = 200_000;
  let done = 0;
  await Promise.all(
    Array.from({ length: SINGLE_CLIENTS }, async () => {
      while (performance.now() < deadline && done < cap) {
        await gql(server.process.url, keys.appender, RECORD_ONE, { i: input(keys.groups) });
        done++;
      }
    }),
  );
  return done;
}

/** Sends `count` requests, READ_CONCURRENCY at a time, adding each latency to `times`. */
async function latencies(count: number, times: number[], request: (i: number) => Promise<unknown>): Promise<number> {
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
  return count;
}

interface Result {
  readonly batched: Stretch;
  readonly single: Stretch;
  readonly point: { stretch: Stretch; times: number[] };
  readonly page: { stretch: Stretch; times: number[] };
  size: number;
  bytes: number;
}

const newResult = (): Result => ({
  batched: emptyStretch(),
  single: emptyStretch(),
  point: { stretch: emptyStretch(), times: [] },
  page: { stretch: emptyStretch(), times: [] },
  size: 0,
  bytes: 0,
});

/** Runs one round of a measure on each server in turn, ROUNDS times, rotating which goes first. */
async function alternate(servers: readonly Server[], what: string, round: (server: Server, index: number) => Promise<void>): Promise<void> {
  for (let r = 0; r < ROUNDS; r++) {
    const order = servers.map((_, i) => (i + r) % servers.length);
    for (const i of order) await round(servers[i]!, i);
    log(`${what}: round ${r + 1} of ${ROUNDS} done`);
  }
}

function table(results: readonly Result[]): string {
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const ms = (x: number): string => `${x.toFixed(1)} ms`;
  const us = (x: number): string => `${Math.round(x).toLocaleString('en-US')} µs`;
  const ratio = (x: number): string => `${x.toFixed(2)}×`;
  const rate = (s: Stretch): number => s.units / (s.wallMs / 1000);
  const cpuPer = (s: Stretch): number => (s.cpuSeconds * 1e6) / Math.max(1, s.units);
  const off = results[0]!;
  const rows: string[][] = [];
  /** One row: the value in each mode, and each encrypted mode's ratio to off (higher is better). */
  const row = (label: string, value: (r: Result) => number, show: (x: number) => string, better: 'higher' | 'lower'): void => {
    const cells = [label, show(value(off))];
    for (const r of results.slice(1)) cells.push(show(value(r)), ratio(better === 'higher' ? value(r) / value(off) : value(off) / value(r)));
    rows.push(cells);
  };
  row(`append, batched (recordEvents × ${BATCH}, ${CLIENTS} clients), events/s`, (r) => rate(r.batched), n, 'higher');
  row('append, batched, server CPU per event', (r) => cpuPer(r.batched), us, 'lower');
  row(`append, single event (${SINGLE_CLIENTS} clients), events/s`, (r) => rate(r.single), n, 'higher');
  row('append, single event, server CPU per event', (r) => cpuPer(r.single), us, 'lower');
  for (const [label, pick] of [
    ['event(leafIndex), random leaf', (r: Result) => r.point],
    ['group-filtered newest page of 50', (r: Result) => r.page],
  ] as const) {
    row(`${label} p50`, (r) => summarize(pick(r).times).p50, ms, 'lower');
    row(`${label} p99`, (r) => summarize(pick(r).times).p99, ms, 'lower');
    row(`${label}, server CPU per request`, (r) => cpuPer(pick(r).stretch), us, 'lower');
  }
  row('data folder after the run, MiB', (r) => r.bytes / 2 ** 20, (x) => x.toFixed(0), 'lower');
  const header = ['measure', 'encryption off', ...MODES.slice(1).flatMap((m) => [`encryption ${m}`, 'ratio'])];
  return [
    `Encryption at rest, SQLite, ${results.map((r) => n(r.size)).join(' / ')} events, ${ROUNDS} rounds per measure rotating between the servers ` +
      '(ratio to off: on ÷ off for throughput, off ÷ on for latency, CPU and size; target ≥ 0.80×)',
    '',
    `| ${header.join(' | ')} |`,
    `| --- | ${header.slice(1).map(() => '---:').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

async function main(): Promise<void> {
  log(`starting ${MODES.length} servers on fresh SQLite data folders: encryption ${MODES.join('; ')}`);
  const servers = await Promise.all(MODES.map(start));
  const keys = await Promise.all(servers.map(setUp));
  const results = servers.map(newResult);
  log(`filling ${EVENTS.toLocaleString('en-US')} events per server in batches of ${BATCH} from ${CLIENTS} clients`);
  await alternate(servers, 'batched appends', (s, i) => measured(s, results[i]!.batched, () => fill(s, keys[i]!, Math.ceil(EVENTS / ROUNDS))));
  log(`single-event appends from ${SINGLE_CLIENTS} clients, ${SINGLE_SECONDS} s per server`);
  await alternate(servers, 'single-event appends', (s, i) => measured(s, results[i]!.single, () => singles(s, keys[i]!, SINGLE_SECONDS / ROUNDS)));
  for (const [i, s] of servers.entries()) {
    results[i]!.size = (await gql<{ checkpoint: { treeSize: number } }>(s.process.url, keys[i]!.auditor, '{ checkpoint { treeSize } }')).checkpoint.treeSize;
  }
  log(`reads: ${READS} event(leafIndex) and ${READS} group-filtered pages per server, ${READ_CONCURRENCY} at a time, after ${WARMUP_READS} of each unmeasured`);
  const perRound = Math.ceil(READS / ROUNDS);
  const randomLeaf = (i: number): number => Math.floor(Math.random() * results[i]!.size);
  // Reads are the first of their kind in each server. Measured here in batches of 1,000 random
  // single-event reads, a server's CPU per read fell by half over the first 5,000 (740 to 380
  // µs off, 870 to 450 µs on), most of it V8 compiling on its background threads: without
  // these, the first rounds would measure the compiler and the cold page cache.
  for (const [i, s] of servers.entries()) {
    await latencies(WARMUP_READS, [], () => gql(s.process.url, keys[i]!.auditor, EVENT, { l: randomLeaf(i) }));
    await latencies(WARMUP_READS, [], (j) => gql(s.process.url, keys[i]!.auditor, PAGE, { g: [keys[i]!.groups[j % GROUPS]] }));
  }
  await alternate(servers, 'event(leafIndex)', (s, i) =>
    measured(s, results[i]!.point.stretch, () =>
      latencies(perRound, results[i]!.point.times, () => gql(s.process.url, keys[i]!.auditor, EVENT, { l: randomLeaf(i) })),
    ),
  );
  await alternate(servers, 'group pages', (s, i) =>
    measured(s, results[i]!.page.stretch, () =>
      latencies(perRound, results[i]!.page.times, (j) => gql(s.process.url, keys[i]!.auditor, PAGE, { g: [keys[i]!.groups[j % GROUPS]] })),
    ),
  );
  for (const [i, s] of servers.entries()) {
    await s.process.stop();
    results[i]!.bytes = await pathBytes(s.dataDir);
  }
  process.stdout.write(`${table(results)}\n`);
}

runMain(main);
