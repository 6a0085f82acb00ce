/**
 * Export benchmark, one server process (`node bin/audit-ledger.js serve`, from dist/: run
 * `npm run build` first) on the SQLite default, on this machine.
 *
 *   npm run bench:export -- [--size 1000000] [--fill-batch 10000] [--fill-clients 2]
 *        [--fill-max-minutes 60] [--before-seconds 20] [--per-event-seconds 15]
 *
 * In a fresh temp folder (removed at the end, also on error and SIGINT/SIGTERM), with the
 * server's defaults (reads recorded in the log, as an auditor meets them):
 *
 *   1. fills the log to --size events with `recordEvents` batches over HTTP (the fill time is a
 *      result; events over 20 groups, 1000 actors, 10 actions, with metadata);
 *   2. `GET /export` as an AUDITOR, the whole log, for ndjson, csv and bundle: rows/s from the
 *      first byte asked to the last byte received by a client that only counts lines, the
 *      server's CPU and peak RSS during it (flat RSS: the export streams);
 *   3. `verify-bundle` (the CLI, no server involved) on the bundle written to a file;
 *   4. `audit --all-events`, before and after: "before" is the previous algorithm (GraphQL
 *      `events` pages of 500 plus inclusion proofs 100 per request as aliases, each page a
 *      recorded read) and the one-request-per-event client the issue describes (`event` and
 *      its `inclusionProof` in one query per leaf), both reimplemented here with the same
 *      checks and measured on a prefix of the log for a bounded time; "after" is the CLI
 *      (`audit --all-events`: one export with proofs) over the whole log.
 *
 * Prints one markdown table: measure | result | target.
 */
import http from 'node:http';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { servedEventProblem } from '../src/audit/servedEvent';
import type { ServedEvent } from '../src/audit/logClient';
import { EVENT_FIELDS } from '../src/client/event';
import { nodeCryptoRfc6962 } from '../src/merkle/nodeHasher';
import { hexToBytes, verifyCheckpoint, verifyInclusion } from '../src/verify';
import {
  Args,
  cpuCell,
  type CpuShare,
  errorLine,
  fillLog,
  freeLoopbackPort,
  gql,
  int,
  log,
  loggedRows,
  logTreeSize,
  makeTempDir,
  markdownTable,
  mib,
  procMemory,
  randomSource,
  type Row,
  runCli,
  runMain,
  secs,
  type ServerProcess,
  sizeLabel,
  sleep,
  startServer,
  withCpu,
} from './benchSupport';

const args = new Args();
const SIZE = Math.round(args.number('size', 1_000_000));
const FILL_BATCH = Math.min(10_000, Math.round(args.number('fill-batch', 10_000)));
const FILL_CLIENTS = Math.round(args.number('fill-clients', 2));
const FILL_MAX_MINUTES = args.number('fill-max-minutes', 60);
const BEFORE_SECONDS = args.number('before-seconds', 20);
const PER_EVENT_SECONDS = args.number('per-event-seconds', 15);
const EXPORT_TARGET = 50_000;

const GROUPS = 20;
const ACTORS = 1000;
const ACTIONS = ['user.login', 'user.role.grant', 'user.role.revoke', 'document.read', 'document.update', 'document.share', 'invoice.create', 'invoice.refund', 'payment.capture', 'settings.update'];

interface Keys {
  readonly appender: { readonly token: string; readonly groupIds: readonly string[] };
  readonly auditor: string;
  readonly verifierKey: string;
}

const rand = randomSource(0xe4907);
let seq = 0;

function eventInput(groupIds: readonly string[]): object {
  const n = seq++;
  const actor = Math.floor(rand() * ACTORS);
  return {
    action: ACTIONS[Math.floor(rand() * ACTIONS.length)],
    actor: { id: `user-${actor}`, type: 'USER', name: `User ${actor}` },
    target: { type: 'document', id: `doc-${Math.floor(rand() * 100_000)}` },
    outcome: rand() < 0.95 ? 'SUCCESS' : 'FAILURE',
    occurredAt: new Date().toISOString(),
    source: { ip: `10.0.${actor >> 8}.${actor & 255}`, requestId: `req-${n}` },
    metadata: { seq: n, client: 'bench-export' },
    groups: [groupIds[Math.floor(rand() * groupIds.length)]],
  };
}

async function setUp(server: ServerProcess, env: NodeJS.ProcessEnv): Promise<Keys> {
  const boot = await runCli(['bootstrap-admin', '--name', 'bench'], env, 120_000);
  if (boot.code !== 0) throw new Error(`bootstrap-admin failed (code ${boot.code}): ${errorLine(boot.stderr)}`);
  const admin = boot.stdout.trim().split('\n').at(-1)!;
  const groupIds: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    const made = await gql<{ createGroup: { id: string } }>(server.url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `bench-group-${g}` });
    groupIds.push(made.createGroup.id);
  }
  const key = async (name: string, roles: string[], groups?: string[]): Promise<string> =>
    (
      await gql<{ createApiKey: { token: string } }>(
        server.url,
        admin,
        'mutation($name: String!, $roles: [Role!]!, $groups: [ID!]) { createApiKey(input: { name: $name, roles: $roles, groupIds: $groups }) { token } }',
        { name, roles, groups: groups ?? null },
      )
    ).createApiKey.token;
  const appender = { token: await key('bench-appender', ['APPENDER'], groupIds), groupIds };
  const auditor = await key('bench-auditor', ['AUDITOR']);
  const info = await gql<{ logInfo: { verifierKey: string } }>(server.url, undefined, '{ logInfo { verifierKey } }');
  return { appender, auditor, verifierKey: info.logInfo.verifierKey };
}

/** The server's peak RSS over a stretch of the run, sampled every 100 ms. */
function watchRss(pid: number): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      max = Math.max(max, await procMemory(pid, 'VmRSS'));
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return max;
    },
  };
}

interface ExportRun {
  readonly rows: number;
  readonly bytes: number;
  readonly ms: number;
  /** Cores kept busy: the server, this client, other processes on the machine. */
  readonly cpu: CpuShare;
  readonly rssBefore: number;
  readonly rssPeak: number;
}

/** GET /export, counting lines as they arrive (and writing them to `file` if given). */
async function timeExport(server: ServerProcess, token: string, query: string, file?: string): Promise<ExportRun> {
  const rssBefore = await procMemory(server.pid, 'VmRSS');
  const rss = watchRss(server.pid);
  const started = performance.now();
  const out = file ? createWriteStream(file) : undefined;
  const { value: received, cpu } = await withCpu(server.pid, () => new Promise<{ lines: number; bytes: number }>((resolve, reject) => {
    const req = http.get(`${server.url}/export?${query}`, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET /export?${query} answered HTTP ${res.statusCode}`));
        res.resume();
        return;
      }
      let count = 0;
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
        if (out && !out.write(chunk)) {
          res.pause();
          out.once('drain', () => res.resume());
        }
      });
      res.on('end', () => resolve({ lines: count, bytes: size }));
      res.on('error', reject);
    });
    req.on('error', reject);
  }));
  if (out) await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  const ms = performance.now() - started;
  const rssPeak = await rss.stop();
  const overhead = query.includes('format=csv') ? 1 : query.includes('format=bundle') ? 2 : 0;
  return { rows: received.lines - overhead, bytes: received.bytes, ms, cpu, rssBefore, rssPeak };
}

/** Served events must agree with their leaves, and their leaves with the signed tree: the checks audit makes. */
function checkEvent(event: ServedEvent, proof: { leafHash: string; hashes: string[] }, treeSize: number, root: Uint8Array): void {
  const problem = servedEventProblem(event, nodeCryptoRfc6962);
  if (problem) throw new Error(problem);
  if (proof.leafHash !== event.leafHash) throw new Error(`leaf ${event.leafIndex}: served leaf hash differs from the tree's`);
  verifyInclusion({ leafHash: hexToBytes(proof.leafHash), leafIndex: event.leafIndex, treeSize, proof: proof.hashes.map(hexToBytes), rootHash: root }, nodeCryptoRfc6962);
}

/** The previous `audit --all-events`: events pages of 500, inclusion proofs 100 per request (aliases). */
async function auditByPages(url: string, keys: Keys, seconds: number): Promise<{ leaves: number; ms: number; requests: number }> {
  const cp = verifyCheckpoint((await gql<{ checkpoint: { note: string } }>(url, undefined, '{ checkpoint { note } }')).checkpoint.note, keys.verifierKey);
  const started = performance.now();
  let after: string | null = null;
  let leaves = 0;
  let requests = 0;
  while (performance.now() - started < seconds * 1000) {
    const page: { events: { edges: { node: ServedEvent }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await gql(
      url,
      keys.auditor,
      `query($after: String) { events(after: $after, first: 500) { edges { node { ${EVENT_FIELDS} } } pageInfo { endCursor hasNextPage } } }`,
      { after },
    );
    requests++;
    const events = page.events.edges.map((e) => e.node).filter((e) => e.leafIndex < cp.treeSize);
    for (let i = 0; i < events.length; i += 100) {
      const chunk = events.slice(i, i + 100);
      const fields = chunk.map((e, k) => `p${k}: inclusionProof(leafIndex: ${e.leafIndex}, treeSize: $t) { leafHash hashes }`).join(' ');
      const proofs = await gql<Record<string, { leafHash: string; hashes: string[] }>>(url, keys.auditor, `query($t: SafeInt!) { ${fields} }`, { t: cp.treeSize });
      requests++;
      chunk.forEach((e, k) => checkEvent(e, proofs[`p${k}`]!, cp.treeSize, cp.rootHash));
    }
    leaves += events.length;
    if (!page.events.pageInfo.hasNextPage) break;
    after = page.events.pageInfo.endCursor;
  }
  return { leaves, ms: performance.now() - started, requests };
}

/** One request per event: the event and its inclusion proof. */
async function auditPerEvent(url: string, keys: Keys, seconds: number): Promise<{ leaves: number; ms: number }> {
  const cp = verifyCheckpoint((await gql<{ checkpoint: { note: string } }>(url, undefined, '{ checkpoint { note } }')).checkpoint.note, keys.verifierKey);
  const started = performance.now();
  let leaf = 0;
  while (leaf < cp.treeSize && performance.now() - started < seconds * 1000) {
    const data = await gql<{ event: ServedEvent; inclusionProof: { leafHash: string; hashes: string[] } }>(
      url,
      keys.auditor,
      `query($i: SafeInt!, $t: SafeInt!) { event(leafIndex: $i) { ${EVENT_FIELDS} } inclusionProof(leafIndex: $i, treeSize: $t) { leafHash hashes } }`,
      { i: leaf, t: cp.treeSize },
    );
    checkEvent(data.event, data.inclusionProof, cp.treeSize, cp.rootHash);
    leaf++;
  }
  return { leaves: leaf, ms: performance.now() - started };
}

const rate = (n: number, ms: number): number => (n * 1000) / ms;

async function main(): Promise<void> {
  const rows: Row[] = loggedRows();
  const dir = await makeTempDir('audit-ledger-bench-export-');
  const port = await freeLoopbackPort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URI: '',
    LEDGER_DATA_DIR: dir,
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
  };
  const server = await startServer(env);
  const keys = await setUp(server, env);
  const label = sizeLabel(SIZE);

  log(`filling the log to ${int(SIZE)} events`);
  const fill = await fillLog(server, {
    target: SIZE,
    batch: FILL_BATCH,
    clients: FILL_CLIENTS,
    maxMinutes: FILL_MAX_MINUTES,
    batchOf: (_i, count) => ({ inputs: Array.from({ length: count }, () => eventInput(keys.appender.groupIds)), token: keys.appender.token }),
  });
  const size = await logTreeSize(server.url);
  rows.push({ measure: `fill to ${label} (recordEvents × ${int(FILL_BATCH)}, ${FILL_CLIENTS} clients, HTTP)`, result: `${int(size)} events in ${secs(fill.ms)} (${int(rate(fill.to - fill.from, fill.ms))} events/s)${fill.errors ? `, ${fill.errors} failed batches` : ''}` });
  if (size < SIZE) log(`the fill stopped at ${int(size)} events (limit --fill-max-minutes ${FILL_MAX_MINUTES})`);

  for (const format of ['ndjson', 'bundle', 'csv'] as const) {
    const file = format === 'bundle' ? path.join(dir, 'evidence.jsonl') : undefined;
    const run = await timeExport(server, keys.auditor, `format=${format}`, file);
    const perSecond = rate(run.rows, run.ms);
    rows.push({
      measure: `export ${format}, whole log at ${label} (AUDITOR, one GET /export)`,
      result:
        `${int(perSecond)} rows/s: ${int(run.rows)} rows, ${mib(run.bytes)} in ${secs(run.ms)} (${int(run.rows / Math.max(1e-9, run.cpu.server * (run.ms / 1000)))} rows per server CPU-second); ` +
        `server RSS ${mib(run.rssBefore)} before, ${mib(run.rssPeak)} peak${file ? '; the client also writes the file' : ''}; ${cpuCell(run.cpu)}`,
      ...(format !== 'csv' && { target: `≥ ${int(EXPORT_TARGET)} rows/s`, ok: perSecond >= EXPORT_TARGET }),
    });
  }

  const verify = await runCli(['verify-bundle', path.join(dir, 'evidence.jsonl'), '--vkey', keys.verifierKey], env, 3_600_000);
  const verified = /OK: (\d+) entries/.exec(verify.stdout);
  rows.push({
    measure: `verify-bundle on that bundle (CLI, no server)`,
    result: verify.code === 0 && verified ? `${int(rate(Number(verified[1]), verify.wallMs))} entries/s: ${int(Number(verified[1]))} in ${secs(verify.wallMs)}, peak RSS ${mib(verify.peakRssBytes)}` : `failed (code ${verify.code}): ${errorLine(verify.stderr + verify.stdout)}`,
  });

  const { value: perEvent, cpu: perEventCpu } = await withCpu(server.pid, () => auditPerEvent(server.url, keys, PER_EVENT_SECONDS));
  const perEventRate = rate(perEvent.leaves, perEvent.ms);
  rows.push({ measure: 'audit --all-events before: one request per event (event + inclusionProof), prefix', result: `${int(perEventRate)} leaves/s (${int(perEvent.leaves)} leaves in ${secs(perEvent.ms)}; each a recorded read); ${cpuCell(perEventCpu)}` });
  const { value: pages, cpu: pagesCpu } = await withCpu(server.pid, () => auditByPages(server.url, keys, BEFORE_SECONDS));
  const pagesRate = rate(pages.leaves, pages.ms);
  rows.push({
    measure: 'audit --all-events before: pages of 500 + 100 proofs per request (the previous client), prefix',
    result: `${int(pagesRate)} leaves/s (${int(pages.leaves)} leaves in ${secs(pages.ms)}, ${int(pages.requests)} requests; each page a recorded read); ${cpuCell(pagesCpu)}`,
  });

  const before = await logTreeSize(server.url);
  const { value: audit, cpu: auditCpu } = await withCpu(server.pid, () =>
    runCli(['audit', '--url', server.url, '--vkey', keys.verifierKey, '--state', path.join(dir, 'audit-state.json'), '--all-events', '--token', keys.auditor], env, 3_600_000),
  );
  const checked = /(\d+) events verified against their leaves/.exec(audit.stdout);
  const after = await logTreeSize(server.url);
  if (audit.code !== 0 || !checked) {
    rows.push({ measure: 'audit --all-events after (CLI: one export with proofs)', result: `failed (code ${audit.code}): ${errorLine(audit.stderr + audit.stdout)}` });
  } else {
    const afterRate = rate(Number(checked[1]), audit.wallMs);
    rows.push({
      measure: `audit --all-events after (CLI: one export with proofs), whole log at ${label}`,
      result: `${int(afterRate)} leaves/s (${int(Number(checked[1]))} leaves in ${secs(audit.wallMs)}, CLI peak RSS ${mib(audit.peakRssBytes)}); the log grew by ${after - before} event(s) (its one read); ${cpuCell(auditCpu)} (the CLI is a child of the bench client)`,
      target: '≥ 20× one request per event',
      ok: afterRate >= 20 * perEventRate,
    });
    rows.push({ measure: 'audit --all-events speed-up', result: `${(afterRate / perEventRate).toFixed(0)}× one-request-per-event, ${(afterRate / pagesRate).toFixed(1)}× the previous paged client` });
  }
  await server.stop();
  process.stdout.write(`\n${markdownTable(rows)}\n`);
}

runMain(main);
