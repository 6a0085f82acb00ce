/**
 * Shared pieces of the benchmark scripts (bench-ledger.ts, bench-verify-db.ts): child
 * processes that are always stopped, the server process with its per-batch profile, a
 * GraphQL client, a bounded closed-loop HTTP load generator with exact latencies, process
 * and disk measurements, and the one markdown table each script prints.
 *
 * Every child process and temporary folder is registered here and released on normal exit,
 * on error, and on SIGINT/SIGTERM (then the signal takes its default course).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freeLoopbackPort } from '../src/storage/mongodb/engine/embeddedEngine';

export const ROOT = path.resolve(__dirname, '..');
export const BIN = path.join(ROOT, 'bin', 'audit-ledger.js');
const CLOCK_TICKS = 100; // USER_HZ on Linux

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

// ---- lifecycle: children, temp folders, cleanup steps ------------------------------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const cleanups: Array<() => Promise<void>> = [];
let signalled = false;

export function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A cleanup step run (last registered first) by `cleanUp()` and on SIGINT/SIGTERM. */
export function onCleanup(step: () => Promise<void>): () => void {
  cleanups.push(step);
  return () => {
    const i = cleanups.indexOf(step);
    if (i >= 0) cleanups.splice(i, 1);
  };
}

export async function makeTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after graceMs. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 15_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** Runs the cleanup steps, stops every child still running, removes the temp folders. */
export async function cleanUp(): Promise<void> {
  while (cleanups.length > 0) {
    const step = cleanups.pop()!;
    await step().catch((err: unknown) => log(`cleanup step failed: ${(err as Error).message}`));
  }
  await Promise.all([...children].map((c) => stopChild(c, 5000)));
  for (const dir of tempDirs) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    tempDirs.delete(dir);
  }
}

/** Installs the SIGINT/SIGTERM and exit handlers (once). */
export function installCleanupHandlers(): void {
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) return;
    signalled = true;
    log(`${signal}: stopping`);
    // Bounded: a hung cleanup step must not keep the process alive.
    const hard = setTimeout(() => {
      killAllNow();
      process.exit(130);
    }, 30_000);
    hard.unref();
    void cleanUp().finally(() => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.kill(process.pid, signal);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => {
    killAllNow();
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

/** Runs `main`, prints its error, always cleans up, sets the exit code. */
export function runMain(main: () => Promise<void>): void {
  installCleanupHandlers();
  main()
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    })
    .finally(() => cleanUp());
}

// ---- command line -------------------------------------------------------------------------

export class Args {
  private readonly argv: readonly string[];
  constructor(argv: readonly string[] = process.argv.slice(2)) {
    this.argv = argv;
  }

  string(name: string, fallback: string): string {
    const i = this.argv.indexOf(`--${name}`);
    if (i < 0) return fallback;
    const value = this.argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
    return value;
  }

  number(name: string, fallback: number): number {
    const raw = this.string(name, String(fallback)).replace(/_/g, '');
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number (got ${raw})`);
    return value;
  }

  list(name: string, fallback: readonly number[]): number[] {
    const raw = this.string(name, fallback.join(','));
    const values = raw.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
    if (values.some((v) => !Number.isSafeInteger(v) || v <= 0)) throw new Error(`--${name} must be positive integers, comma-separated (got ${raw})`);
    return values;
  }

  /** `--name` / `--no-name`; the last one given wins. */
  flag(name: string, fallback: boolean): boolean {
    let value = fallback;
    for (const a of this.argv) {
      if (a === `--${name}`) value = true;
      else if (a === `--no-${name}`) value = false;
    }
    return value;
  }
}

// ---- numbers and the table ------------------------------------------------------------------

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export function summarize(values: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(values).sort();
  const n = sorted.length;
  if (n === 0) return { count: 0, p50: NaN, p99: NaN, max: NaN, mean: NaN };
  // Nearest rank: the smallest value with at least q of the samples at or below it.
  const at = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: n, p50: at(0.5), p99: at(0.99), max: sorted[n - 1]!, mean: sum / n };
}

export const int = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
export const ms = (n: number): string => (!Number.isFinite(n) ? 'n/a' : n < 10 ? `${n.toFixed(2)} ms` : n < 100 ? `${n.toFixed(1)} ms` : `${int(n)} ms`);
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
export const secs = (msValue: number): string => (msValue < 100_000 ? `${(msValue / 1000).toFixed(1)} s` : `${(msValue / 60_000).toFixed(1)} min`);
export const sizeLabel = (n: number): string => {
  const exp = Math.log10(n);
  return Number.isInteger(exp) && exp >= 3 ? `10^${exp}` : int(n);
};

export interface Row {
  readonly measure: string;
  readonly result: string;
  /** Empty for context rows. */
  readonly target?: string;
  /** Whether the target was met (shown in the target cell). */
  readonly ok?: boolean;
}

/** A row list that also logs each row to stderr as it is added, so a run cut short still shows what it measured. */
export function loggedRows(): Row[] {
  const rows: Row[] = [];
  const push = rows.push.bind(rows);
  rows.push = (...added: Row[]): number => {
    for (const r of added) log(`row: ${r.measure} | ${r.result}${r.target ? ` | ${r.target}${r.ok === undefined ? '' : r.ok ? ': met' : ': MISSED'}` : ''}`);
    return push(...added);
  };
  return rows;
}

export function markdownTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => [r.measure, r.result, r.target ? (r.ok === undefined ? r.target : `${r.target}: ${r.ok ? 'met' : '**MISSED**'}`) : '']);
  const header = ['measure', 'result', 'target'];
  const widths = header.map((h, c) => Math.max(h.length, ...cells.map((r) => r[c]!.length)));
  const line = (r: readonly string[]): string => `| ${r.map((cell, c) => cell.replace(/\|/g, '\\|').padEnd(widths[c]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}

// ---- processes, memory, disk ----------------------------------------------------------------

export { freeLoopbackPort };

/** A field of /proc/<pid>/status in bytes (VmRSS: resident now; VmHWM: peak resident). 0 if gone. */
export async function procMemory(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system, all threads) a process has used so far; undefined once it is gone. */
export async function cpuSeconds(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU seconds of the whole machine so far, from /proc/stat. */
export async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: (total - v[3]! - v[4]!) / CLOCK_TICKS, total: total / CLOCK_TICKS };
}

export interface CpuShare {
  /** Cores busy on average: the server process, the database engine process (if any), this script, the whole machine. */
  readonly server: number;
  readonly engine: number | undefined;
  readonly client: number;
  readonly machine: number;
}

/** Runs `work`, measuring the cores the server, the engine, this process and the machine kept busy. */
export async function withCpu<T>(pids: number | { readonly server: number; readonly engine?: number | undefined }, work: () => Promise<T>): Promise<{ value: T; cpu: CpuShare }> {
  const { server, engine } = typeof pids === 'number' ? { server: pids, engine: undefined } : pids;
  const server0 = (await cpuSeconds(server)) ?? 0;
  const engine0 = engine === undefined ? 0 : ((await cpuSeconds(engine)) ?? 0);
  const machine0 = await machineCpu();
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await work();
  const seconds = (performance.now() - t0) / 1000;
  const server1 = (await cpuSeconds(server)) ?? server0;
  const engine1 = engine === undefined ? 0 : ((await cpuSeconds(engine)) ?? engine0);
  const machine1 = await machineCpu();
  const client = process.cpuUsage(client0);
  return {
    value,
    cpu: {
      server: (server1 - server0) / seconds,
      engine: engine === undefined ? undefined : (engine1 - engine0) / seconds,
      client: (client.user + client.system) / 1e6 / seconds,
      machine: ((machine1.busy - machine0.busy) / Math.max(1e-9, machine1.total - machine0.total)) * os.cpus().length,
    },
  };
}

/** `CPU cores: server 0.90, bench client 0.40, other processes 0.20 (of 2)`. */
export function cpuCell(c: CpuShare): string {
  const others = Math.max(0, c.machine - c.server - (c.engine ?? 0) - c.client);
  const engine = c.engine === undefined ? '' : `, FerretDB ${c.engine.toFixed(2)}`;
  return `CPU cores: server ${c.server.toFixed(2)}${engine}, bench client ${c.client.toFixed(2)}, other processes ${others.toFixed(2)} (of ${os.cpus().length})`;
}

/** For work measured with withCpu(process.pid, …): this process, and everything else on the machine. */
export function ownCpuCell(c: CpuShare): string {
  return `CPU cores: this process ${c.client.toFixed(2)}, other processes ${Math.max(0, c.machine - c.client).toFixed(2)} (of ${os.cpus().length})`;
}

/** Bytes in a file, or in every file under a folder. */
export async function pathBytes(p: string): Promise<number> {
  let st;
  try {
    st = await lstat(p);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of await readdir(p)) total += await pathBytes(path.join(p, entry));
  return total;
}

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly wallMs: number;
  /** CPU seconds of the process (sampled every 100 ms, so up to 0.1 s short). */
  readonly cpuSeconds: number;
  readonly peakRssBytes: number;
}

/** Runs `node bin/audit-ledger.js <args>`, bounded by timeoutMs, with CPU and peak memory sampled. */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<CliRun> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const started = performance.now();
  const child = track(spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-64_000)));
  let cpu = 0;
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      cpu = (await cpuSeconds(child.pid!)) ?? cpu;
      peak = Math.max(peak, await procMemory(child.pid!, 'VmHWM'));
      await sleep(100);
    }
  })();
  const timer = setTimeout(() => void stopChild(child, 5000), timeoutMs);
  const code = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (c) => resolve(c));
  });
  clearTimeout(timer);
  running = false;
  await sampler;
  return { code, stdout, stderr, wallMs: performance.now() - started, cpuSeconds: cpu, peakRssBytes: peak };
}

/** The line of a failed command's stderr that says what went wrong (an error message), else its last line. */
export function errorLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  return (lines.find((l) => /error|failed|cannot|refus/i.test(l) && !/^\s+at /.test(l)) ?? lines.at(-1) ?? '').trim().slice(0, 400);
}

// ---- the server process ---------------------------------------------------------------------

/** Sums of the server's per-batch debug timings (`batch committed`). */
export class BatchProfile {
  batches = 0;
  events = 0;
  pendingMs = 0;
  insertMs = 0;
  treeMs = 0;

  add(rec: { batch?: unknown; pendingMs?: unknown; insertMs?: unknown; treeAndCheckpointMs?: unknown }): void {
    if (typeof rec.batch !== 'number') return;
    this.batches += 1;
    this.events += rec.batch;
    this.pendingMs += Number(rec.pendingMs) || 0;
    this.insertMs += Number(rec.insertMs) || 0;
    this.treeMs += Number(rec.treeAndCheckpointMs) || 0;
  }

  /** The mean per batch since the last call, as a table cell; resets the sums. */
  take(): string {
    const n = Math.max(1, this.batches);
    const total = (this.pendingMs + this.insertMs + this.treeMs) / n;
    const text =
      this.batches === 0
        ? 'no batches'
        : `${int(this.batches)} batches, mean ${int(this.events / n)} events: mark pending ${ms(this.pendingMs / n)}, insert ${ms(this.insertMs / n)}, ` +
          `tiles+checkpoint+head ${ms(this.treeMs / n)} (sum ${ms(total)}; ${int((this.events / Math.max(1e-9, this.pendingMs + this.insertMs + this.treeMs)) * 1000)} events/s of commit time)`;
    this.batches = this.events = this.pendingMs = this.insertMs = this.treeMs = 0;
    return text;
  }
}

export interface ServerProcess {
  readonly pid: number;
  readonly url: string;
  readonly profile: BatchProfile;
  /** The last lines the server wrote to stderr. */
  tail(): string;
  /** Undefined while the server runs; else how it ended (`exited with code 1`, `killed by SIGKILL`). */
  ended(): string | undefined;
  /** Throws if the server is no longer running (it crashed, or something outside killed it). */
  assertRunning(during: string): void;
  stop(): Promise<void>;
}

/**
 * Extra Node flags for the server under test, from BENCH_SERVER_NODE_ARGS (space-separated),
 * e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` for a profile (Node refuses these in NODE_OPTIONS).
 */
function serverNodeArgs(): string[] {
  return (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

/**
 * The environment of a benchmark's server on its own data folder and port: production mode,
 * reads not recorded (each would be an append), proofs public, rate limits out of the way of
 * the load, no retention job in the middle of a run, debug logs (the batch timings); and the
 * defaults for everything else (SQLite, no encryption at rest, no TLS, a fresh signing key),
 * whatever the calling shell sets.
 */
export function benchServerEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    LEDGER_DATA_DIR: dataDir,
    LEDGER_RECORD_READS: 'false',
    LEDGER_PUBLIC_PROOFS: 'true',
    LEDGER_RATE_LIMIT_ANONYMOUS: '1000000/1000000',
    LEDGER_RATE_LIMIT_PER_KEY: '1000000/1000000',
    LEDGER_RETENTION_INTERVAL_MS: '0',
    LOG_LEVEL: 'debug',
  };
  for (const name of ['MONGODB_URI', 'LEDGER_DB_NAME', 'LEDGER_SIGNING_KEY_FILE', 'LEDGER_ORIGIN', 'LEDGER_ENCRYPTION', 'LEDGER_KEK', 'LEDGER_KEK_FILE', 'LEDGER_TLS_CERT_FILE', 'LEDGER_TLS_KEY_FILE']) {
    delete env[name];
  }
  return env;
}

/**
 * Starts `node bin/audit-ledger.js serve` with `env` (PORT must be set) and waits for /healthz.
 * Warnings and errors the server logs are echoed to our stderr; `batch committed` debug lines
 * feed the profile.
 */
export async function startServer(env: NodeJS.ProcessEnv, timeoutMs = 120_000): Promise<ServerProcess> {
  if (!existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const child = track(spawn(process.execPath, [...serverNodeArgs(), BIN, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] }));
  const url = `http://127.0.0.1:${env.PORT}`;
  const profile = new BatchProfile();
  const lines: string[] = [];
  let partial = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    const split = partial.split('\n');
    partial = split.pop() ?? '';
    for (const line of split) {
      if (line.includes('"msg":"batch committed"')) {
        try {
          profile.add(JSON.parse(line) as Record<string, unknown>);
        } catch {
          /* a line we cannot read is no timing */
        }
        continue;
      }
      lines.push(line);
      if (lines.length > 40) lines.shift();
      if (/"level":(40|50|60)/.test(line)) process.stderr.write(`[server] ${line.slice(0, 2000)}\n`);
    }
  });
  const stop = async (): Promise<void> => {
    await stopChild(child, 30_000);
  };
  const removeCleanup = onCleanup(stop);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server exited at start (code ${child.exitCode}):\n${lines.join('\n')}`);
    try {
      if ((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })).status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(`the server did not become healthy within ${timeoutMs / 1000} s:\n${lines.join('\n')}`);
    }
    await sleep(100);
  }
  let stopping = false;
  const ended = (): string | undefined => {
    if (child.signalCode !== null) return `was killed by ${child.signalCode}${stopping ? ' (stopped by us)' : ''}`;
    if (child.exitCode !== null) return `exited with code ${child.exitCode}${stopping ? ' (stopped by us)' : ''}`;
    return undefined;
  };
  return {
    pid: child.pid!,
    url,
    profile,
    tail: () => lines.join('\n'),
    ended,
    assertRunning: (during: string) => {
      const how = ended();
      if (how !== undefined) throw new Error(`the server process ${child.pid} ${how} during ${during}; its last lines:\n${lines.slice(-10).join('\n')}`);
    },
    stop: async () => {
      stopping = true;
      removeCleanup();
      await stop();
    },
  };
}

// ---- GraphQL ----------------------------------------------------------------------------------

export class GraphQLError extends Error {
  override readonly name = 'GraphQLError';
}

export async function gql<T = Record<string, unknown>>(url: string, token: string | undefined, query: string, variables: object = {}, timeoutMs = 120_000): Promise<T> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let body: { data?: T; errors?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    throw new GraphQLError(`HTTP ${res.status}: ${text.slice(0, 500)}`);
  }
  if (body.errors || !body.data) throw new GraphQLError(`HTTP ${res.status}: ${JSON.stringify(body.errors).slice(0, 1000)}`);
  return body.data;
}

// ---- load: closed-loop clients, exact latencies ------------------------------------------------

export interface LoadRequest {
  readonly query: string;
  readonly variables?: object;
  readonly token?: string;
}

export interface LoadOptions {
  /** Base URL of the server. */
  readonly url: string;
  /** Clients, each with one request in flight at a time. */
  readonly clients: number;
  /** Stop issuing after this long… */
  readonly seconds: number;
  /** …or after this many requests, whichever comes first. */
  readonly maxRequests: number;
  /** Per-request timeout. */
  readonly timeoutMs?: number;
  /** The i-th request (0-based, across all clients). */
  request(i: number): LoadRequest;
  /** Checked before every request: a reason to stop now (the server is gone, say), or undefined. */
  stopWhen?(): string | undefined;
  /** Checks a successful answer's `data` (throw: counted as an error); `units` it stands for (events, say). */
  check?(data: Record<string, unknown>, i: number): number | void;
}

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly firstError: string | undefined;
  /** Why the load stopped early (from `stopWhen`), if it did. */
  readonly stopped: string | undefined;
  /** Units done by successful requests (1 per request unless `check` says otherwise). */
  readonly units: number;
  readonly elapsedMs: number;
  readonly latency: LatencySummary;
  /** Successful requests per second. */
  readonly rate: number;
  /** Units per second. */
  readonly unitRate: number;
}

function post(agent: http.Agent, target: URL, body: string, token: string | undefined, timeoutMs: number): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: '/graphql',
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(token && { authorization: `Bearer ${token}` }),
        },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Closed-loop load: `clients` loops, each sending its next request when the previous one is
 * answered, over keep-alive connections, until `seconds` pass or `maxRequests` were sent.
 * Latency is from the request being written to its last byte, per request, exactly.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.clients });
  const target = new URL(options.url);
  const latencies = new Float64Array(Math.min(options.maxRequests, 5_000_000));
  let recorded = 0;
  let issued = 0;
  let errors = 0;
  let units = 0;
  let firstError: string | undefined;
  let stopped: string | undefined;
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const fail = (why: string): void => {
    errors++;
    firstError ??= why.slice(0, 500);
  };
  try {
    await Promise.all(
      Array.from({ length: options.clients }, async () => {
        while (issued < options.maxRequests && performance.now() < deadline) {
          stopped ??= options.stopWhen?.();
          if (stopped !== undefined) break;
          const i = issued++;
          const r = options.request(i);
          const body = JSON.stringify({ query: r.query, variables: r.variables ?? {} });
          const t0 = performance.now();
          let answer: { status: number; text: string };
          try {
            answer = await post(agent, target, body, r.token, options.timeoutMs ?? 60_000);
          } catch (err) {
            fail((err as Error).message);
            await sleep(10);
            continue;
          }
          const latency = performance.now() - t0;
          let parsed: { data?: Record<string, unknown>; errors?: unknown };
          try {
            parsed = JSON.parse(answer.text) as typeof parsed;
          } catch {
            fail(`HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
            continue;
          }
          if (answer.status !== 200 || parsed.errors || !parsed.data) {
            fail(`HTTP ${answer.status}: ${JSON.stringify(parsed.errors ?? parsed)}`);
            continue;
          }
          try {
            const u = options.check?.(parsed.data, i);
            units += typeof u === 'number' ? u : 1;
          } catch (err) {
            fail(`wrong answer: ${(err as Error).message}`);
            continue;
          }
          if (recorded < latencies.length) latencies[recorded++] = latency;
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  const elapsedMs = performance.now() - started;
  const ok = issued - errors;
  return {
    requests: issued,
    errors,
    firstError,
    stopped,
    units,
    elapsedMs,
    latency: summarize(latencies.subarray(0, recorded)),
    rate: (ok * 1000) / elapsedMs,
    unitRate: (units * 1000) / elapsedMs,
  };
}

/** `rate/s, p50 …, p99 …` (+ errors), the usual result cell of a load. */
export function loadCell(r: LoadResult, unit = 'req'): string {
  const errors = r.errors > 0 ? `; **${int(r.errors)} errors** (first: ${r.firstError})` : '';
  return `${int(r.unitRate)} ${unit}/s; p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, max ${ms(r.latency.max)} (${int(r.requests)} requests in ${secs(r.elapsedMs)})${errors}`;
}

/** xorshift32: deterministic pseudo-random numbers in [0, 1), so runs are comparable. */
export function randomSource(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

// ---- filling a log ------------------------------------------------------------------------------

export const RECORD_EVENTS = 'mutation($inputs: [EventInput!]!) { recordEvents(inputs: $inputs) { leafIndex eventId } }';

/** The signed tree size (public: no key). */
export async function logTreeSize(url: string): Promise<number> {
  const data = await gql<{ checkpoint: { treeSize: number } }>(url, undefined, '{ checkpoint { treeSize } }');
  return data.checkpoint.treeSize;
}

export interface FillOptions {
  readonly target: number;
  /** Events per `recordEvents` call (at most 10,000). */
  readonly batch: number;
  readonly clients: number;
  readonly maxMinutes: number;
  /** The `count` events of the i-th call, and the APPENDER key that records them. */
  batchOf(i: number, count: number): { readonly inputs: object[]; readonly token: string };
  /** Each call's receipts. */
  onReceipts?(receipts: readonly { readonly leafIndex: number; readonly eventId: string }[]): void;
}

/**
 * Fills the log to `target` events with concurrent `recordEvents` calls over HTTP, as fast as
 * the server takes them, with progress on stderr every 10 s. A batch that fails is not retried
 * in place; a further pass (at most 3 in all) fills what is missing. Bounded by `maxMinutes`.
 */
export async function fillLog(server: ServerProcess, options: FillOptions): Promise<{ from: number; to: number; ms: number; errors: number }> {
  const from = await logTreeSize(server.url);
  const started = performance.now();
  const deadline = started + options.maxMinutes * 60_000;
  const { target, batch } = options;
  let size = from;
  let done = 0;
  let errors = 0;
  let last = { t: started, done: 0 };
  const progress = setInterval(() => {
    void (async () => {
      const now = performance.now();
      const recent = ((done - last.done) * 1000) / (now - last.t);
      const average = (done * 1000) / (now - started);
      const left = target - from - done;
      last = { t: now, done };
      log(
        `fill: ${int(from + done)} / ${int(target)} events (${(((from + done) / target) * 100).toFixed(1)}%), ` +
          `${int(recent)} events/s now, ${int(average)} average, ETA ${secs((left / Math.max(1, average)) * 1000)}, server RSS ${int((await procMemory(server.pid, 'VmRSS')) / 1e6)} MB`,
      );
    })();
  }, 10_000);
  try {
    for (let pass = 0; pass < 3 && size < target && performance.now() < deadline; pass++) {
      const need = target - size;
      const result = await runLoad({
        url: server.url,
        stopWhen: server.ended,
        clients: options.clients,
        seconds: (deadline - performance.now()) / 1000,
        maxRequests: Math.ceil(need / batch),
        timeoutMs: 300_000,
        request: (i): LoadRequest => {
          const { inputs, token } = options.batchOf(i, Math.min(batch, need - i * batch));
          return { query: RECORD_EVENTS, variables: { inputs }, token };
        },
        check: (data) => {
          const receipts = data.recordEvents as { leafIndex: number; eventId: string }[];
          options.onReceipts?.(receipts);
          done += receipts.length;
          return receipts.length;
        },
      });
      errors += result.errors;
      if (result.errors > 0) log(`fill: ${result.errors} batches failed (first: ${result.firstError})`);
      server.assertRunning(`the fill to ${int(target)}`);
      size = await logTreeSize(server.url);
    }
  } finally {
    clearInterval(progress);
  }
  return { from, to: size, ms: performance.now() - started, errors };
}

