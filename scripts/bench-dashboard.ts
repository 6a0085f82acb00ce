/**
 * The dashboard's first view at a log size: `npm run bench:dashboard -- [--events 1000000] [--runs 5]`.
 *
 * Starts a server on a fresh SQLite database in a temp folder (removed at the end, also on
 * SIGINT/SIGTERM; `npm run build` first), fills it over HTTP with `recordEvents` batches
 * (events over 10 groups, 200 actors, 8 actions), then drives Debian's Chromium
 * (playwright-core, /usr/bin/chromium or LEDGER_TEST_CHROMIUM) as an AUDITOR and times, run by
 * run, each page from the user's action to its first useful content:
 *
 *   - sign-in → the Events table showing its first rows (the first view);
 *   - Activity: navigation → the totals by outcome drawn;
 *   - Log: navigation → the latest signed checkpoint shown (on a first visit the page then
 *     offers the log's verifier key for pinning, so no consistency check runs yet).
 *
 * Every run starts a browser with a new, empty profile (nothing cached, no key pinned), so each
 * is a first visit. Reads are recorded as the server records them by default. Prints one table.
 */
import os from 'node:os';
import path from 'node:path';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import {
  Args,
  fillLog,
  freeLoopbackPort,
  gql,
  int,
  log,
  loggedRows,
  makeTempDir,
  markdownTable,
  ms,
  runCli,
  runMain,
  secs,
  startServer,
  summarize,
} from './benchSupport';

const args = new Args();
const EVENTS = Math.round(args.number('events', 1_000_000));
const RUNS = Math.round(args.number('runs', 5));
const CHROMIUM = process.env.LEDGER_TEST_CHROMIUM ?? '/usr/bin/chromium';
const BROWSER_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TARGET_MS = 1000;
const ACTIONS = ['user.login', 'user.logout', 'user.role.grant', 'user.role.revoke', 'document.read', 'document.update', 'invoice.refund', 'export.download'];

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium was not found at ${CHROMIUM} (apt-get install chromium)`);
  const rows = loggedRows();
  const dataDir = await makeTempDir('bench-dashboard-');
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production', HOST: '127.0.0.1', PORT: String(await freeLoopbackPort()), LEDGER_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  for (const name of ['MONGODB_URI', 'LEDGER_DB_NAME', 'LEDGER_SIGNING_KEY_FILE', 'LEDGER_ORIGIN', 'LEDGER_ENCRYPTION', 'LEDGER_KEK', 'LEDGER_KEK_FILE', 'LEDGER_DASHBOARD']) delete env[name];
  const server = await startServer(env);
  const boot = await runCli(['bootstrap-admin', '--name', 'bench'], env, 120_000);
  if (boot.code !== 0) throw new Error(`bootstrap-admin failed: ${boot.stderr}`);
  const admin = boot.stdout.trim().split('\n').at(-1)!;
  const groups: string[] = [];
  for (let g = 0; g < 10; g++) {
    groups.push((await gql<{ createGroup: { id: string } }>(server.url, admin, 'mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: `team-${g}` })).createGroup.id);
  }
  const key = async (name: string, roles: string[], groupIds: string[] | null): Promise<string> =>
    (
      await gql<{ createApiKey: { token: string } }>(
        server.url,
        admin,
        'mutation($name: String!, $roles: [Role!]!, $groups: [ID!]) { createApiKey(input: { name: $name, roles: $roles, groupIds: $groups }) { token } }',
        { name, roles, groups: groupIds },
      )
    ).createApiKey.token;
  const appender = await key('bench-appender', ['APPENDER'], groups);
  const auditor = await key('bench-auditor', ['AUDITOR'], null);

  log(`filling to ${int(EVENTS)} events`);
  let n = 0;
  const fill = await fillLog(server, {
    target: EVENTS,
    batch: 1000,
    clients: 4,
    maxMinutes: 120,
    batchOf: (_i, count) => ({
      token: appender,
      inputs: Array.from({ length: count }, () => {
        n++;
        return {
          action: ACTIONS[n % ACTIONS.length],
          actor: { id: `user-${n % 200}`, type: 'USER' },
          target: { type: 'document', id: `doc-${n % 5000}` },
          outcome: n % 23 === 0 ? 'DENIED' : 'SUCCESS',
          groups: [groups[n % groups.length]],
        };
      }),
    }),
  });
  rows.push({ measure: `fill ${int(fill.from)} → ${int(fill.to)} (4 clients × 1,000-event recordEvents)`, result: `${secs(fill.ms)} at ${int(((fill.to - fill.from) * 1000) / fill.ms)} events/s` });

  const timings = { events: [] as number[], activity: [] as number[], log: [] as number[] };
  for (let run = 1; run <= RUNS; run++) {
    const profile = await makeTempDir('bench-dashboard-chromium-');
    const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: BROWSER_ARGS, viewport: { width: 1280, height: 800 } });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      await page.goto(`${server.url}/`);
      await page.getByLabel('API key').fill(auditor);
      let t0 = performance.now();
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor({ timeout: 60_000 });
      timings.events.push(performance.now() - t0);

      t0 = performance.now();
      await page.goto(`${server.url}/activity`);
      await page.getByRole('heading', { name: 'By outcome' }).waitFor({ timeout: 60_000 });
      await page.getByRole('link', { name: 'SUCCESS' }).first().waitFor({ timeout: 60_000 });
      timings.activity.push(performance.now() - t0);

      t0 = performance.now();
      await page.goto(`${server.url}/log`);
      await page.waitForFunction(() => /\d/.test(document.querySelector('[data-testid="tree-size"]')?.textContent ?? ''), undefined, { timeout: 60_000 });
      timings.log.push(performance.now() - t0);
      log(`run ${run}: events ${ms(timings.events.at(-1)!)}, activity ${ms(timings.activity.at(-1)!)}, log ${ms(timings.log.at(-1)!)}`);
    } finally {
      await browser.close();
    }
  }
  const cell = (values: number[]): string => {
    const s = summarize(values);
    return `p50 ${ms(s.p50)}, max ${ms(s.max)} (${values.map((v) => ms(v)).join(', ')})`;
  };
  const met = (values: number[]): boolean => summarize(values).max <= TARGET_MS;
  rows.push({ measure: `first view: sign-in → Events table with its newest rows @ ${int(fill.to)} events`, result: cell(timings.events), target: `≤ ${TARGET_MS} ms`, ok: met(timings.events) });
  rows.push({ measure: 'Activity: navigation → totals by group, action and outcome (and the 7-day chart under way)', result: cell(timings.activity), target: `≤ ${TARGET_MS} ms`, ok: met(timings.activity) });
  rows.push({ measure: 'Log: navigation → latest signed checkpoint shown (first visit: key offered for pinning)', result: cell(timings.log), target: `≤ ${TARGET_MS} ms`, ok: met(timings.log) });
  await server.stop();
  process.stdout.write(
    [
      '',
      `bench-dashboard: SQLite, one server process, Chromium headless (playwright-core), each run a new profile; Node ${process.version}, ${os.cpus().length} cores; load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} at the end; data in ${path.basename(dataDir)}`,
      '',
      markdownTable(rows),
      '',
    ].join('\n'),
  );
}

runMain(main);
