/**
 * Side-by-side reference: append throughput and time to integrate of Tessera (Go,
 * github.com/transparency-dev/tessera v1.0.4) on this machine, driven by its own load
 * generator. Usage: npm run bench:tessera [-- --seconds 60 --writers 512]
 *
 *  1. Builds, if missing, Tessera's POSIX conformance server (cmd/conformance/posix) and its
 *     load generator, the hammer (internal/hammer), with `go install <pkg>@v1.0.4` from the
 *     Go module proxy into .cache/tessera-v1.0.4/ (git-ignored; nothing is committed).
 *  2. Creates a C2SP/sumdb-note Ed25519 key pair with our own src/checkpoint/signer.ts.
 *  3. Starts the server on a free 127.0.0.1 port, its log in a temp dir, and runs the hammer
 *     headless, write-only (unique leaves, --dup_chance=0) for --seconds (its --max_runtime),
 *     bounded in count too (--leaf_write_goal). The server is Tessera's stock personality:
 *     batches of up to 256 entries or 1 s, a checkpoint published at most every second.
 *  4. Meanwhile this script polls GET /checkpoint every 25 ms (tree size over time) and sends
 *     its own probe appends, 4 a second, through the same POST /add: "time to integrate" is
 *     from a probe's request being sent to the first served signed checkpoint whose size
 *     covers the probe's index. (The hammer computes an integration time too, but shows it
 *     only in its interactive TUI; headless it prints nothing of it.)
 *  5. Stops everything (also on error or SIGINT/SIGTERM) and prints one markdown table.
 *
 * `runTesseraBench(options)` is exported for the main benchmark script.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSignerKey } from '../src/checkpoint/signer';
import { freeLoopbackPort } from '../src/storage/mongodb/engine/embeddedEngine';

export const TESSERA_MODULE = 'github.com/transparency-dev/tessera';
export const TESSERA_VERSION = 'v1.0.4';
export const TESSERA_SERVER_PACKAGE = `${TESSERA_MODULE}/cmd/conformance/posix`;
export const TESSERA_HAMMER_PACKAGE = `${TESSERA_MODULE}/internal/hammer`;

const ROOT = path.resolve(__dirname, '..');
const LOG_ORIGIN = 'bench.local/tessera';
const CHECKPOINT_POLL_MS = 25;
const CLOCK_TICKS = 100; // USER_HZ on Linux

export interface TesseraBenchOptions {
  /** Length of the load phase (the hammer's --max_runtime). Default 60. */
  readonly seconds?: number;
  /** Concurrent hammer writers (--num_writers). Default 512: two of the server's 256-entry batches in flight. */
  readonly writers?: number;
  /** The hammer's write throttle (--max_write_ops), per second: far above what the server takes. Default 50,000. */
  readonly maxWriteOps?: number;
  /** Count bound: the hammer stops once this many leaves are integrated (--leaf_write_goal). Default 5,000,000. */
  readonly leafGoal?: number;
  /** Interval between our own time-to-integrate probes. Default 250 ms. */
  readonly probeIntervalMs?: number;
  /** Where the binaries are built. Default <project>/.cache/tessera-v1.0.4. */
  readonly cacheDir?: string;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
}

export interface TesseraResult {
  readonly tesseraVersion: string;
  readonly goVersion: string;
  readonly serverPackage: string;
  readonly hammerPackage: string;
  readonly serverArgs: readonly string[];
  readonly hammerArgs: readonly string[];
  readonly cores: number;
  /** Wall time of the hammer's load phase, in seconds. */
  readonly loadSeconds: number;
  /** Entries integrated during the run (hammer leaves plus our probes), from the checkpoints. */
  readonly appended: number;
  /** appended / loadSeconds. */
  readonly appendsPerSecond: number;
  /** Rate over the second half of the load phase, from the polled checkpoints. */
  readonly appendsPerSecondSecondHalf: number;
  /** Tree size of the final signed checkpoint, after the load stopped and integration settled. */
  readonly treeSize: number;
  /** The largest tree size the hammer itself reports having verified (its -v=1 log), as a cross-check. */
  readonly hammerLastSeenTreeSize: number;
  /** Probe: POST /add sent → served checkpoint covers its index. */
  readonly timeToIntegrate: LatencySummary;
  /** Probe: POST /add sent → its index returned (Tessera's /add answers once sequenced). */
  readonly timeToSequence: LatencySummary;
  readonly probesFailed: number;
  /** The server's resident set: peak (VmHWM) and at the end of the load. */
  readonly serverRssPeakMiB: number;
  readonly serverRssEndMiB: number;
  /** Average cores busy during the load phase: the server, the hammer, and the whole machine (everything running on it). */
  readonly serverCores: number;
  readonly hammerCores: number;
  readonly machineBusyPercent: number;
  /** Warning lines in the hammer's log (write errors, pushback). */
  readonly hammerWarnings: number;
  readonly hammerExitCode: number | null;
  /** The markdown table that the CLI prints. */
  readonly table: string;
}

// ---- process bookkeeping: every child is stopped on exit, error or signal -----------------

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** For exit and signals: synchronous, so it finishes before the process ends. */
function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
  tempDirs.clear();
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** SIGTERM, then SIGKILL after graceMs. */
async function stop(child: ChildProcess | undefined, graceMs = 5000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited(child);
  clearTimeout(timer);
}

/** While a run is under way, SIGINT/SIGTERM stop our children and then take their default course. */
function installSignalHandlers(): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    killAllNow();
    remove();
    process.kill(process.pid, signal);
  };
  const onExit = (): void => killAllNow();
  const remove = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  return remove;
}

// ---- helpers -------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function goBinary(): string {
  if (process.env.GO) return process.env.GO;
  return existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
}

function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    track(
      execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      }),
    );
  });
}


async function procStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
async function cpuSeconds(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine, from /proc/stat. */
async function machineJiffies(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - v[3]! - v[4]!, total };
}

function summarize(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { samples: 0, p50Ms: NaN, p99Ms: NaN, meanMs: NaN, maxMs: NaN };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  return {
    samples: sorted.length,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    maxMs: sorted[sorted.length - 1]!,
  };
}

/** The tree size line of a served checkpoint (origin, size, root hash, blank line, signatures). */
async function checkpointSize(baseUrl: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${baseUrl}/checkpoint`, { signal: AbortSignal.timeout(2000) });
    if (res.status !== 200) return undefined;
    const lines = (await res.text()).split('\n');
    if (lines[0] !== LOG_ORIGIN || !/^\d+$/.test(lines[1] ?? '')) return undefined;
    return Number(lines[1]);
  } catch {
    return undefined;
  }
}

// ---- build ----------------------------------------------------------------------------------

/** True if binary exists and `go version -m` says it was built from tessera at TESSERA_VERSION. */
async function builtFromVersion(go: string, binary: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!existsSync(binary)) return false;
  try {
    const { stdout } = await run(go, ['version', '-m', binary], env, 30_000);
    return new RegExp(`\\bmod\\s+${TESSERA_MODULE.replace(/[./]/g, '\\$&')}\\s+${TESSERA_VERSION.replace(/\./g, '\\.')}\\b`).test(stdout);
  } catch {
    return false;
  }
}

/** Builds the server and the hammer into cacheDir if missing; returns their paths and the Go version. */
export async function ensureTesseraBinaries(
  cacheDir: string,
  log: (line: string) => void,
): Promise<{ server: string; hammer: string; goVersion: string; builtSeconds: number }> {
  const go = goBinary();
  const env: NodeJS.ProcessEnv = { ...process.env, GOBIN: cacheDir, GOTOOLCHAIN: 'local' };
  const goVersion = (await run(go, ['version'], env, 30_000)).stdout.trim();
  await mkdir(cacheDir, { recursive: true });
  const server = path.join(cacheDir, 'posix');
  const hammer = path.join(cacheDir, 'hammer');
  let builtSeconds = 0;
  for (const [binary, pkg] of [
    [server, TESSERA_SERVER_PACKAGE],
    [hammer, TESSERA_HAMMER_PACKAGE],
  ] as const) {
    if (await builtFromVersion(go, binary, env)) {
      log(`using ${path.relative(ROOT, binary)} (${pkg}@${TESSERA_VERSION})`);
      continue;
    }
    log(`building ${pkg}@${TESSERA_VERSION} into ${path.relative(ROOT, cacheDir)}/ (GOBIN=${cacheDir} ${go} install ${pkg}@${TESSERA_VERSION}); the first build takes a few minutes`);
    const started = Date.now();
    await run(go, ['install', `${pkg}@${TESSERA_VERSION}`], env, 20 * 60_000);
    const seconds = (Date.now() - started) / 1000;
    builtSeconds += seconds;
    log(`built ${path.relative(ROOT, binary)} in ${seconds.toFixed(0)} s`);
    if (!(await builtFromVersion(go, binary, env))) throw new Error(`${binary} was not built from ${TESSERA_MODULE}@${TESSERA_VERSION}`);
  }
  return { server, hammer, goVersion, builtSeconds };
}

// ---- the run --------------------------------------------------------------------------------

export async function runTesseraBench(options: TesseraBenchOptions = {}): Promise<TesseraResult> {
  const num = (value: number | undefined, fallback: number, min: number, max: number) =>
    Math.max(min, Math.min(max, Math.round(value !== undefined && Number.isFinite(value) ? value : fallback)));
  const seconds = num(options.seconds, 60, 5, 3600);
  const writers = num(options.writers, 512, 1, 20_000);
  const maxWriteOps = num(options.maxWriteOps, 50_000, 1, 1_000_000);
  const leafGoal = num(options.leafGoal, 5_000_000, 1, 1_000_000_000);
  const probeIntervalMs = num(options.probeIntervalMs, 250, 50, 60_000);
  const cacheDir = options.cacheDir ?? path.join(ROOT, '.cache', `tessera-${TESSERA_VERSION}`);
  const log = options.log ?? ((line: string) => process.stderr.write(`[bench-tessera] ${line}\n`));

  const removeSignalHandlers = installSignalHandlers();
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'bench-tessera-'));
  tempDirs.add(workDir);
  let server: ChildProcess | undefined;
  let hammer: ChildProcess | undefined;
  try {
    const bins = await ensureTesseraBinaries(cacheDir, log);

    // Key pair in Go's sumdb/note format, made by our own signer code.
    const { signerKey, verifierKey } = generateSignerKey(LOG_ORIGIN);
    const keyFile = path.join(workDir, 'log.key');
    await writeFile(keyFile, signerKey, { mode: 0o600 });
    const storageDir = path.join(workDir, 'log');
    await mkdir(storageDir);

    const port = await freeLoopbackPort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const serverArgs = [`--storage_dir=${storageDir}`, `--listen=127.0.0.1:${port}`, `--private_key=${keyFile}`];
    const serverLogFile = path.join(workDir, 'server.log');
    const serverLog = createWriteStream(serverLogFile);
    log(`starting ${path.relative(ROOT, bins.server)} ${serverArgs.join(' ')}`);
    server = track(spawn(bins.server, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));
    server.stdout!.pipe(serverLog);
    server.stderr!.pipe(serverLog);
    const serverTail = async () => (await readFile(serverLogFile, 'utf8').catch(() => '')).split('\n').slice(-20).join('\n');

    let initialSize: number | undefined;
    for (let i = 0; i < 300 && initialSize === undefined; i++) {
      if (server.exitCode !== null || server.signalCode !== null) throw new Error(`the server exited early:\n${await serverTail()}`);
      initialSize = await checkpointSize(baseUrl);
      if (initialSize === undefined) await sleep(100);
    }
    if (initialSize === undefined) throw new Error(`the server served no checkpoint within 30 s:\n${await serverTail()}`);

    // Checkpoint poller: tree size over time, also what resolves the probes.
    const sizes: Array<{ t: number; size: number }> = [{ t: performance.now(), size: initialSize }];
    let latestSize = initialSize;
    let polling = true;
    const pollDeadline = performance.now() + (seconds + 60) * 1000;
    const poller = (async () => {
      while (polling && performance.now() < pollDeadline) {
        const size = await checkpointSize(baseUrl);
        if (size !== undefined && size > latestSize) {
          latestSize = size;
          sizes.push({ t: performance.now(), size });
        }
        await sleep(CHECKPOINT_POLL_MS);
      }
    })();

    // RSS sampler; also the hammer's CPU time, read while it still runs.
    let rssEndKiB = 0;
    let hammerCpu = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling && performance.now() < pollDeadline) {
        const rss = await procStatusKiB(server!.pid!, 'VmRSS');
        if (rss > 0) rssEndKiB = rss;
        if (hammer && hammer.exitCode === null) hammerCpu = (await cpuSeconds(hammer.pid)) ?? hammerCpu;
        await sleep(250);
      }
    })();

    const hammerArgs = [
      `--log_url=${baseUrl}/`,
      `--log_public_key=${verifierKey}`,
      '--max_read_ops=0',
      '--num_readers_random=0',
      '--num_readers_full=0',
      `--num_writers=${writers}`,
      `--max_write_ops=${maxWriteOps}`,
      '--dup_chance=0',
      `--max_runtime=${seconds}s`,
      `--leaf_write_goal=${leafGoal}`,
      '--show_ui=false',
      '--v=1',
    ];
    log(`running ${path.relative(ROOT, bins.hammer)} ${hammerArgs.join(' ')}`);
    const hammerLogFile = path.join(workDir, 'hammer.log');
    const hammerLog = createWriteStream(hammerLogFile);
    const loadStart = performance.now();
    const serverCpuStart = (await cpuSeconds(server.pid)) ?? 0;
    const machineStart = await machineJiffies();
    hammer = track(spawn(bins.hammer, hammerArgs, { stdio: ['ignore', 'pipe', 'pipe'] }));
    hammer.stdout!.pipe(hammerLog);
    hammer.stderr!.pipe(hammerLog);
    let hammerLastSeen = 0;
    let hammerWarnings = 0;
    let pending = '';
    hammer.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const m = /Updated checkpoint from \d+ to (\d+)/.exec(line);
        if (m) hammerLastSeen = Math.max(hammerLastSeen, Number(m[1]));
        else if (line.startsWith('W') || line.startsWith('E') || line.startsWith('F')) {
          if (!line.includes('context canceled')) hammerWarnings++;
        }
      }
    });
    // Backstop for the hammer's own --max_runtime.
    const hammerDone = exited(hammer);
    const backstop = setTimeout(() => void stop(hammer), (seconds + 15) * 1000);

    // Probes: our own appends through the same endpoint, timed until a checkpoint covers them.
    const integrateMs: number[] = [];
    const sequenceMs: number[] = [];
    let probesFailed = 0;
    const probe = async (n: number): Promise<void> => {
      const sent = performance.now();
      try {
        const res = await fetch(`${baseUrl}/add`, { method: 'POST', body: `bench-tessera probe ${n} ${Date.now()}`, signal: AbortSignal.timeout(30_000) });
        const body = await res.text();
        if (res.status !== 200 || !/^\d+/.test(body)) throw new Error(`status ${res.status}`);
        const index = Number(/^\d+/.exec(body)![0]);
        sequenceMs.push(performance.now() - sent);
        const deadline = performance.now() + 30_000;
        while (latestSize <= index) {
          if (performance.now() > deadline) throw new Error('not integrated within 30 s');
          await sleep(5);
        }
        const seen = sizes.find((s) => s.size > index)!;
        integrateMs.push(Math.max(0, seen.t - sent));
      } catch {
        probesFailed++;
      }
    };
    const probes: Promise<void>[] = [];
    const maxProbes = Math.ceil((seconds * 1000) / probeIntervalMs);
    await sleep(1000); // let the load reach its stride first
    for (let n = 0; n < maxProbes && hammer.exitCode === null && hammer.signalCode === null; n++) {
      probes.push(probe(n));
      await Promise.race([sleep(probeIntervalMs), hammerDone]);
    }
    await hammerDone;
    clearTimeout(backstop);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const serverCpu = ((await cpuSeconds(server.pid)) ?? serverCpuStart) - serverCpuStart;
    const machineEnd = await machineJiffies();
    await Promise.all(probes);
    rssEndKiB = (await procStatusKiB(server.pid!, 'VmRSS')) || rssEndKiB;
    const rssPeakKiB = await procStatusKiB(server.pid!, 'VmHWM');

    // Let integration settle: wait until the checkpoint has not grown for 3 s (at most 15 s).
    for (let i = 0, lastSize = latestSize, stable = 0; i < 150 && stable < 30; i++) {
      await sleep(100);
      stable = latestSize === lastSize ? stable + 1 : 0;
      lastSize = latestSize;
    }
    polling = false;
    sampling = false;
    await Promise.all([poller, sampler]);

    const treeSize = latestSize;
    const appended = treeSize - initialSize;
    const halfway = loadStart + (loadSeconds * 1000) / 2;
    const loadEnd = loadStart + loadSeconds * 1000;
    const inLoad = sizes.filter((s) => s.t >= halfway && s.t <= loadEnd);
    const secondHalfRate =
      inLoad.length >= 2 ? ((inLoad[inLoad.length - 1]!.size - inLoad[0]!.size) * 1000) / (inLoad[inLoad.length - 1]!.t - inLoad[0]!.t) : NaN;

    const partial: Omit<TesseraResult, 'table'> = {
      tesseraVersion: TESSERA_VERSION,
      goVersion: bins.goVersion,
      serverPackage: TESSERA_SERVER_PACKAGE,
      hammerPackage: TESSERA_HAMMER_PACKAGE,
      serverArgs,
      hammerArgs,
      cores: os.cpus().length,
      loadSeconds,
      appended,
      appendsPerSecond: appended / loadSeconds,
      appendsPerSecondSecondHalf: secondHalfRate,
      treeSize,
      hammerLastSeenTreeSize: hammerLastSeen,
      timeToIntegrate: summarize(integrateMs),
      timeToSequence: summarize(sequenceMs),
      probesFailed,
      serverRssPeakMiB: rssPeakKiB / 1024,
      serverRssEndMiB: rssEndKiB / 1024,
      serverCores: serverCpu / loadSeconds,
      hammerCores: hammerCpu / loadSeconds,
      machineBusyPercent: (100 * (machineEnd.busy - machineStart.busy)) / Math.max(1, machineEnd.total - machineStart.total),
      hammerWarnings,
      hammerExitCode: hammer.exitCode,
    };
    if (appended <= 0) throw new Error(`the log did not grow; hammer log tail:\n${(await readFile(hammerLogFile, 'utf8')).split('\n').slice(-20).join('\n')}`);
    return { ...partial, table: formatTesseraTable(partial) };
  } finally {
    await stop(hammer);
    await stop(server);
    await rm(workDir, { recursive: true, force: true, maxRetries: 5 });
    tempDirs.delete(workDir);
    removeSignalHandlers();
  }
}

// ---- output ---------------------------------------------------------------------------------

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? `${Math.round(n).toLocaleString('en-US')} ms` : 'n/a');

export function formatTesseraTable(r: Omit<TesseraResult, 'table'>): string {
  const writers = r.hammerArgs.find((a) => a.startsWith('--num_writers='))?.split('=')[1] ?? '?';
  const rows: Array<[string, string, string]> = [
    [
      'appends/s sustained',
      `${int(r.appendsPerSecond)}/s (2nd half of run: ${int(r.appendsPerSecondSecondHalf)}/s)`,
      `entries integrated ÷ ${r.loadSeconds.toFixed(1)} s of hammer load (${writers} writers, unique leaves)`,
    ],
    ['integrated tree size reached', int(r.treeSize), `final signed checkpoint (hammer's own last verified size: ${int(r.hammerLastSeenTreeSize)})`],
    [
      'time to integrate',
      `p50 ${ms(r.timeToIntegrate.p50Ms)}, p99 ${ms(r.timeToIntegrate.p99Ms)}, mean ${ms(r.timeToIntegrate.meanMs)}`,
      `${r.timeToIntegrate.samples} probes under load: POST /add sent → served checkpoint covers its index (polled every ${CHECKPOINT_POLL_MS} ms)` +
        (r.probesFailed ? `; ${r.probesFailed} probes failed` : ''),
    ],
    ['  of which /add answered (sequenced)', `p50 ${ms(r.timeToSequence.p50Ms)}, p99 ${ms(r.timeToSequence.p99Ms)}`, 'same probes: POST /add sent → index returned'],
    ['server RSS', `peak ${r.serverRssPeakMiB.toFixed(0)} MiB, end ${r.serverRssEndMiB.toFixed(0)} MiB`, 'VmHWM / VmRSS of the conformance server'],
    [
      'CPU during the load',
      `server ${r.serverCores.toFixed(2)} cores, hammer ${r.hammerCores.toFixed(2)} cores; machine ${r.machineBusyPercent.toFixed(0)}% busy`,
      `/proc/<pid>/stat and /proc/stat over the load phase (machine % counts every process on it; ${r.cores} cores)`,
    ],
    ['hammer warnings', int(r.hammerWarnings), `hammer exit code ${r.hammerExitCode} (1 = its --max_runtime reached, as expected)`],
  ];
  const head: [string, string, string] = ['measure', `Tessera ${r.tesseraVersion} POSIX (Go)`, 'how'];
  const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((row) => row[i]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [
    `${r.serverPackage}@${r.tesseraVersion} driven by ${r.hammerPackage}@${r.tesseraVersion}; ${r.goVersion}; ${r.cores} cores; server and hammer on this machine`,
    '',
    line(head),
    `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

// ---- CLI ------------------------------------------------------------------------------------

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name: string): number | undefined => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  runTesseraBench({ seconds: arg('seconds'), writers: arg('writers'), maxWriteOps: arg('max-write-ops'), leafGoal: arg('goal') })
    .then((result) => {
      console.log(`\n${result.table}`);
    })
    .catch((err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    });
}
