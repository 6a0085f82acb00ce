/**
 * The point reads of bench-ledger (event by leaf index and by id, inclusion and consistency
 * proofs), on a log filled once and kept, so that two builds can be compared on the same data,
 * interleaved (A, B, A, B), with the server's CPU time per request beside the latencies.
 *
 *   npm run bench:point-reads -- fill --dir DIR [--size 1000000]
 *   npm run bench:point-reads -- measure --dir DIR [--label A] [--read-seconds 5] [--read-clients 1,4]
 *
 * `fill` starts the server (this checkout's dist/) on DIR, creates the keys, fills the log as
 * bench-ledger does (4 clients × 1000-event recordEvents) and keeps a sample of event ids in
 * DIR/point-reads.json. `measure` starts the server of this checkout on DIR (run it from
 * another worktree to measure another build), measures each read as bench-ledger does
 * (closed-loop clients, the same request mix, LEDGER_RECORD_READS=false, LOG_LEVEL=debug), and
 * prints one markdown table. The server starts cold each time: the first reads fill its caches.
 * DIR is not removed.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  Args,
  benchServerEnv,
  cpuSeconds,
  fillLog,
  freeLoopbackPort,
  gql,
  int,
  log,
  logTreeSize,
  markdownTable,
  ms,
  randomSource,
  type Row,
  runCli,
  runLoad,
  runMain,
  startServer,
} from './benchSupport';

const args = new Args();
const COMMAND = process.argv[2];
const DIR = args.string('dir', '');
const SIZE = Math.round(args.number('size', 1_000_000));
const LABEL = args.string('label', '');
const READ_SECONDS = args.number('read-seconds', 5);
const READ_CLIENTS = args.list('read-clients', [1, 4]);

const EVENT_FIELDS = 'id leafIndex leafHash leaf action recordedAt groups';
const EVENT_BY_INDEX = `query($i: SafeInt!) { event(leafIndex: $i) { ${EVENT_FIELDS} } }`;
const EVENT_BY_ID = `query($id: ID!) { event(id: $id) { ${EVENT_FIELDS} } }`;
const INCLUSION = 'query($i: SafeInt!, $n: SafeInt!) { inclusionProof(leafIndex: $i, treeSize: $n) { leafHash hashes checkpoint { treeSize note } } }';
const CONSISTENCY = 'query($m: SafeInt!, $n: SafeInt!) { consistencyProof(fromSize: $m, toSize: $n) { hashes checkpoint { treeSize note } } }';

interface Saved {
  readonly auditor: string;
  readonly ids: readonly string[];
}

async function fill(): Promise<void> {
  const env = benchServerEnv(DIR, await freeLoopbackPort());
  const server = await startServer(env);
  try {
    const boot = await runCli(['bootstrap-admin', '--name', 'bench'], env, 120_000);
    if (boot.code !== 0) throw new Error(`bootstrap-admin failed (code ${boot.code}):\n${boot.stderr}`);
    const admin = boot.stdout.trim().split('\n').at(-1)!;
    const key = async (name: string, role: string): Promise<string> =>
      (await gql<{ createApiKey: { token: string } }>(server.url, admin, 'mutation($name: String!, $roles: [Role!]!) { createApiKey(input: { name: $name, roles: $roles }) { token } }', { name, roles: [role] })).createApiKey.token;
    const appender = await key('bench-appender', 'APPENDER');
    const auditor = await key('bench-auditor', 'AUDITOR');
    const rand = randomSource(0x5eed);
    const ids: string[] = [];
    let seq = 0;
    const event = (): object => {
      const n = seq++;
      const actor = Math.floor(rand() * 1000);
      return {
        action: `action.${Math.floor(rand() * 20)}`,
        actor: { id: `user-${actor}`, type: 'USER', name: `User ${actor}` },
        target: { type: 'document', id: `doc-${Math.floor(rand() * 100_000)}` },
        outcome: 'SUCCESS',
        occurredAt: new Date().toISOString(),
        source: { ip: `10.0.${actor >> 8}.${actor & 255}`, requestId: `req-${n}` },
        metadata: { seq: n, client: 'bench-point-reads' },
      };
    };
    await fillLog(server, {
      target: SIZE,
      batch: 1000,
      clients: 4,
      maxMinutes: 60,
      batchOf: (_i, count) => ({ inputs: Array.from({ length: count }, event), token: appender }),
      // Every 50th id: a spread sample of 20,000 at 10^6.
      onReceipts: (receipts) => {
        for (const r of receipts) if (r.leafIndex % 50 === 0) ids.push(r.eventId);
      },
    });
    const saved: Saved = { auditor, ids };
    await writeFile(path.join(DIR, 'point-reads.json'), JSON.stringify(saved));
    log(`filled to ${int(await logTreeSize(server.url))} events`);
  } finally {
    await server.stop();
  }
}

async function measure(): Promise<void> {
  const saved = JSON.parse(await readFile(path.join(DIR, 'point-reads.json'), 'utf8')) as Saved;
  const server = await startServer(benchServerEnv(DIR, await freeLoopbackPort()));
  const rows: Row[] = [];
  try {
    const n = await logTreeSize(server.url);
    const pick = randomSource(0xbead);
    const below = (k: number): number => Math.floor(pick() * k);
    const specs = [
      { measure: 'event(leafIndex), AUDITOR, random leaf', request: () => ({ query: EVENT_BY_INDEX, variables: { i: below(n) }, token: saved.auditor }) },
      { measure: 'event(id), AUDITOR, random sampled id', request: () => ({ query: EVENT_BY_ID, variables: { id: saved.ids[below(saved.ids.length)]! }, token: saved.auditor }) },
      { measure: 'inclusionProof(random leaf, treeSize), public', request: () => ({ query: INCLUSION, variables: { i: below(n), n } }) },
      { measure: 'consistencyProof(random size, treeSize), public', request: () => ({ query: CONSISTENCY, variables: { m: 1 + below(n - 1), n } }) },
    ];
    for (const spec of specs) {
      for (const clients of READ_CLIENTS) {
        log(`${LABEL} ${spec.measure}, ${clients} clients`);
        const cpu0 = (await cpuSeconds(server.pid)) ?? 0;
        const r = await runLoad({ url: server.url, stopWhen: server.ended, clients, seconds: READ_SECONDS, maxRequests: 1_000_000, request: spec.request });
        const cpu1 = (await cpuSeconds(server.pid)) ?? cpu0;
        server.assertRunning(spec.measure);
        const ok = r.requests - r.errors;
        rows.push({
          measure: `${LABEL ? `${LABEL}: ` : ''}${spec.measure}, ${clients} client${clients === 1 ? '' : 's'} @ ${int(n)}`,
          result:
            `p50 ${ms(r.latency.p50)}, p99 ${ms(r.latency.p99)}, ${int(r.rate)} req/s; server CPU ${(((cpu1 - cpu0) * 1000) / Math.max(1, ok)).toFixed(3)} ms/req` +
            `${r.errors ? `; **${r.errors} errors** (${r.firstError})` : ''}`,
        });
      }
    }
  } finally {
    await server.stop();
  }
  process.stdout.write(`\n${markdownTable(rows)}\n`);
}

async function main(): Promise<void> {
  if (!DIR) throw new Error('--dir DIR is required');
  if (COMMAND === 'fill') await fill();
  else if (COMMAND === 'measure') await measure();
  else throw new Error('the first argument must be fill or measure');
}

runMain(main);
