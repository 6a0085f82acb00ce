/**
 * verify-db throughput: `npm run bench:verify-db -- [--adapter sqlite|mongodb] [--events 1000000]`.
 *
 * Seeds a fresh ledger in a temp folder through the storage port with the server's own code
 * path minus HTTP (Ledger.record: the sequencer builds the leaves, writes events, tiles and
 * signed checkpoints exactly as the server does), closes it, and then times:
 *   1. the storage alone: the integrity reader's walk over every event, no checking, to tell
 *      the database's share from ours;
 *   2. the whole check in this process (checkDatabase, as verify-db calls it);
 *   3. `node bin/audit-ledger.js verify-db` itself, with the environment a server would have
 *      (build first: `npm run build`), with the cores it keeps busy.
 * The default adapter is the embedded SQLite file; `--adapter mongodb` runs on a fresh
 * FerretDB test engine (slow: use --events 100000). The temp folder and every process are
 * removed/stopped at the end, also on error and SIGINT/SIGTERM. Prints one markdown table.
 */
import os from 'node:os';
import path from 'node:path';
import { type Config, engineCacheDir } from '../src/config';
import { checkDatabase } from '../src/integrity/databaseCheck';
import { type RecordRequest, Ledger } from '../src/ledger/ledger';
import { createLogger } from '../src/logger';
import { startEmbeddedEngine } from '../src/storage/mongodb/engine/embeddedEngine';
import { openStorage, sqliteFile } from '../src/storage/open';
import {
  Args,
  int,
  log,
  loggedRows,
  makeTempDir,
  markdownTable,
  onCleanup,
  ownCpuCell,
  pathBytes,
  randomSource,
  runCli,
  errorLine,
  runMain,
  secs,
  withCpu,
} from './benchSupport';

const args = new Args();
const ADAPTER = args.string('adapter', 'sqlite');
if (ADAPTER !== 'sqlite' && ADAPTER !== 'mongodb') throw new Error(`--adapter must be sqlite or mongodb (got ${ADAPTER})`);
const EVENTS = Math.round(args.number('events', 1_000_000));
/** Events per Ledger.record call; two calls are kept in flight so the sequencer always has work. */
const CHUNK = Math.min(10_000, Math.round(args.number('chunk', 5000)));
const TARGET = 150_000;
const MB = 1e6;

const rand = randomSource(0xd15c);
const ACTIONS = ['user.login', 'user.logout', 'document.read', 'document.update', 'invoice.approve', 'payment.refund', 'settings.update', 'export.download'];

function request(i: number): RecordRequest {
  const actor = Math.floor(rand() * 1000);
  const outcome = rand();
  return {
    content: {
      action: ACTIONS[Math.floor(rand() * ACTIONS.length)]!,
      actor: { id: `user-${actor}`, type: 'USER', name: `User ${actor}` },
      target: { type: 'document', id: `doc-${Math.floor(rand() * 100_000)}` },
      outcome: outcome < 0.95 ? 'SUCCESS' : outcome < 0.98 ? 'FAILURE' : 'DENIED',
      occurredAt: new Date().toISOString(),
      source: { ip: `10.0.${actor >> 8}.${actor & 255}`, requestId: `req-${i}` },
      metadata: { seq: i, client: 'bench-verify-db' },
      explicitGroups: [`group-${Math.floor(rand() * 100)}`],
    },
  };
}

async function main(): Promise<void> {
  const rows = loggedRows();
  const dataDir = await makeTempDir('bench-verify-db-');
  const env: NodeJS.ProcessEnv = { ...process.env, LEDGER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of ['MONGODB_URI', 'LEDGER_DB_NAME', 'LEDGER_SIGNING_KEY_FILE', 'LEDGER_ORIGIN', 'LEDGER_ENCRYPTION', 'LEDGER_KEK', 'LEDGER_KEK_FILE']) delete env[name];
  let storagePath = sqliteFile(dataDir);
  if (ADAPTER === 'mongodb') {
    const engineDir = path.join(dataDir, 'engine');
    const engine = await startEmbeddedEngine({ dataDir: engineDir, cacheDir: engineCacheDir(), onProgress: (l) => log(`engine: ${l}`) });
    onCleanup(() => engine.stop());
    env.MONGODB_URI = engine.uri;
    env.LEDGER_DB_NAME = 'audit_ledger_bench';
    storagePath = path.join(engineDir, 'db');
  }
  const config: Pick<Config, 'mongodbUri' | 'dbName' | 'dataDir'> = { mongodbUri: env.MONGODB_URI, dbName: env.LEDGER_DB_NAME ?? 'audit_ledger', dataDir };

  // ---- seed through the port, with the server's sequencer ----
  log(`seeding ${int(EVENTS)} events (${ADAPTER})`);
  const storage = await openStorage(config, { create: true });
  const ledger = await Ledger.open({ storage, logger: createLogger('warn'), signingKeyFile: path.join(dataDir, 'signing.key'), origin: undefined });
  const recorder = { keyId: 'bench-key', userId: 'bench-user', groupIds: [] };
  let issued = 0;
  let done = 0;
  const started = performance.now();
  let lastReport = started;
  const seeded = await withCpu(process.pid, async () => {
    await Promise.all(
      [0, 1].map(async () => {
        while (issued < EVENTS) {
          const from = issued;
          const count = Math.min(CHUNK, EVENTS - from);
          issued += count;
          await ledger.record(
            Array.from({ length: count }, (_, k) => request(from + k)),
            recorder,
          );
          done += count;
          if (performance.now() - lastReport > 10_000) {
            lastReport = performance.now();
            log(`seeded ${int(done)} / ${int(EVENTS)} (${int((done * 1000) / (lastReport - started))} events/s)`);
          }
        }
      }),
    );
  });
  const seedMs = performance.now() - started;
  const size = (await ledger.latestCheckpoint()).treeSize;
  const verifierKey = ledger.verifierKey;
  await ledger.close();
  await storage.close();
  const disk = ADAPTER === 'sqlite' ? (await pathBytes(storagePath)) + (await pathBytes(`${storagePath}-wal`)) : await pathBytes(storagePath);
  rows.push({
    measure: `seed ${int(size)} events in process (Ledger.record, ${CHUNK}-event calls, 2 in flight)`,
    result: `${int((size * 1000) / seedMs)} events/s (${secs(seedMs)}); ${int(disk / size)} bytes/event on disk; ${ownCpuCell(seeded.cpu)}`,
  });

  // ---- 1. the storage alone ----
  const reading = await openStorage(config, { create: false });
  try {
    const t0 = performance.now();
    const read = await withCpu(process.pid, async () => {
      let n = 0;
      for await (const batch of reading.integrity.events(20_000)) n += batch.length;
      return n;
    });
    const readMs = performance.now() - t0;
    rows.push({
      measure: 'storage alone: integrity reader walk over every event, no checking',
      result: `${int((read.value * 1000) / readMs)} rows/s (${int(read.value)} rows in ${secs(readMs)}${ADAPTER === 'sqlite' ? '; the file was just written, so it is in the page cache' : ''}); ${ownCpuCell(read.cpu)}`,
    });

    // ---- 2. the check in this process, with the leaves re-derived here, then in worker threads ----
    for (const workers of [...new Set([0, 1, os.availableParallelism()])]) {
      const check = await withCpu(process.pid, () => checkDatabase({ reader: reading.integrity, verifierKey, workers }));
      const report = check.value;
      rows.push({
        measure: `checkDatabase in this process (what verify-db runs), ${
          workers === 0 ? 'one thread reads, re-derives leaves and builds the tree' : `${workers} worker thread${workers > 1 ? 's' : ''} read and re-derive, one builds the tree`
        }`,
        result: `${int((report.treeSize * 1000) / report.elapsedMs)} leaves/s (${int(report.treeSize)} leaves in ${secs(report.elapsedMs)}); ${report.intact ? 'INTACT' : '**NOT INTACT**'}; ${
          report.checkpointsChecked
        } checkpoint roots compared; ${ownCpuCell(check.cpu)}`,
        target: `≥ ${int(TARGET)} leaves/s`,
        ok: report.intact && (report.treeSize * 1000) / report.elapsedMs >= TARGET,
      });
    }
  } finally {
    await reading.close();
  }

  // ---- 3. the CLI, as operators run it (default: one worker thread per core), with one, and with none ----
  for (const workers of [undefined, 1, 0]) {
    log(`running verify-db${workers === undefined ? '' : ` --workers ${workers}`}`);
    const run = await runCli(['verify-db', ...(workers === undefined ? [] : ['--workers', String(workers)])], env, 4 * 3600_000);
    const rate = Number(/\(([\d,]+) leaves\/s\)/.exec(run.stdout)?.[1]?.replace(/,/g, '') ?? NaN);
    const checkSeconds = Number(/time\s+([\d.]+) s/.exec(run.stdout)?.[1] ?? NaN);
    const intact = run.code === 0 && /: INTACT/.test(run.stdout);
    const busy = run.cpuSeconds / (run.wallMs / 1000);
    const threads = workers ?? os.availableParallelism();
    rows.push({
      measure: `verify-db CLI (node bin/audit-ledger.js verify-db${workers === undefined ? '' : ` --workers ${workers}`}), ${int(size)} leaves`,
      result: intact
        ? `${int(rate)} leaves/s (check ${checkSeconds.toFixed(1)} s; ${secs(run.wallMs)} with process start); INTACT; peak RSS ${int(run.peakRssBytes / MB)} MB; ` +
          `${busy.toFixed(2)} cores busy on average (CPU ${run.cpuSeconds.toFixed(1)} s): ${
            threads === 0 ? 'one thread reads, re-derives and builds the tree' : `${threads} worker thread${threads > 1 ? 's' : ''} read and re-derive, one builds the tree`
          }`
        : `**failed** (exit ${run.code}): ${run.stdout.trim().split('\n').slice(0, 6).join(' / ')} ${errorLine(run.stderr)}`,
      target: `≥ ${int(TARGET)} leaves/s`,
      ok: intact && rate >= TARGET,
    });
  }

  process.stdout.write(
    [
      '',
      `bench-verify-db: adapter ${ADAPTER}, ${int(size)} events; Node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}); load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')}`,
      '',
      markdownTable(rows),
      '',
    ].join('\n'),
  );
}

runMain(main);
