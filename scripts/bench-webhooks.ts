/**
 * Webhook delivery lag under load: `npm run bench:webhooks` starts the real server on a fresh
 * SQLite folder, subscribes a local receiver to every event, records BENCH_RATE events per
 * second (default 1,000, as recordEvents calls of BENCH_BATCH events every BENCH_BATCH/RATE
 * seconds from a paced loop) for BENCH_SECONDS (default 20), then waits for the receiver to
 * have every event. Lag = arrival at the receiver − the event's recordedAt (both clocks are
 * this machine's). Prints one markdown table; the target is p99 ≤ 1 s. Needs `npm run build`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { Args, freeLoopbackPort, gql, int, loggedRows, makeTempDir, markdownTable, ms, runCli, runMain, sleep, startServer, summarize } from './benchSupport';

runMain(async () => {
  const args = new Args();
  const rate = args.number('rate', Number(process.env.BENCH_RATE ?? 1000));
  const seconds = args.number('seconds', Number(process.env.BENCH_SECONDS ?? 20));
  const batch = args.number('batch', Number(process.env.BENCH_BATCH ?? 50));
  const rows = loggedRows();
  const loadAtStart = os.loadavg()[0]!;

  const lags: number[] = [];
  const seen = new Set<number>();
  let requests = 0;
  let waiting: (() => void) | undefined;
  let expected = Infinity;
  const receiver = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c: string) => (body += c));
    req.on('end', () => {
      const arrived = Date.now();
      requests++;
      const { events } = JSON.parse(body) as { events: { leafIndex: number; recordedAt: string }[] };
      for (const e of events) {
        if (seen.has(e.leafIndex)) continue;
        seen.add(e.leafIndex);
        lags.push(arrived - Date.parse(e.recordedAt));
      }
      res.writeHead(204).end();
      if (seen.size >= expected) waiting?.();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(await freeLoopbackPort()),
    LEDGER_DATA_DIR: await makeTempDir('bench-webhooks-'),
    LEDGER_RECORD_READS: 'false',
    LEDGER_RATE_LIMIT_PER_KEY: '1000000/1000000',
    LEDGER_RETENTION_INTERVAL_MS: '0',
    LOG_LEVEL: 'warn',
  };
  for (const name of ['MONGODB_URI', 'LEDGER_DB_NAME', 'LEDGER_SIGNING_KEY_FILE', 'LEDGER_ORIGIN', 'LEDGER_ENCRYPTION', 'LEDGER_KEK', 'LEDGER_KEK_FILE']) delete env[name];
  const server = await startServer(env);
  try {
    const boot = await runCli(['bootstrap-admin', '--name', 'bench'], env, 120_000);
    if (boot.code !== 0) throw new Error(`bootstrap-admin failed: ${boot.stderr}`);
    const admin = boot.stdout.trim().split('\n').at(-1)!;
    const appender = (await gql<{ createApiKey: { token: string } }>(server.url, admin, 'mutation { createApiKey(input: { name: "bench", roles: [APPENDER] }) { token } }')).createApiKey.token;
    await gql(server.url, admin, 'mutation($u: String!) { createWebhook(input: { url: $u, fromLeafIndex: 0 }) { secret } }', { u: hookUrl });

    const total = Math.round(rate * seconds);
    const everyMs = (1000 * batch) / rate;
    const started = performance.now();
    const inFlight: Promise<unknown>[] = [];
    let sent = 0;
    let late = 0;
    for (let i = 0; sent < total; i++) {
      const due = started + i * everyMs;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      else late++;
      const n = Math.min(batch, total - sent);
      const inputs = Array.from({ length: n }, (_, k) => ({ action: 'bench.event', actor: { id: `u-${(sent + k) % 97}`, type: 'USER' } }));
      sent += n;
      inFlight.push(gql(server.url, appender, 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }', { i: inputs }));
    }
    await Promise.all(inFlight);
    const recordSeconds = (performance.now() - started) / 1000;
    // Every event of the log: the bench's own, plus the few the setup recorded (keys, the subscription).
    const { checkpoint } = await gql<{ checkpoint: { treeSize: number } }>(server.url, undefined, '{ checkpoint { treeSize } }');
    expected = checkpoint.treeSize;
    if (seen.size < expected) await new Promise<void>((resolve) => (waiting = resolve));
    server.assertRunning('the benchmark');

    const s = summarize(lags);
    const sorted = [...lags].sort((a, b) => a - b);
    const p95 = sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)]!;
    // The server, its clients and the receiver share this machine: a busy machine shows up as lag.
    rows.push({ measure: 'machine load (1-min average, start → end)', result: `${loadAtStart.toFixed(1)} → ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores` });
    rows.push({ measure: 'events recorded', result: `${int(total)} in ${recordSeconds.toFixed(1)} s (${int(total / recordSeconds)}/s offered ${int(rate)}/s; ${late} of ${Math.ceil(total / batch)} calls sent late)` });
    rows.push({ measure: 'events delivered (distinct)', result: `${int(seen.size)} in ${int(requests)} POSTs (mean ${(seen.size / Math.max(1, requests)).toFixed(1)} per POST)` });
    rows.push({ measure: 'delivery lag p50', result: ms(s.p50) });
    rows.push({ measure: 'delivery lag p95', result: ms(p95) });
    rows.push({ measure: 'delivery lag p99', result: ms(s.p99), target: '≤ 1 s', ok: s.p99 <= 1000 });
    rows.push({ measure: 'delivery lag max', result: ms(s.max) });
    process.stdout.write(`\nWebhook delivery lag at ${int(rate)} events/s (SQLite, one subscription, local receiver)\n\n${markdownTable(rows)}\n`);
  } finally {
    await server.stop();
    receiver.closeAllConnections();
    receiver.close();
  }
});
