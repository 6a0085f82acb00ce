/**
 * Ledger benchmark through GraphQL over HTTP, one server process (`node bin/audit-ledger.js
 * serve`, from dist/: run `npm run build` first), on this machine.
 *
 *   npm run bench:ledger -- [--adapter sqlite|mongodb] [--sizes 1000000,10000000] [--seconds 10]
 *        [--read-seconds 5] [--read-clients 1,4] [--fill-clients 4] [--fill-batch 1000]
 *        [--fill-max-minutes 150] [--tessera | --no-tessera] [--tessera-seconds 30]
 *        [--compare-mongodb 100000] [--rows-json FILE] [--no-appends]
 *
 * In a fresh temp folder (removed at the end, also on error and SIGINT/SIGTERM): starts the
 * server on the chosen storage adapter (sqlite: `$LEDGER_DATA_DIR/ledger.db`; mongodb: a
 * fresh FerretDB test engine), with LEDGER_RECORD_READS=false (reads would otherwise each
 * append an event) and LOG_LEVEL=debug (the per-batch phase timings are the profile rows).
 * Creates the admin with the `bootstrap-admin` CLI, 100 groups, two APPENDER keys scoped to 50
 * of them each (a key holds at most 64 groups; together they cover all 100), an AUDITOR key and
 * 8 READER keys each scoped to one group. Then for each size:
 *
 *   1. fills the log to that size with `recordEvents` batches from several concurrent
 *      clients, as fast as the server takes them (events over 100 groups, 1000 actors, 20
 *      actions, time-ordered), progress on stderr; the fill time is a result;
 *   2. measures reads for --read-seconds each with 1, then 4 closed-loop clients (--read-clients):
 *      a READER's newest page of 50, the same with action + time range, event(leafIndex),
 *      event(id), inclusion and consistency proofs, eventCounts;
 *   3. measures appends for --seconds each: 4 clients × 100-event recordEvents, then
 *      single-event recordEvent from 64 clients (latency = time to the receipt, which carries
 *      the inclusion proof against the signed checkpoint covering the event);
 *      (--no-appends skips this step, for runs that look only at the reads);
 *   4. records the server's RSS (/proc/<pid>/status; its peak, with the main thread's V8 heap near the peak
 *      from the server's /metrics, which is on for this) and the bytes on disk per event.
 * Each measured stretch (fills, reads, appends) also says how many cores each process used and
 * how busy each server thread was (audit_ledger_thread_busy_seconds_total from /metrics): the
 * thread near 100% is the one that sets the rate.
 *
 * Then stops the server and times `verify-db` (the CLI, same environment) on the largest
 * log, and, with --tessera (default when scripts/bench-tessera.ts is present), runs Tessera
 * (Go) on the same machine for the appends/s and time-to-integrate ratios. With
 * --compare-mongodb N (N among --sizes), the same script runs once more, as a child process, on
 * the mongodb adapter (FerretDB test engine) at N events, and a side-by-side table of the rows
 * both runs measured at N follows, with the ratio mongodb ÷ sqlite. Every loop is
 * bounded in time and count. Prints one markdown table: measure | result | target.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineCacheDir } from '../src/config';
import { type EmbeddedEngine, startEmbeddedEngine } from '../src/storage/mongodb/engine/embeddedEngine';
import { sqliteFile } from '../src/storage/open';
import { hexToBytes, verifyCheckpoint, verifyConsistency, verifyInclusion } from '../src/verify';
import {
  Args,
  benchServerEnv,
  cpuCell,
  freeLoopbackPort,
  gql,
  int,
  type LoadRequest,
  type LoadResult,
  loadCell,
  log,
  loggedRows,
  makeTempDir,
  markdownTable,
  ms,
  onCleanup,
  pathBytes,
  procMemory,
  randomSource,
  type Row,
  runCli,
  track,
  errorLine,
  fillLog,
  logTreeSize,
  RECORD_EVENTS,
  runLoad,
  runMain,
  secs,
  type ServerProcess,
  sizeLabel,
  sleep,
  startServer,
  withCpu,
} from './benchSupport';

const args = new Args();
const ADAPTER = args.string('adapter', 'sqlite');
if (ADAPTER !== 'sqlite' && ADAPTER !== 'mongodb') throw new Error(`--adapter must be sqlite or mongodb (got ${ADAPTER})`);
const SIZES = [...new Set(args.list('sizes', [1_000_000, 10_000_000]))].sort((a, b) => a - b);
const SECONDS = args.number('seconds', 10);
const READ_SECONDS = args.number('read-seconds', Math.max(3, SECONDS / 2));
/**
 * Each read is measured at these concurrencies: 1 client shows the service time, more show the
 * queueing on the server's one thread. FerretDB answers event reads by scanning (seconds each): 1 there.
 */
const READ_CLIENTS = args.list('read-clients', ADAPTER === 'mongodb' ? [1] : [1, 4]);
const FILL_CLIENTS = Math.round(args.number('fill-clients', 4));
const FILL_BATCH = Math.min(10_000, Math.round(args.number('fill-batch', 1000)));
const FILL_MAX_MINUTES = args.number('fill-max-minutes', 150);
const TESSERA_FILE = path.join(__dirname, 'bench-tessera.ts');
const TESSERA = args.flag('tessera', existsSync(TESSERA_FILE));
const TESSERA_SECONDS = args.number('tessera-seconds', 30);
const COMPARE_MONGODB = Math.round(Number(args.string('compare-mongodb', '0')));
if (!Number.isSafeInteger(COMPARE_MONGODB) || COMPARE_MONGODB < 0 || (COMPARE_MONGODB > 0 && (ADAPTER !== 'sqlite' || !SIZES.includes(COMPARE_MONGODB)))) {
  throw new Error(`--compare-mongodb ${COMPARE_MONGODB} needs --adapter sqlite and ${COMPARE_MONGODB} among --sizes (${SIZES.join(',')})`);
}
const ROWS_JSON = args.string('rows-json', '');
const APPENDS = args.flag('appends', true);

const GROUPS = 100;
const ACTORS = 1000;
const READERS = 8;
/** Groups per APPENDER key (the server allows at most 64 on a key). */
const APPENDER_GROUPS = 50;
const ACTIONS = [
  'user.login',
  'user.logout',
  'user.password.change',
  'user.mfa.enable',
  'user.role.grant',
  'user.role.revoke',
  'document.create',
  'document.read',
  'document.update',
  'document.delete',
  'document.share',
  'invoice.create',
  'invoice.approve',
  'invoice.refund',
  'payment.capture',
  'payment.refund',
  'apikey.create',
  'apikey.revoke',
  'settings.update',
  'export.download',
];
/** How much of the log a time-range query spans. */
const WINDOW_FRACTION = 0.1;
const MB = 1e6;

const RECORD_EVENT =
  'mutation($input: EventInput!) { recordEvent(input: $input) { eventId leafIndex leafHash inclusionProof { treeSize hashes checkpoint { note } } } }';
const PAGE = 'query($f: EventFilter) { events(first: 50, order: NEWEST_FIRST, filter: $f) { edges { node { leafIndex id action actor { id } recordedAt groups } } pageInfo { hasNextPage endCursor } } }';
const EVENT_FIELDS = 'id leafIndex leafHash leaf action recordedAt groups';
const EVENT_BY_INDEX = `query($i: SafeInt!) { event(leafIndex: $i) { ${EVENT_FIELDS} } }`;
const EVENT_BY_ID = `query($id: ID!) { event(id: $id) { ${EVENT_FIELDS} } }`;
const INCLUSION = 'query($i: SafeInt!, $n: SafeInt!) { inclusionProof(leafIndex: $i, treeSize: $n) { leafHash hashes checkpoint { treeSize note } } }';
const CONSISTENCY = 'query($m: SafeInt!, $n: SafeInt!) { consistencyProof(fromSize: $m, toSize: $n) { hashes checkpoint { treeSize note } } }';
const COUNTS = 'query($g: EventCountGroupBy!, $f: EventFilter) { eventCounts(groupBy: $g, filter: $f) { key count } }';

interface Receipt {
  readonly leafIndex: number;
  readonly eventId: string;
}
interface Keys {
  /**
   * APPENDER keys whose groups together are the 100 (a key holds at most 64 groups): an event's
   * explicit group must lie within the key that records it, so request i uses appenders[i % n].
   */
  readonly appenders: readonly { readonly token: string; readonly groupIds: readonly string[] }[];
  readonly auditor: string;
  /** READER keys, each scoped to one group. */
  readonly readers: readonly { readonly token: string; readonly groupId: string }[];
  readonly groupIds: readonly string[];
  readonly verifierKey: string;
}
/** What one size's measurements found, for the closing comparison rows. */
interface SizeResult {
  readonly size: number;
  readonly label: string;
  readonly batched: LoadResult;
  readonly single: LoadResult;
  readonly maxRss: number;
}

const rand = randomSource(0x5eed);
/** The processes whose CPU the result cells show (set once they run). */
let pids: { server: number; engine?: number } = { server: 0 };
let eventSeq = 0;

/** One realistic event: a random actor, action and group of the 100, stamped with the time now. */
function eventInput(groupIds: readonly string[]): object {
  const n = eventSeq++;
  const actor = Math.floor(rand() * ACTORS);
  const outcome = rand();
  return {
    action: ACTIONS[Math.floor(rand() * ACTIONS.length)],
    actor: { id: `user-${actor}`, type: 'USER', name: `User ${actor}` },
    target: { type: 'document', id: `doc-${Math.floor(rand() * 100_000)}` },
    outcome: outcome < 0.95 ? 'SUCCESS' : outcome < 0.98 ? 'FAILURE' : 'DENIED',
    occurredAt: new Date().toISOString(),
    source: { ip: `10.0.${actor >> 8}.${actor & 255}`, requestId: `req-${n}` },
    metadata: { seq: n, client: 'bench-ledger' },
    groups: [groupIds[Math.floor(rand() * groupIds.length)]],
  };
}

const appender = (keys: Keys, i: number) => keys.appenders[i % keys.appenders.length]!;

/** A uniform sample of recorded event ids, for event(id). */
class IdSample {
  private readonly ids: string[] = [];
  private seen = 0;
  private readonly pick = randomSource(0x1d5);
  constructor(private readonly capacity: number) {}

  add(receipts: readonly Receipt[]): void {
    for (const r of receipts) {
      this.seen++;
      if (this.ids.length < this.capacity) this.ids.push(r.eventId);
      else {
        const j = Math.floor(this.pick() * this.seen);
        if (j < this.capacity) this.ids[j] = r.eventId;
      }
    }
  }

  get(i: number): string {
    return this.ids[i % this.ids.length]!;
  }

  get size(): number {
    return this.ids.length;
  }
}

const treeSize = logTreeSize;

/** The main thread's V8 heap as the server's /metrics reports it (prom-client's default metrics). */
interface MainHeap {
  readonly total: number;
  readonly used: number;
  readonly external: number;
}

/** The server's /metrics text, or undefined when it did not answer within 2 s. */
async function metricsText(url: string): Promise<string | undefined> {
  try {
    return await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  } catch {
    return undefined;
  }
}

async function mainHeap(url: string): Promise<MainHeap | undefined> {
  const text = await metricsText(url);
  if (text === undefined) return undefined;
  const value = (name: string): number => Number(new RegExp(`^audit_ledger_process_${name} (\\S+)`, 'm').exec(text)?.[1] ?? Number.NaN);
  const heap = { total: value('nodejs_heap_size_total_bytes'), used: value('nodejs_heap_size_used_bytes'), external: value('nodejs_external_memory_bytes') };
  return Number.isFinite(heap.total) ? heap : undefined;
}

/** Seconds each server thread has been busy (audit_ledger_thread_busy_seconds_total), or undefined when /metrics did not answer. */
async function threadBusy(url: string): Promise<Map<string, number> | undefined> {
  const text = await metricsText(url);
  if (text === undefined) return undefined;
  const busy = new Map<string, number>();
  for (const m of text.matchAll(/^audit_ledger_thread_busy_seconds_total\{thread="(\w+)"\} (\S+)$/gm)) busy.set(m[1]!, Number(m[2]));
  return busy.size > 0 ? busy : undefined;
}

const THREAD_NAMES: Record<string, string> = { main: 'main', append: 'append worker', background: 'background worker' };

/**
 * `work` measured with withCpu, and how busy each server thread was meanwhile: the CPU cell
 * followed by `; server threads busy: main 97%, append worker 55%, background worker 3%`.
 * A thread near 100% is what limits the rate.
 */
async function measured<T>(url: string, work: () => Promise<T>): Promise<{ value: T; cpu: string }> {
  const before = await threadBusy(url);
  const t0 = performance.now();
  const run = await withCpu(pids, work);
  const seconds = (performance.now() - t0) / 1000;
  const after = await threadBusy(url);
  let threads = '';
  if (before && after) {
    const parts = [...after].map(([thread, busy]) => `${THREAD_NAMES[thread] ?? thread} ${Math.round((100 * (busy - (before.get(thread) ?? 0))) / seconds)}%`);
    threads = `; server threads busy: ${parts.join(', ')}`;
  }
  return { value: run.value, cpu: `${cpuCell(run.cpu)}${threads}` };
}

/**
 * The server's peak RSS over a stretch of the run, sampled every 250 ms, and the main thread's
 * heap near that peak: read from /metrics when the RSS reaches a new peak (at most every 2 s,
 * so the scrapes cost the server next to nothing), to show how much of the peak is V8 heap.
 */
class RssWatch {
  max = 0;
  heapAtMax: MainHeap | undefined;
  private running = true;
  private readonly loop: Promise<void>;
  constructor(pid: number, url?: string) {
    this.loop = (async () => {
      let scrapedAt = 0;
      while (this.running) {
        const rss = await procMemory(pid, 'VmRSS');
        if (rss > this.max) {
          this.max = rss;
          if (url !== undefined && performance.now() - scrapedAt >= 2000) {
            scrapedAt = performance.now();
            this.heapAtMax = (await mainHeap(url)) ?? this.heapAtMax;
          }
        }
        await sleep(250);
      }
    })();
  }

  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    return this.max;
  }
}

/** `; main V8 heap … near the peak`, or nothing when /metrics did not answer. */
function heapCell(heap: MainHeap | undefined): string {
  if (!heap) return '';
  return `; main thread's V8 heap near that peak ${int(heap.total / MB)} MB committed, ${int(heap.used / MB)} MB in use (+${int(heap.external / MB)} MB external buffers)`;
}

// ---- setup ------------------------------------------------------------------------------------

async function setUp(server: ServerProcess, env: NodeJS.ProcessEnv): Promise<Keys> {
  const { url } = server;
  const boot = await runCli(['bootstrap-admin', '--name', 'bench'], env, 120_000);
  if (boot.code !== 0) throw new Error(`bootstrap-admin failed (code ${boot.code}):\n${boot.stderr}`);
  const admin = boot.stdout.trim().split('\n').at(-1)!;
  const groupIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const made = await gql<{ createGroup: { id: string } }>(url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `bench-group-${g}` });
    groupIds.push(made.createGroup.id);
  }
  const createKey = async (name: string, roles: string[], groups?: string[]): Promise<string> => {
    const made = await gql<{ createApiKey: { token: string } }>(
      url,
      admin,
      'mutation($name: String!, $roles: [Role!]!, $groups: [ID!]) { createApiKey(input: { name: $name, roles: $roles, groupIds: $groups }) { token } }',
      { name, roles, groups: groups ?? null },
    );
    return made.createApiKey.token;
  };
  // Explicit event groups must lie within the APPENDER key's groups, and a key holds at most
  // 64: two keys of 50 groups each, used alternately, spread the events over all 100.
  const appenders: { token: string; groupIds: string[] }[] = [];
  for (let from = 0; from < GROUPS; from += APPENDER_GROUPS) {
    const scope = groupIds.slice(from, from + APPENDER_GROUPS);
    appenders.push({ token: await createKey(`bench-appender-${from}`, ['APPENDER'], scope), groupIds: scope });
  }
  const auditor = await createKey('bench-auditor', ['AUDITOR']);
  const readers: { token: string; groupId: string }[] = [];
  for (let r = 0; r < READERS; r++) {
    const groupId = groupIds[(r * 37 + 5) % GROUPS]!;
    readers.push({ token: await createKey(`bench-reader-${r}`, ['READER'], [groupId]), groupId });
  }
  const info = await gql<{ logInfo: { verifierKey: string } }>(url, undefined, '{ logInfo { verifierKey } }');
  return { appenders, auditor, readers, groupIds, verifierKey: info.logInfo.verifierKey };
}

// ---- fill ---------------------------------------------------------------------------------------

async function fillTo(server: ServerProcess, keys: Keys, ids: IdSample, target: number): Promise<{ from: number; to: number; ms: number; errors: number }> {
  return fillLog(server, {
    target,
    batch: FILL_BATCH,
    clients: FILL_CLIENTS,
    maxMinutes: FILL_MAX_MINUTES,
    batchOf: (i, count) => ({ inputs: Array.from({ length: count }, () => eventInput(appender(keys, i).groupIds)), token: appender(keys, i).token }),
    onReceipts: (receipts) => ids.add(receipts),
  });
}

// ---- reads --------------------------------------------------------------------------------------

interface ReadSpec {
  readonly measure: string;
  readonly target?: string;
  readonly p99Limit?: number;
  request(i: number): LoadRequest;
  check(data: Record<string, unknown>, i: number): number | void;
}

/** Time windows spanning WINDOW_FRACTION of the log, from the recordedAt of their end leaves. */
async function timeWindows(url: string, keys: Keys, n: number, count: number): Promise<{ from: string; to: string }[]> {
  const windows: { from: string; to: string }[] = [];
  const span = Math.max(1, Math.floor(n * WINDOW_FRACTION));
  const pick = randomSource(0x71e);
  for (let w = 0; w < count; w++) {
    const a = Math.floor(pick() * Math.max(1, n - span));
    const b = Math.min(n - 1, a + span);
    const at = async (i: number): Promise<string> =>
      (await gql<{ event: { recordedAt: string } }>(url, keys.auditor, 'query($i: SafeInt!) { event(leafIndex: $i) { recordedAt } }', { i })).event.recordedAt;
    windows.push({ from: await at(a), to: await at(b) });
  }
  return windows;
}

/** One inclusion and one consistency proof, verified with the client library (not timed). */
async function verifyProofs(url: string, keys: Keys, n: number): Promise<void> {
  const leaf = Math.floor(rand() * n);
  const inc = await gql<{ inclusionProof: { leafHash: string; hashes: string[]; checkpoint: { note: string } } }>(url, undefined, INCLUSION, { i: leaf, n });
  const cp = verifyCheckpoint(inc.inclusionProof.checkpoint.note, keys.verifierKey);
  verifyInclusion({ leafHash: hexToBytes(inc.inclusionProof.leafHash), leafIndex: leaf, treeSize: n, proof: inc.inclusionProof.hashes.map(hexToBytes), rootHash: cp.rootHash });
  const m = 1 + Math.floor(rand() * (n - 1));
  const old = await gql<{ checkpoint: { note: string } }>(url, undefined, 'query($m: SafeInt!) { checkpoint(treeSize: $m) { note } }', { m });
  const con = await gql<{ consistencyProof: { hashes: string[] } }>(url, undefined, CONSISTENCY, { m, n });
  verifyConsistency({
    fromSize: m,
    toSize: n,
    fromRoot: verifyCheckpoint(old.checkpoint.note, keys.verifierKey).rootHash,
    toRoot: cp.rootHash,
    proof: con.consistencyProof.hashes.map(hexToBytes),
  });
}

function readSpecs(keys: Keys, ids: IdSample, n: number, windows: readonly { from: string; to: string }[]): ReadSpec[] {
  const pick = randomSource(0xbead);
  const below = (k: number): number => Math.floor(pick() * k);
  const reader = (i: number) => keys.readers[i % keys.readers.length]!;
  const edgesOf = (data: Record<string, unknown>) => (data.events as { edges: { node: { groups: string[] } }[] }).edges;
  const inGroup = (i: number, data: Record<string, unknown>): number => {
    const edges = edgesOf(data);
    const g = reader(i).groupId;
    if (edges.some((e) => !e.node.groups.includes(g))) throw new Error('a READER was shown an event outside its group');
    return 1;
  };
  // A group holds about n/100 events: from 10^4 events on, every newest page is full.
  const pageOf50 = (i: number, data: Record<string, unknown>): number => {
    if (n >= 10_000 && edgesOf(data).length !== 50) throw new Error(`a page of ${edgesOf(data).length} events`);
    return inGroup(i, data);
  };
  const found = (data: Record<string, unknown>): void => {
    if (!data.event) throw new Error('event not found');
  };
  const action = (i: number): string => ACTIONS[(i * 7) % ACTIONS.length]!;
  return [
    {
      measure: 'events: newest page of 50, READER scoped to 1 of 100 groups',
      target: 'p99 ≤ 20 ms',
      p99Limit: 20,
      request: (i) => ({ query: PAGE, token: reader(i).token }),
      check: (data, i) => pageOf50(i, data),
    },
    {
      measure: `events: newest page of 50, READER's group + action + time range (${WINDOW_FRACTION * 100}% of the log)`,
      target: 'p99 ≤ 20 ms',
      p99Limit: 20,
      request: (i) => ({ query: PAGE, variables: { f: { action: action(i), ...windows[i % windows.length]! } }, token: reader(i).token }),
      check: (data, i) => inGroup(i, data),
    },
    {
      measure: 'event(leafIndex), AUDITOR, random leaf',
      target: 'p99 ≤ 5 ms',
      p99Limit: 5,
      request: () => ({ query: EVENT_BY_INDEX, variables: { i: below(n) }, token: keys.auditor }),
      check: found,
    },
    {
      measure: `event(id), AUDITOR, random id of ${int(ids.size)} sampled`,
      target: 'p99 ≤ 5 ms',
      p99Limit: 5,
      request: () => ({ query: EVENT_BY_ID, variables: { id: ids.get(Math.floor(pick() * ids.size)) }, token: keys.auditor }),
      check: found,
    },
    {
      measure: 'inclusionProof(random leaf, treeSize), public',
      target: 'p99 ≤ 5 ms',
      p99Limit: 5,
      request: () => ({ query: INCLUSION, variables: { i: below(n), n } }),
      check: (data) => {
        if ((data.inclusionProof as { hashes: string[] }).hashes.length === 0 && n > 1) throw new Error('empty proof');
      },
    },
    {
      measure: 'consistencyProof(random size, treeSize), public',
      target: 'p99 ≤ 5 ms',
      p99Limit: 5,
      request: () => ({ query: CONSISTENCY, variables: { m: 1 + below(n - 1), n } }),
      check: () => undefined,
    },
    {
      measure: 'eventCounts(groupBy: GROUP), AUDITOR (all 100 groups)',
      target: '≤ 50 ms (p99)',
      p99Limit: 50,
      request: () => ({ query: COUNTS, variables: { g: 'GROUP' }, token: keys.auditor }),
      check: (data) => {
        if ((data.eventCounts as unknown[]).length !== GROUPS) throw new Error(`${(data.eventCounts as unknown[]).length} groups counted`);
      },
    },
    {
      measure: "eventCounts(groupBy: ACTION), READER's group",
      target: '≤ 50 ms (p99)',
      p99Limit: 50,
      request: (i) => ({ query: COUNTS, variables: { g: 'ACTION' }, token: reader(i).token }),
      check: () => undefined,
    },
    {
      measure: `eventCounts(groupBy: ACTION), READER's group + time range (${WINDOW_FRACTION * 100}%: not from maintained counts)`,
      request: (i) => ({ query: COUNTS, variables: { g: 'ACTION', f: windows[i % windows.length]! }, token: reader(i).token }),
      check: () => undefined,
    },
  ];
}

async function measureReads(server: ServerProcess, keys: Keys, ids: IdSample, n: number, label: string, rows: Row[]): Promise<void> {
  await verifyProofs(server.url, keys, n);
  const windows = await timeWindows(server.url, keys, n, 16);
  for (const spec of readSpecs(keys, ids, n, windows)) {
    log(`${label}: ${spec.measure}`);
    const cells: string[] = [];
    let ok = true;
    let cpu = '';
    for (const clients of READ_CLIENTS) {
      const run = await measured(server.url, () =>
        runLoad({ url: server.url, stopWhen: server.ended, clients, seconds: READ_SECONDS, maxRequests: 1_000_000, timeoutMs: 300_000, request: (i) => spec.request(i), check: (d, i) => spec.check(d, i) }),
      );
      server.assertRunning(spec.measure);
      const r = run.value;
      cells.push(`${clients} client${clients === 1 ? '' : 's'}: ${loadCell(r)}`);
      cpu = `${run.cpu} at ${clients} clients`;
      ok &&= r.errors === 0 && r.latency.p99 <= (spec.p99Limit ?? Infinity);
    }
    rows.push({
      measure: `${spec.measure} @ ${label}`,
      result: `${cells.join('; ')}; ${cpu}`,
      ...(spec.target !== undefined && { target: spec.target, ok }),
    });
  }
}

// ---- appends -------------------------------------------------------------------------------------

async function measureAppends(server: ServerProcess, keys: Keys, ids: IdSample, label: string, rows: Row[]): Promise<{ batched: LoadResult; single: LoadResult }> {
  server.profile.take();
  log(`${label}: batched appends`);
  const batchedRun = await measured(server.url, () =>
    runLoad({
      url: server.url,
      stopWhen: server.ended,
      clients: 4,
      seconds: SECONDS,
      maxRequests: 100_000,
      request: (i) => ({ query: RECORD_EVENTS, variables: { inputs: Array.from({ length: 100 }, () => eventInput(appender(keys, i).groupIds)) }, token: appender(keys, i).token }),
      check: (data) => {
        const receipts = data.recordEvents as Receipt[];
        ids.add(receipts);
        return receipts.length;
      },
    }),
  );
  server.assertRunning('the batched appends');
  const batched = batchedRun.value;
  rows.push({
    measure: `batched appends, 4 clients × 100-event recordEvents @ ${label}`,
    result: `${int(batched.unitRate)} events/s; per call p50 ${ms(batched.latency.p50)}, p99 ${ms(batched.latency.p99)} (${int(batched.requests)} calls in ${secs(batched.elapsedMs)})${
      batched.errors ? `; **${batched.errors} errors** (${batched.firstError})` : ''
    }; ${batchedRun.cpu}`,
    target: '≥ 20,000 events/s',
    ok: batched.errors === 0 && batched.unitRate >= 20_000,
  });
  rows.push({ measure: `profile: server per batch (debug timings), batched appends @ ${label}`, result: server.profile.take() });

  log(`${label}: single-event appends`);
  let verified = false;
  const singleRun = await measured(server.url, () =>
    runLoad({
      url: server.url,
      stopWhen: server.ended,
      clients: 64,
      seconds: SECONDS,
      maxRequests: 1_000_000,
      request: (i) => ({ query: RECORD_EVENT, variables: { input: eventInput(appender(keys, i).groupIds) }, token: appender(keys, i).token }),
      check: (data) => {
        const r = data.recordEvent as { leafIndex: number; leafHash: string; inclusionProof: { treeSize: number; hashes: string[]; checkpoint: { note: string } } };
        if (!verified) {
          // The receipt is a proof: check the first one with the client library.
          const cp = verifyCheckpoint(r.inclusionProof.checkpoint.note, keys.verifierKey);
          verifyInclusion({ leafHash: hexToBytes(r.leafHash), leafIndex: r.leafIndex, treeSize: cp.treeSize, proof: r.inclusionProof.hashes.map(hexToBytes), rootHash: cp.rootHash });
          verified = true;
        }
      },
    }),
  );
  server.assertRunning('the single-event appends');
  const single = singleRun.value;
  rows.push({
    measure: `single-event recordEvent, 64 clients, latency = time to receipt @ ${label}`,
    result: `${loadCell(single, 'events')}; ${singleRun.cpu}`,
    target: '≥ 3,000/s, p99 ≤ 50 ms',
    ok: single.errors === 0 && single.rate >= 3000 && single.latency.p99 <= 50,
  });
  rows.push({ measure: `profile: server per batch (debug timings), single-event appends @ ${label}`, result: server.profile.take() });
  return { batched, single };
}

// ---- disk ------------------------------------------------------------------------------------------

async function diskRow(storagePath: string, n: number, label: string): Promise<Row> {
  if (ADAPTER === 'sqlite') {
    const [db, wal, shm] = await Promise.all([pathBytes(storagePath), pathBytes(`${storagePath}-wal`), pathBytes(`${storagePath}-shm`)]);
    return {
      measure: `bytes on disk per event @ ${label}`,
      result: `${int((db + wal) / n)} bytes/event: ledger.db ${int(db / MB)} MB + WAL ${int(wal / MB)} MB (+ shm ${int(shm / MB)} MB) for ${int(n)} events`,
    };
  }
  const total = await pathBytes(storagePath);
  return { measure: `bytes on disk per event @ ${label}`, result: `${int(total / n)} bytes/event: FerretDB data folder ${int(total / MB)} MB for ${int(n)} events` };
}

// ---- verify-db -------------------------------------------------------------------------------------

async function verifyDbRows(env: NodeJS.ProcessEnv, label: string): Promise<Row[]> {
  log(`verify-db on the log @ ${label} (server stopped)`);
  const run = await runCli(['verify-db'], env, 4 * 3600_000);
  const out = run.stdout;
  const rate = Number(/\(([\d,]+) leaves\/s\)/.exec(out)?.[1]?.replace(/,/g, '') ?? NaN);
  const seconds = Number(/time\s+([\d.]+) s/.exec(out)?.[1] ?? NaN);
  const leaves = Number(/leaves\s+(\d+)/.exec(out)?.[1] ?? NaN);
  const intact = run.code === 0 && /: INTACT/.test(out);
  const busy = run.cpuSeconds / (run.wallMs / 1000);
  return [
    {
      measure: `verify-db (CLI, server stopped) @ ${label}`,
      result: intact
        ? `${int(rate)} leaves/s: ${int(leaves)} leaves in ${seconds.toFixed(1)} s (the check; ${secs(run.wallMs)} with process start); INTACT; peak RSS ${int(run.peakRssBytes / MB)} MB`
        : `**failed** (exit ${run.code}): ${out.trim().split('\n').slice(0, 6).join(' / ')} ${errorLine(run.stderr)}`,
      target: '≥ 150,000 leaves/s',
      ok: intact && rate >= 150_000,
    },
    {
      measure: 'verify-db: cores used / scaling',
      result:
        `${busy.toFixed(2)} cores busy on average (CPU ${run.cpuSeconds.toFixed(1)} s over ${secs(run.wallMs)} wall, ` +
        `${((run.cpuSeconds * 1e6) / Math.max(1, rate * (run.wallMs / 1000))).toFixed(1)} µs CPU per leaf): ` +
        (ADAPTER === 'sqlite'
          ? `${os.availableParallelism()} worker threads each read ranges of the SQLite file on their own connection and re-derive the leaves; the main thread builds the tree (verify-db --workers, default one per core): it scales with the cores until the tree on one thread is the limit`
          : `the main thread reads the cursor and builds the tree, ${os.availableParallelism()} worker threads re-derive the leaves`),
    },
  ];
}

// ---- Tessera -----------------------------------------------------------------------------------------

/** What this script reads from scripts/bench-tessera.ts's result (checked at run time). */
interface TesseraFigures {
  readonly appendsPerSecond: number;
  readonly loadSeconds: number;
  readonly treeSize: number;
  readonly timeToIntegrate: { readonly samples: number; readonly p50Ms: number; readonly p99Ms: number };
  readonly tesseraVersion?: string;
  readonly hammerArgs?: readonly string[];
  readonly serverCores?: number;
  readonly serverRssEndMiB?: number;
}
type RunTessera = (options: { seconds?: number; log?: (line: string) => void }) => Promise<unknown>;

/**
 * TESSERA HOOK: scripts/bench-tessera.ts (another engineer's) exports `runTesseraBench(options)`.
 * Loaded at run time so that this script still compiles and runs without it.
 */
async function loadTessera(): Promise<RunTessera | undefined> {
  if (!existsSync(TESSERA_FILE)) return undefined;
  const specifier: string = TESSERA_FILE;
  const mod = (await import(specifier)) as { runTesseraBench?: unknown };
  return typeof mod.runTesseraBench === 'function' ? (mod.runTesseraBench as RunTessera) : undefined;
}

function isTesseraFigures(v: unknown): v is TesseraFigures {
  const r = v as TesseraFigures | undefined;
  return typeof r?.appendsPerSecond === 'number' && typeof r.timeToIntegrate?.p50Ms === 'number' && typeof r.timeToIntegrate.p99Ms === 'number';
}

async function tesseraRows(results: readonly SizeResult[]): Promise<Row[]> {
  const run = await loadTessera();
  if (!run) {
    return [{ measure: 'Tessera (Go), side by side', result: 'not run: scripts/bench-tessera.ts exporting runTesseraBench(options) is not present (TESSERA HOOK in bench-ledger.ts)' }];
  }
  log(`Tessera: ${TESSERA_SECONDS} s of load (our server and database are stopped)`);
  const t = await run({ seconds: TESSERA_SECONDS, log: (line) => log(`tessera: ${line}`) });
  if (!isTesseraFigures(t)) return [{ measure: 'Tessera (Go), side by side', result: 'runTesseraBench returned no appendsPerSecond / timeToIntegrate: not compared' }];
  const writers = t.hammerArgs?.find((a) => a.startsWith('--num_writers='))?.split('=')[1] ?? '?';
  const ratio = (ours: number, theirs: number): string => (theirs > 0 && Number.isFinite(ours) ? `${(ours / theirs).toFixed(2)}×` : 'n/a');
  const perSize = (f: (r: SizeResult) => string): string => results.map((r) => `${f(r)} @ ${r.label}`).join(', ');
  return [
    {
      measure: `Tessera ${t.tesseraVersion ?? ''} (Go, POSIX storage, same machine): appends/s, ${writers} writers × 1 entry/request`.replace('  ', ' '),
      result:
        `${int(t.appendsPerSecond)}/s over ${t.loadSeconds.toFixed(0)} s (log grew to ${int(t.treeSize)}${t.serverCores !== undefined ? `; server ${t.serverCores.toFixed(2)} cores` : ''}). ` +
        `Ours ÷ Tessera: batched ${perSize((r) => ratio(r.batched.unitRate, t.appendsPerSecond))}; single-event ${perSize((r) => ratio(r.single.rate, t.appendsPerSecond))}`,
    },
    {
      measure: 'Tessera time to integrate (POST /add → served checkpoint covers it) vs ours (recordEvent → receipt with signed checkpoint)',
      result:
        `Tessera p50 ${ms(t.timeToIntegrate.p50Ms)}, p99 ${ms(t.timeToIntegrate.p99Ms)} (${t.timeToIntegrate.samples} probes). ` +
        `Ours ÷ Tessera: p50 ${perSize((r) => ratio(r.single.latency.p50, t.timeToIntegrate.p50Ms))}; p99 ${perSize((r) => ratio(r.single.latency.p99, t.timeToIntegrate.p99Ms))}`,
    },
  ];
}

// ---- main ----------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const rows = loggedRows();
  const startedAt = new Date();
  const loadAtStart = os.loadavg();
  const dataDir = await makeTempDir('bench-ledger-');
  const env = benchServerEnv(dataDir, await freeLoopbackPort());
  // The RSS rows read the main thread's heap from /metrics near each peak.
  env.LEDGER_METRICS = 'on';

  let engine: EmbeddedEngine | undefined;
  let stopEngine = async (): Promise<void> => undefined;
  let storagePath: string;
  if (ADAPTER === 'mongodb') {
    const engineDir = path.join(dataDir, 'engine');
    log('starting the FerretDB test engine');
    const started = await startEmbeddedEngine({ dataDir: engineDir, cacheDir: engineCacheDir(), onProgress: (l) => log(`engine: ${l}`) });
    engine = started;
    let stopped = false;
    const removeCleanup = onCleanup(() => stopEngine());
    stopEngine = async () => {
      if (stopped) return;
      stopped = true;
      removeCleanup();
      await started.stop();
    };
    env.MONGODB_URI = engine.uri;
    env.LEDGER_DB_NAME = 'audit_ledger_bench';
    storagePath = path.join(engineDir, 'db');
  } else {
    storagePath = sqliteFile(dataDir);
  }

  log(`starting the server (${ADAPTER})`);
  const server = await startServer(env);
  pids = { server: server.pid, ...(engine && { engine: engine.pid }) };
  const keys = await setUp(server, env);
  const ids = new IdSample(20_000);
  rows.push({ measure: 'server RSS, empty log', result: `${int((await procMemory(server.pid, 'VmRSS')) / MB)} MB` });

  const results: SizeResult[] = [];
  /** Every size measured, with or without appends (--no-appends leaves `results` empty). */
  const sized: { size: number; label: string; maxRss: number }[] = [];
  let fillMs = 0;
  for (const target of SIZES) {
    const fillWatch = new RssWatch(server.pid);
    server.profile.take();
    log(`filling to ${int(target)} events`);
    const { value: fill, cpu: fillCpu } = await measured(server.url, () => fillTo(server, keys, ids, target));
    await fillWatch.stop();
    fillMs += fill.ms;
    const n = await treeSize(server.url);
    const label = sizeLabel(target);
    rows.push({
      measure: `fill ${int(fill.from)} → ${int(fill.to)} (${FILL_CLIENTS} clients × ${FILL_BATCH}-event recordEvents)`,
      result:
        `${secs(fill.ms)} at ${int(((fill.to - fill.from) * 1000) / fill.ms)} events/s${fill.errors ? `; **${fill.errors} failed batches**` : ''}` +
        `${fill.to < target ? `; **stopped short of ${int(target)}** (--fill-max-minutes ${FILL_MAX_MINUTES})` : ''}; server peak RSS during fill ${int(fillWatch.max / MB)} MB; ${fillCpu}`,
    });
    rows.push({ measure: `profile: server per batch (debug timings), fill to ${label}`, result: server.profile.take() });

    const watch = new RssWatch(server.pid, server.url);
    await measureReads(server, keys, ids, n, label, rows);
    const disk = await diskRow(storagePath, await treeSize(server.url), label);
    const appends = APPENDS ? await measureAppends(server, keys, ids, label, rows) : undefined;
    const maxRss = await watch.stop();
    await sleep(1000);
    const rest = await procMemory(server.pid, 'VmRSS');
    const hwm = await procMemory(server.pid, 'VmHWM');
    rows.push({
      measure: `server RSS @ ${label}`,
      result: `max ${int(maxRss / MB)} MB during the reads and appends at this size, ${int(rest / MB)} MB at rest after; peak since start (VmHWM) ${int(hwm / MB)} MB${heapCell(watch.heapAtMax)}`,
      target: '≤ 300 MB',
      ok: maxRss <= 300 * MB,
    });
    rows.push(disk);
    sized.push({ size: n, label, maxRss });
    if (appends) results.push({ size: n, label, ...appends, maxRss });
  }
  const largest = sized.at(-1)!;
  if (sized.length > 1) {
    const first = sized[0]!;
    const growth = (largest.maxRss - first.maxRss) / first.maxRss;
    rows.push({
      measure: `server RSS vs log size, ${first.label} → ${largest.label}`,
      result: `${int(first.maxRss / MB)} MB → ${int(largest.maxRss / MB)} MB (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)}%) for ${(largest.size / first.size).toFixed(1)}× the events`,
      target: 'flat (≤ +20%)',
      ok: growth <= 0.2,
    });
  }
  rows.push({ measure: `time to fill 0 → ${largest.label} (sum of the fills above)`, result: secs(fillMs) });

  await server.stop();
  rows.push(...(await verifyDbRows(env, largest.label)));
  if (engine) rows.push({ measure: 'FerretDB engine RSS at the end', result: `${int((await procMemory(engine.pid, 'VmRSS')) / MB)} MB` });
  await stopEngine();

  const comparison = COMPARE_MONGODB > 0 ? await mongodbComparison(rows, sizeLabel(COMPARE_MONGODB)) : undefined;

  if (TESSERA) rows.push(...(await tesseraRows(results)));
  else rows.push({ measure: 'Tessera (Go), side by side', result: existsSync(TESSERA_FILE) ? 'not run (--no-tessera)' : 'not run: scripts/bench-tessera.ts is not present (TESSERA HOOK)' });

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const load = (l: number[]): string => l.map((x) => x.toFixed(1)).join(' ');
  process.stdout.write(
    [
      '',
      `bench-ledger: adapter ${ADAPTER}${ADAPTER === 'mongodb' ? ' (FerretDB v1.24.2 test engine, SQLite backend)' : ' (one SQLite file, WAL, synchronous=FULL)'}, ` +
        `GraphQL over HTTP, one server process; Node ${process.version}, ${os.cpus().length} cores (${cpu}), ${int(os.totalmem() / MB)} MB RAM; ` +
        `bench client on the same machine; sizes ${SIZES.map(sizeLabel).join(', ')}; --seconds ${SECONDS}, reads ${READ_SECONDS} s each at ${READ_CLIENTS.join(' and ')} clients; started ${startedAt.toISOString()}; load average ${load(loadAtStart)} at start, ${load(os.loadavg())} at the end`,
      '',
      markdownTable(rows),
      '',
      ...(comparison ? [comparison, ''] : []),
    ].join('\n'),
  );
  if (ROWS_JSON) await writeFile(ROWS_JSON, JSON.stringify(rows));
}

// ---- the mongodb adapter side by side ------------------------------------------------------------------

/**
 * Runs this script on the mongodb adapter at one size (a child process, so it starts from a
 * fresh engine and server exactly as a run of its own), and sets its rows beside ours.
 */
async function mongodbComparison(ours: readonly Row[], label: string): Promise<string> {
  const file = path.join(await makeTempDir('bench-ledger-mongodb-'), 'rows.json');
  const childArgs = ['--adapter', 'mongodb', '--sizes', String(COMPARE_MONGODB), '--no-tessera', '--seconds', String(SECONDS), '--read-seconds', String(READ_SECONDS), '--rows-json', file];
  log(`running the same benchmark on the mongodb adapter at ${label} (child process)`);
  const child = track(
    // Not process.execArgv: under ts-node it holds ts-node's own bin, which would run as the script.
    spawn(process.execPath, [require.resolve('ts-node/dist/bin'), '--transpile-only', __filename, ...childArgs], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: process.env,
    }),
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  let theirs: Row[];
  try {
    theirs = JSON.parse(await readFile(file, 'utf8')) as Row[];
  } catch {
    return `mongodb adapter at ${label}: **the run failed** (exit ${code}); its log is above`;
  }
  const mine = new Map(ours.map((r) => [r.measure, r]));
  const cells = theirs
    .filter((r) => mine.has(r.measure) && !r.measure.startsWith('profile:'))
    .map((r) => {
      const sqlite = mine.get(r.measure)!;
      return [r.measure, sqlite.result, r.result, ratioOf(r.result, sqlite.result)];
    });
  const header = ['measure', 'sqlite', 'mongodb (FerretDB v1.24.2 test engine)', 'mongodb ÷ sqlite'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: readonly string[]): string => `| ${row.map((cell, c) => cell.replace(/\|/g, '\\|').padEnd(widths[c]!)).join(' | ')} |`;
  return [
    `Side by side at ${label}, same run (the mongodb child exited ${code}; its other rows are in its log above):`,
    '',
    line(header),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}

/** Throughput (first "N x/s") and p99 of the first client count, as mongodb ÷ sqlite; blank where neither reads. */
function ratioOf(mongodb: string, sqlite: string): string {
  const rate = (s: string): number | undefined => {
    const m = /^(?:\d+ clients?: )?([\d,.]+) [\w-]+\/s/.exec(s);
    return m ? Number(m[1]!.replace(/,/g, '')) : undefined;
  };
  const p99 = (s: string): number | undefined => {
    const m = /p99 ([\d,.]+) (ms|s)\b/.exec(s);
    return m ? Number(m[1]!.replace(/,/g, '')) * (m[2] === 's' ? 1000 : 1) : undefined;
  };
  const parts: string[] = [];
  const [rm, rs] = [rate(mongodb), rate(sqlite)];
  if (rm !== undefined && rs) parts.push(`${(rm / rs).toFixed(rm / rs < 0.1 ? 4 : 2)}× the rate`);
  const [pm, ps] = [p99(mongodb), p99(sqlite)];
  if (pm !== undefined && ps) parts.push(`${(pm / ps).toFixed(1)}× the p99`);
  return parts.join('; ');
}

runMain(main);
