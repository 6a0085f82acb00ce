/**
 * Bounded soak: a server with its own embedded database on loopback, legitimate load (appends
 * through one APPENDER key, auditor pages, paced anonymous proof reads) with attacks alongside
 * (alias bombs with and without a key, anonymous floods from several loopback addresses), for
 * a fixed time. Prints one table: legitimate p50/p99, refusals by code, log growth caused by
 * refusals, /healthz probes, the server's RSS before and after.
 *
 * Every loop stops at the deadline (and after a fixed number of iterations); everything the
 * script starts it stops. Only 127.0.0.0/8 is ever contacted.
 *
 * Usage: npm run soak [-- --seconds 60 --appenders 16 --no-attacks]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeLoopbackPort } from '../src/storage/mongodb/engine/embeddedEngine';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'audit-ledger.js');
const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  const value = i >= 0 ? Number(args[i + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
};
const SECONDS = arg('seconds', 60);
const APPENDERS = arg('appenders', 16);
// Windows close during the run, so the growth measured includes the refusal summaries.
const DENIAL_WINDOW_SECONDS = Math.max(1, Math.min(60, Math.floor(SECONDS / 3)));
const MAX_ITERATIONS = 1_000_000;
/** `--no-attacks`: the same legitimate load alone, for comparison. */
const ATTACKS = !args.includes('--no-attacks');

interface Answer {
  readonly status: number;
  readonly code: string | undefined;
  readonly ms: number;
  readonly body: Record<string, unknown> | undefined;
}

function request(url: string, body: string | undefined, options: { token?: string; localAddress?: string; agent: http.Agent; method?: string; timeoutMs?: number }): Promise<Answer> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        method: options.method ?? (body === undefined ? 'GET' : 'POST'),
        agent: options.agent,
        ...(options.localAddress && { localAddress: options.localAddress }),
        timeout: options.timeoutMs ?? 30_000,
        headers: {
          ...(body !== undefined && { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          ...(options.token && { authorization: `Bearer ${options.token}` }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          let parsed: Record<string, unknown> | undefined;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, code: codeOf(parsed), ms: performance.now() - started, body: parsed });
        });
        res.on('error', () => resolve({ status: 0, code: 'CLIENT_ERROR', ms: performance.now() - started, body: undefined }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, code: err.message === 'timeout' ? 'CLIENT_TIMEOUT' : 'CONNECTION_ERROR', ms: performance.now() - started, body: undefined }));
    req.end(body);
  });
}

function codeOf(body: Record<string, unknown> | undefined): string | undefined {
  const errors = body?.errors as { extensions?: { code?: string } }[] | undefined;
  return errors?.[0]?.extensions?.code ?? (body?.error as { code?: string } | undefined)?.code;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soak-'));
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    NODE_ENV: 'production',
    MONGODB_URI: '',
    LEDGER_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    LEDGER_DENIAL_WINDOW_SECONDS: String(DENIAL_WINDOW_SECONDS),
    DO_NOT_TRACK: '1',
  };
  const server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let serverLog = '';
  server.stderr!.setEncoding('utf8').on('data', (c: string) => (serverLog = (serverLog + c).slice(-20_000)));
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  try {
    for (let i = 0; ; i++) {
      const health = await request(`${url}/healthz`, undefined, { agent, timeoutMs: 1000 });
      if (health.status === 200) break;
      if (i > 1200 || server.exitCode !== null) throw new Error(`the server did not start:\n${serverLog}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'bootstrap-admin', '--name', 'soak'], { env });
    const admin = stdout.trim().split('\n').at(-1)!;
    const gql = async (token: string, query: string): Promise<Record<string, unknown>> => {
      const a = await request(`${url}/graphql`, JSON.stringify({ query }), { token, agent });
      if (a.status !== 200 || a.code) throw new Error(`setup query failed: ${a.status} ${JSON.stringify(a.body)}`);
      return a.body!.data as Record<string, unknown>;
    };
    const keyOf = async (name: string, role: string) =>
      ((await gql(admin, `mutation { createApiKey(input: { name: "${name}", roles: [${role}] }) { token } }`)).createApiKey as { token: string }).token;
    const appender = await keyOf('soak-appender', 'APPENDER');
    const auditor = await keyOf('soak-auditor', 'AUDITOR');
    const treeSize = async () => ((await gql(auditor, '{ checkpoint { treeSize } }')).checkpoint as { treeSize: number }).treeSize;

    const rssBefore = await rssMiB(server.pid!);
    const sizeBefore = await treeSize();
    const deadline = Date.now() + SECONDS * 1000;
    const running = () => Date.now() < deadline;

    const appendMs: number[] = [];
    const readMs: number[] = [];
    let appended = 0;
    let auditorReads = 0;
    const refused = new Map<string, number>();
    const legitFailures = new Map<string, number>();
    const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    let healthProbes = 0;
    let healthSlowOrFailed = 0;
    let healthMaxMs = 0;

    const bomb20k = `{ ${Array.from({ length: 20_000 }, (_, i) => `a${i}: inclusionProof(leafIndex: ${i}) { hashes }`).join(' ')} }`;
    const bombBody = JSON.stringify({ query: bomb20k });
    const loops: Promise<void>[] = [];

    // Legitimate: appends through one key at full speed.
    for (let c = 0; c < APPENDERS; c++) {
      loops.push(
        (async () => {
          for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
            const body = JSON.stringify({
              query: 'mutation($i: EventInput!) { recordEvent(input: $i) { leafIndex } }',
              variables: { i: { action: 'soak.append', actor: { id: `client-${c}`, type: 'SERVICE' }, metadata: { i } } },
            });
            const a = await request(`${url}/graphql`, body, { token: appender, agent });
            if (a.status === 200 && !a.code) {
              appended += 1;
              appendMs.push(a.ms);
            } else count(legitFailures, `append ${a.code ?? a.status}`);
          }
        })(),
      );
    }
    // Legitimate: an auditor paging, and an anonymous monitor reading proofs at a polite pace.
    loops.push(
      (async () => {
        for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
          const a = await request(`${url}/graphql`, JSON.stringify({ query: '{ events(first: 50, order: NEWEST_FIRST) { edges { node { id leafIndex } } } }' }), { token: auditor, agent });
          if (a.status === 200 && !a.code) {
            auditorReads += 1;
            readMs.push(a.ms);
          } else count(legitFailures, `auditor read ${a.code ?? a.status}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      })(),
      (async () => {
        for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
          const a = await request(`${url}/graphql`, JSON.stringify({ query: `{ inclusionProof(leafIndex: ${i % Math.max(1, sizeBefore)}) { hashes } checkpoint { treeSize } }` }), {
            agent,
            localAddress: '127.0.0.2',
          });
          if (a.status === 200 && !a.code) readMs.push(a.ms);
          else count(legitFailures, `anonymous read ${a.code ?? a.status}`);
          await new Promise((r) => setTimeout(r, 100));
        }
      })(),
    );
    // Attacks: alias bombs with a key and without, anonymous floods from eight addresses.
    for (const token of ATTACKS ? [auditor, undefined] : []) {
      loops.push(
        (async () => {
          for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
            const a = await request(`${url}/graphql`, bombBody, { ...(token && { token }), agent, localAddress: '127.0.0.3' });
            count(refused, `${token ? 'keyed' : 'anonymous'} 20,000-alias bomb → ${a.code ?? a.status}`);
          }
        })(),
      );
    }
    for (let f = 0; f < (ATTACKS ? 8 : 0); f++) {
      const floodAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
      loops.push(
        (async () => {
          for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
            const q = i % 2 === 0 ? '{ apiKeys { id } }' : '{ users { id } }';
            const a = await request(`${url}/graphql`, JSON.stringify({ query: q }), { agent: floodAgent, localAddress: `127.0.0.${20 + f}` });
            count(refused, `anonymous flood → ${a.code ?? a.status}`);
          }
          floodAgent.destroy();
        })(),
      );
    }
    // /healthz must answer within a second throughout.
    loops.push(
      (async () => {
        for (let i = 0; i < MAX_ITERATIONS && running(); i++) {
          const a = await request(`${url}/healthz`, undefined, { agent: new http.Agent(), timeoutMs: 1000 });
          healthProbes += 1;
          healthMaxMs = Math.max(healthMaxMs, a.ms);
          if (a.status !== 200) healthSlowOrFailed += 1;
          await new Promise((r) => setTimeout(r, 250));
        }
      })(),
    );
    await Promise.all(loops);
    const elapsed = (Date.now() - deadline) / 1000 + SECONDS;

    // Windows still open are summarised at shutdown; wait one window so that they close here.
    await new Promise((r) => setTimeout(r, DENIAL_WINDOW_SECONDS * 1000 + 5_500));
    const sizeAfter = await treeSize();
    const rssAfter = await rssMiB(server.pid!);
    // Every other leaf is an append or an auditor read (each recorded as ledger.events.read).
    const fromRefusals = sizeAfter - sizeBefore - appended - auditorReads;
    appendMs.sort((a, b) => a - b);
    readMs.sort((a, b) => a - b);

    const rows: [string, string][] = [
      ['duration', `${elapsed.toFixed(1)} s, ${APPENDERS} appenders through one key, denial window ${DENIAL_WINDOW_SECONDS} s${ATTACKS ? '' : ', no attacks'}`],
      ['legitimate appends', `${appended} (${Math.round(appended / elapsed)}/s), p50 ${percentile(appendMs, 50).toFixed(1)} ms, p99 ${percentile(appendMs, 99).toFixed(1)} ms`],
      ['legitimate reads', `${readMs.length}, p50 ${percentile(readMs, 50).toFixed(1)} ms, p99 ${percentile(readMs, 99).toFixed(1)} ms`],
      ['legitimate requests refused or failed', legitFailures.size === 0 ? '0' : [...legitFailures].map(([k, v]) => `${k}: ${v}`).join(', ')],
      ...[...refused].sort().map(([k, v]): [string, string] => [`refused: ${k}`, String(v)]),
      ['log growth from refusals', `${Math.max(0, fromRefusals)} events (${(Math.max(0, fromRefusals) / elapsed).toFixed(2)}/s) for ${[...refused].filter(([k]) => k.startsWith('anonymous flood')).reduce((n, [, v]) => n + v, 0)} flood requests`],
      ['/healthz probes (1 s timeout)', `${healthProbes}, failed or late ${healthSlowOrFailed}, slowest ${healthMaxMs.toFixed(0)} ms`],
      ['server RSS', `before ${rssBefore.toFixed(0)} MiB, after ${rssAfter.toFixed(0)} MiB`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    const v = Math.max(...rows.map(([, x]) => x.length));
    console.log(`\nsoak: Node ${process.version}, ${os.cpus().length} cores, embedded FerretDB, loopback only\n`);
    console.log(`| ${'measure'.padEnd(w)} | ${'result'.padEnd(v)} |`);
    console.log(`|${'-'.repeat(w + 2)}|${'-'.repeat(v + 2)}|`);
    for (const [k, x] of rows) console.log(`| ${k.padEnd(w)} | ${x.padEnd(v)} |`);
  } finally {
    agent.destroy();
    server.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())]);
    if (!stopped) {
      server.kill('SIGKILL');
      // The engine the server started would outlive it: stop it by the pid it recorded.
      const marker = await readFile(path.join(dataDir, 'engine.json'), 'utf8').catch(() => undefined);
      if (marker) process.kill((JSON.parse(marker) as { pid: number }).pid, 'SIGKILL');
    }
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
