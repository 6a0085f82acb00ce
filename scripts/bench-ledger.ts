/**
 * Ledger benchmark on the embedded engine: starts a fresh FerretDB and a server process,
 * then measures
 *   - sustained batched appends (recordEvents, 100 events per call, several clients);
 *   - single-event recordEvent with 64 concurrent clients (events/s, p50/p99 to receipt);
 *   - inclusion/consistency proof queries p50/p99 at 10^5 and 10^6 events;
 *   - the server's RSS at those sizes.
 * Prints a table. Usage: npm run bench:ledger [-- --max 1000000 --seconds 10]
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import autocannon from 'autocannon';
import { engineCacheDir } from '../src/config';
import { freeLoopbackPort, startEmbeddedEngine } from '../src/engine/embeddedEngine';

const ROOT = path.resolve(__dirname, '..');
const BIN = path.join(ROOT, 'bin', 'audit-ledger.js');
const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const MAX = arg('max', 1_000_000);
const SECONDS = arg('seconds', 10);

interface Row {
  readonly what: string;
  readonly value: string;
  readonly target: string;
}
const rows: Row[] = [];
const groupIds: string[] = [];

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
}

async function gql(url: string, token: string | undefined, query: string, variables: object = {}): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data!;
}

const event = (i: number) => ({
  action: 'bench.event',
  actor: { id: `user-${i % 1000}`, type: 'USER' },
  target: { type: 'doc', id: `d${i}` },
  metadata: { i },
  // Spread over 100 groups, for the group-filtered query measurement.
  groups: [groupIds[i % 100]!],
});

async function size(url: string): Promise<number> {
  const data = await gql(url, undefined, '{ checkpoint { treeSize } }');
  return (data.checkpoint as { treeSize: number }).treeSize;
}

/** Appends batches of 100 from `clients` loops until the log reaches `until` or time runs out. */
async function batchedAppends(url: string, token: string, clients: number, until: number, maxMs: number): Promise<{ events: number; ms: number }> {
  const started = Date.now();
  let events = 0;
  let next = await size(url);
  const query = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < until && Date.now() - started < maxMs) {
        const base = next;
        next += 100;
        await gql(url, token, query, { i: Array.from({ length: 100 }, (_, k) => event(base + k)) });
        events += 100;
      }
    }),
  );
  return { events, ms: Date.now() - started };
}

async function cannon(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** Latency of one kind of GraphQL query, each request built afresh by `query()`. */
async function queryLatency(url: string, connections: number, query: () => string, token?: string): Promise<autocannon.Result> {
  return cannon({
    url: `${url}/graphql`,
    connections,
    duration: Math.max(3, Math.round(SECONDS / 2)),
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token && { authorization: `Bearer ${token}` }) },
    requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ query: query() }) }) }],
  });
}

function latencyRow(what: string, result: autocannon.Result, target: string): Row {
  const rate = result.requests.average;
  return {
    what,
    value: `${rate < 10 ? rate.toFixed(1) : Math.round(rate)}/s, p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, errors ${result.non2xx + result.errors}`,
    target,
  };
}

async function proofLatency(url: string, n: number, label: string): Promise<void> {
  const random = (max: number) => Math.floor(Math.random() * max);
  const inclusion = await queryLatency(url, 16, () => `{ inclusionProof(leafIndex: ${random(n)}, treeSize: ${n}) { hashes } }`);
  rows.push(latencyRow(`inclusion proof at ${label} (16 clients)`, inclusion, 'p99 ≤ 5 ms'));
  const consistency = await queryLatency(url, 16, () => `{ consistencyProof(fromSize: ${1 + random(n - 1)}, toSize: ${n}) { hashes } }`);
  rows.push(latencyRow(`consistency proof at ${label} (16 clients)`, consistency, 'p99 ≤ 5 ms'));
}

/** First page (50 events, newest first) of a group-filtered query, as a dashboard asks it. */
async function groupQueryLatency(url: string, auditor: string, label: string): Promise<void> {
  const result = await queryLatency(
    url,
    4,
    () => `{ events(filter: { groupIds: ["${groupIds[Math.floor(Math.random() * 100)]}"] }, first: 50, order: NEWEST_FIRST) { edges { node { leafIndex } } } }`,
    auditor,
  );
  rows.push(latencyRow(`group-filtered first page (50) at ${label} (4 clients)`, result, 'p99 ≤ 20 ms'));
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'bench-ledger-'));
  const engine = await startEmbeddedEngine({ dataDir, cacheDir: engineCacheDir(), onProgress: (l) => console.error(l) });
  const port = await freeLoopbackPort();
  const env = { ...process.env, NODE_ENV: 'production', MONGODB_URI: engine.uri, LEDGER_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'debug',
    // The proof measurements are anonymous and far faster than the per-address limit for callers without a key.
    LEDGER_RATE_LIMIT_ANONYMOUS: '1000000/1000000' };
  const server = spawn(process.execPath, [BIN, 'serve'], { env, stdio: ['ignore', 'inherit', 'pipe'] });
  // The server's per-batch debug timings are the profile: where a batch spends its time.
  const phases = { batches: 0, events: 0, pendingMs: 0, insertMs: 0, treeAndCheckpointMs: 0, tilesMs: 0 };
  let buffered = '';
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (!line.includes('"msg":"batch committed"') && !line.includes('"msg":"tiles written"')) {
        if (line.includes('"level":50') || line.includes('"level":40')) process.stderr.write(`${line}\n`);
        continue;
      }
      const rec = JSON.parse(line) as Record<string, number>;
      if (rec.tilesMs !== undefined) phases.tilesMs += rec.tilesMs;
      if (rec.batch !== undefined) {
        phases.batches += 1;
        phases.events += rec.batch;
        phases.pendingMs += rec.pendingMs!;
        phases.insertMs += rec.insertMs!;
        phases.treeAndCheckpointMs += rec.treeAndCheckpointMs!;
      }
    }
  });
  const profile = (label: string): void => {
    const n = Math.max(1, phases.batches);
    rows.push({
      what: `profile: mean per batch, ${label}`,
      value:
        `${(phases.events / n).toFixed(0)} events; mark pending ${(phases.pendingMs / n).toFixed(1)} ms, insert events ${(phases.insertMs / n).toFixed(1)} ms, ` +
        `tiles ${(phases.tilesMs / n).toFixed(1)} ms, checkpoint+head ${((phases.treeAndCheckpointMs - phases.tilesMs) / n).toFixed(1)} ms`,
      target: '',
    });
    Object.assign(phases, { batches: 0, events: 0, pendingMs: 0, insertMs: 0, treeAndCheckpointMs: 0, tilesMs: 0 });
  };
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${url}/healthz`)).status === 200) break;
      } catch {
        /* not listening yet */
      }
      if (i > 600) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'bootstrap-admin', '--name', 'bench'], { env });
    const admin = stdout.trim().split('\n').at(-1)!;
    // 100 groups; the appender key is scoped to them so that it may stamp events with them.
    for (let g = 0; g < 100; g++) {
      const made = await gql(url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `g${g}` });
      groupIds.push((made.createGroup as { id: string }).id);
    }
    const created = await gql(url, admin, 'mutation($g: [ID!]) { createApiKey(input: { name: "bench", roles: [APPENDER], groupIds: $g }) { token } }', {
      g: groupIds,
    });
    const token = (created.createApiKey as { token: string }).token;
    const auditor = (
      (await gql(url, admin, 'mutation { createApiKey(input: { name: "bench-auditor", roles: [AUDITOR] }) { token } }')).createApiKey as {
        token: string;
      }
    ).token;
    rows.push({ what: 'server RSS, empty log', value: `${(await rssMiB(server.pid!)).toFixed(0)} MiB`, target: '' });

    profile('setup');
    rows.pop();
    const batched = await batchedAppends(url, token, 4, Number.MAX_SAFE_INTEGER, SECONDS * 1000);
    rows.push({ what: 'batched appends (4 clients × 100-event batches)', value: `${Math.round((batched.events / batched.ms) * 1000)} events/s`, target: '≥ 20,000/s' });
    profile('batched appends');

    const single = await cannon({
      url: `${url}/graphql`,
      connections: 64,
      duration: SECONDS,
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: `mutation { recordEvent(input: { action: "bench.single", actor: { id: "u", type: USER }, groups: ["${groupIds[0]}"] }) { leafIndex } }` }),
    });
    rows.push({
      what: 'single-event recordEvent (64 clients)',
      value: `${Math.round(single.requests.average)} events/s, p50 ${single.latency.p50} ms, p99 ${single.latency.p99} ms, errors ${single.non2xx + single.errors}`,
      target: '≥ 3,000/s, p99 ≤ 50 ms',
    });
    profile('single-event appends');

    for (const n of [100_000, MAX]) {
      const fill = await batchedAppends(url, token, 4, n, 60 * 60 * 1000);
      const current = await size(url);
      const label = `${current.toLocaleString('en')} events`;
      if (fill.events > 0) rows.push({ what: `fill to ${label}`, value: `${Math.round((fill.events / fill.ms) * 1000)} events/s over ${(fill.ms / 1000).toFixed(0)} s`, target: '' });
      profile(`fill to ${label}`);
      await proofLatency(url, current, label);
      await groupQueryLatency(url, auditor, label);
      rows.push({ what: `server RSS at ${label}`, value: `${(await rssMiB(server.pid!)).toFixed(0)} MiB`, target: 'flat in log size' });
      if (n >= MAX) break;
    }
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    await engine.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
  const w = [Math.max(...rows.map((r) => r.what.length)), Math.max(...rows.map((r) => r.value.length)), 24];
  console.log(`\nNode ${process.version}, ${os.cpus().length} cores, embedded FerretDB v1.24.2 (SQLite)\n`);
  console.log(`| ${'measure'.padEnd(w[0]!)} | ${'result'.padEnd(w[1]!)} | ${'target'.padEnd(w[2]!)} |`);
  console.log(`|${'-'.repeat(w[0]! + 2)}|${'-'.repeat(w[1]! + 2)}|${'-'.repeat(w[2]! + 2)}|`);
  for (const r of rows) console.log(`| ${r.what.padEnd(w[0]!)} | ${r.value.padEnd(w[1]!)} | ${r.target.padEnd(w[2]!)} |`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
