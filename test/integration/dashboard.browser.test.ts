/**
 * The web dashboard in a real browser: Debian's Chromium driven by playwright-core, against a
 * real server process on each storage adapter (sqlite and mongodb: the pages lean on counts,
 * filters and paging whose queries differ per adapter). Screenshots of each page go to
 * test-output/dashboard/<adapter>/. Without Chromium the browser tests are skipped saying so;
 * without the mongodb test engine its half is (describeEachAdapter); under CI=true either is
 * a failure.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { auditAccessibility, describeViolations } from '../support/accessibilityAudit';
import { describeEachAdapter, type AdapterName } from '../support/adapters';
import { errorCode, gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, ledgerEnv, runCli, startLedger, type Keys, type LedgerEnv } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { createTestCosigner } from '../support/testCosigner';

const CHROMIUM = process.env.LEDGER_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS_ROOT = path.resolve(__dirname, '..', '..', 'test-output', 'dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const missing = existsSync(CHROMIUM) ? undefined : `Chromium was not found at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;

describe('the dashboard is served by the server [sqlite]', () => {
  let env: LedgerEnv;
  let server: ServerProcess;
  beforeAll(async () => {
    env = await ledgerEnv('dashhttp');
    server = await startLedger(env.env);
  });
  afterAll(async () => {
    await server?.stop();
    await env?.dispose();
  });

  it('answers its page at / and at deep links, with a self-only CSP, and leaves the API as it was', async () => {
    for (const p of ['/', '/events?action=user.role.*', '/events/3', '/log', '/activity', '/directory']) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).not.toMatch(/unsafe|https?:/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const html = await (await fetch(`${server.url}/`)).text();
    const script = /src="(\/assets\/main-[A-Z0-9]+\.js)"/.exec(html)?.[1];
    const style = /href="(\/assets\/main-[A-Z0-9]+\.css)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect(style).toBeDefined();
    const js = await fetch(`${server.url}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}${style}`)).headers.get('content-type')).toMatch(/^text\/css/);

    // Everything that is not the dashboard keeps the API's JSON answers.
    for (const p of ['/nope', '/assets/missing-ABC.js', '/assets/..%2fpackage.json', '/events/abc', '/explorer2']) {
      const res = await fetch(`${server.url}${p}`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${server.url}/checkpoint`)).status).toBe(200);
    const data = await gqlOk<{ serverInfo: { name: string } }>(server.url, '{ serverInfo { name } }');
    expect(data.serverInfo.name).toBe('audit-ledger');
  });

  it("answers `viewer` only to a valid key, and stays up", async () => {
    expect(errorCode(await gql(server.url, '{ viewer { name } }'))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(server.url, '{ viewer { name } }', {}, 'alk_not-a-key'))).toBe('UNAUTHENTICATED');
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('is off with LEDGER_DASHBOARD=off', async () => {
    const offEnv = await ledgerEnv('dashoff', { LEDGER_DASHBOARD: 'off' });
    const off = await startLedger(offEnv.env);
    try {
      const res = await fetch(`${off.url}/`);
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
      expect((await fetch(`${off.url}/healthz`)).status).toBe(200);
    } finally {
      await off.stop();
      await offEnv.dispose();
    }
  });
});

/** Chromium with a fresh profile of its own (pinned keys and seen checkpoints live in its localStorage). */
async function launchChromium(): Promise<{ profile: string; browser: BrowserContext }> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 800 } });
  return { profile, browser };
}

async function tearDown(browser: BrowserContext | undefined, server: ServerProcess | undefined, env: LedgerEnv | undefined, profile: string | undefined): Promise<void> {
  await browser?.close();
  await server?.stop();
  await env?.dispose();
  if (profile) await rm(profile, { recursive: true, force: true });
}

/** Once per storage adapter; without Chromium, skipped (a failure under CI=true) saying what to install. */
function browserSuite(title: string, body: (adapter: AdapterName) => void): void {
  if (!missing) return describeEachAdapter(title, body);
  if (process.env.CI === 'true') {
    describe(title, () => {
      it('has Chromium (required under CI=true)', () => {
        throw new Error(missing);
      });
    });
  } else describe.skip(`${title} (skipped: ${missing})`, () => body('sqlite'));
}

browserSuite('the dashboard in Chromium', (adapter) => {
  jest.setTimeout(240_000);
  const SHOTS = path.join(SHOTS_ROOT, adapter);
  let env: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let readerKey: string;
  let profile: string;
  let browser: BrowserContext;
  const ids: Record<string, string> = {};

  const admin = <T>(query: string, variables: Record<string, unknown> = {}) => gqlOk<T>(server.url, query, variables, keys.admin);

  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    env = await ledgerEnv(`dashboard_${adapter}`, {}, adapter);
    server = await startLedger(env.env);
    keys = await bootstrapKeys(server.url, env.env);
    for (const name of ['payments', 'platform']) {
      ids[name] = (await admin<{ createGroup: { id: string } }>('mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }', { input: { name } })).createGroup.id;
    }
    for (const [user, group] of [['alice', 'payments'], ['bob', 'platform']] as const) {
      ids[user] = (await admin<{ createUser: { id: string } }>('mutation($input: CreateUserInput!) { createUser(input: $input) { id } }', { input: { name: user, type: 'HUMAN' } })).createUser.id;
      await admin('mutation($u: ID!, $g: ID!) { addGroupMember(userId: $u, groupId: $g) { id } }', { u: ids[user], g: ids[group] });
    }
    readerKey = (
      await admin<{ createApiKey: { token: string } }>('mutation($input: ApiKeyInput!) { createApiKey(input: $input) { token } }', {
        input: { name: 'payments-reader', roles: ['READER'], groupIds: [ids.payments] },
      })
    ).createApiKey.token;
    const actions = ['user.role.grant', 'user.role.revoke', 'invoice.refund', 'user.login'];
    const inputs = Array.from({ length: 64 }, (_, i) => ({
      action: actions[i % actions.length],
      actor: { id: i % 2 === 0 ? ids.alice : ids.bob, type: 'USER' },
      target: { type: 'account', id: `acct-${i}` },
      outcome: i % 7 === 0 ? 'DENIED' : 'SUCCESS',
    }));
    await gqlOk(server.url, 'mutation($inputs: [EventInput!]!) { recordEvents(inputs: $inputs) { leafIndex } }', { inputs }, keys.appender);
    ({ profile, browser } = await launchChromium());
  });

  afterAll(() => tearDown(browser, server, env, profile));

  async function signIn(page: Page, token: string): Promise<void> {
    await page.goto(`${server.url}/`);
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  it('signs in, filters by group and action prefix, pages, opens an event and verifies it; a tampered proof fails naming the mismatch', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    await signIn(page, keys.auditor);
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(page.url()).not.toContain(keys.auditor);
    await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'events.png') });

    await page.getByLabel('Group').selectOption({ label: 'payments' });
    await page.getByLabel('Action').fill('user.role.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/action=user\.role\.\*/);
    expect(new URL(page.url()).searchParams.get('group')).toBe(ids.payments);
    const rows = page.locator('table.events tbody tr:not(.placeholder)');
    await rows.first().waitFor();
    // alice (payments) did the even-numbered events: grant and refund alternate, so user.role.grant only.
    const actions = await rows.locator('td:nth-child(3)').allTextContents();
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.every((a) => a.startsWith('user.role.'))).toBe(true);
    expect((await rows.locator('td:nth-child(7)').allTextContents()).every((g) => g === 'payments')).toBe(true);

    // Paging through everything, newest first: 25 per page.
    await page.goto(`${server.url}/events?actor=${ids.alice}`);
    await rows.first().waitFor();
    const first = await rows.locator('td:nth-child(1)').allTextContents();
    expect(first).toHaveLength(25);
    await page.getByRole('link', { name: 'Next page »' }).click();
    await page.getByText(/Page 2, \d+ events/).waitFor();
    const second = await rows.locator('td:nth-child(1)').allTextContents();
    expect(Number(second[0])).toBeLessThan(Number(first.at(-1)));
    await page.screenshot({ path: path.join(SHOTS, 'events-page2.png') });

    await rows.locator('td:nth-child(1) a').first().click();
    await page.getByRole('heading', { name: /^Event \d+/ }).waitFor();
    await expect(page.getByTestId('leaf').textContent()).resolves.toContain('"action"');
    await page.getByRole('button', { name: 'Verify' }).click();
    const offered = page.getByTestId('offered-key');
    await page.getByRole('button', { name: 'Trust and pin this key' }).waitFor();
    const serverKey = (await gqlOk<{ logInfo: { verifierKey: string } }>(server.url, '{ logInfo { verifierKey } }')).logInfo.verifierKey;
    await page.waitForFunction((k) => document.querySelector('[data-testid="offered-key"]')?.textContent === k, serverKey);
    expect(await offered.textContent()).toBe(serverKey);
    await page.getByRole('button', { name: 'Trust and pin this key' }).click();
    const verdict = page.getByTestId('verify-result');
    await verdict.waitFor();
    expect(await verdict.getAttribute('class')).toContain('good');
    expect(await verdict.textContent()).toContain('Verified');
    expect(await verdict.locator('li.passed').count()).toBe(5);
    await page.screenshot({ path: path.join(SHOTS, 'event-verified.png'), fullPage: true });

    // The proof altered in flight: one hash of the audit path flipped.
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('inclusionProof')) return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data: { inclusionProof: { hashes: string[] } } };
      const h = body.data.inclusionProof.hashes;
      h[0] = (h[0]!.startsWith('0') ? '1' : '0') + h[0]!.slice(1);
      await route.fulfill({ response, json: body });
    });
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('[data-testid="verify-result"].bad').waitFor();
    const failed = await page.getByTestId('verify-result').textContent();
    expect(failed).toContain('Verification failed');
    expect(failed).toMatch(/root mismatch/);
    await page.screenshot({ path: path.join(SHOTS, 'event-tampered.png'), fullPage: true });

    // The leaf text altered in flight: the leaf hash no longer matches, and that is what is named.
    await page.unroute('**/graphql');
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('query Event(')) return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data: { event: { leaf: string; action: string } } };
      body.data.event.leaf = body.data.event.leaf.replace(/"action":"[^"]+"/, '"action":"user.login"');
      body.data.event.action = 'user.login';
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('[data-testid="verify-result"].bad').waitFor();
    expect(await page.getByTestId('verify-result').textContent()).toMatch(/leaf hash mismatch/);
    await page.unroute('**/graphql');
    expect(problems.filter((p) => !/Failed to load resource/.test(p))).toEqual([]);
    await page.close();
  });

  it('shows the log with its consistency against the checkpoint seen last, and alerts when it does not hold', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.auditor);
    await page.getByRole('link', { name: 'Log' }).click();
    // The key was pinned by the previous test, in this browser profile.
    await page.getByTestId('consistency-result').waitFor();
    await gqlOk(server.url, 'mutation($inputs: [EventInput!]!) { recordEvents(inputs: $inputs) { leafIndex } }', { inputs: [{ action: 'user.login', actor: { id: ids.alice!, type: 'USER' } }] }, keys.appender);
    await page.getByRole('button', { name: 'Check again' }).click();
    await page.getByText(/The log only grew/).first().waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="consistency-result"]')?.textContent?.includes('→'));
    expect(await page.getByTestId('consistency-result').getAttribute('class')).toContain('good');
    // Size over time comes from the server's checkpoint archive, from the empty tree on.
    await page.getByTestId('server-size-series').waitFor();
    const serverSizes = page.getByTestId('server-sizes');
    await serverSizes.locator('summary').click();
    const sizes = (await serverSizes.locator('tbody td.num').allTextContents()).map(Number);
    expect(sizes[0]).toBe(0);
    expect(sizes.at(-1)).toBeGreaterThan(0);
    await page.screenshot({ path: path.join(SHOTS, 'log.png'), fullPage: true });

    // This browser remembers a different history at the same size: a forked log.
    await page.evaluate(() => {
      const last = JSON.parse(localStorage.getItem('audit-ledger.lastCheckpoint')!) as { rootHash: string };
      last.rootHash = last.rootHash.replace(/^./, (c) => (c === '0' ? '1' : '0'));
      localStorage.setItem('audit-ledger.lastCheckpoint', JSON.stringify(last));
    });
    await page.reload();
    const alert = page.getByTestId('consistency-alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/root mismatch/);
    await page.screenshot({ path: path.join(SHOTS, 'log-alert.png'), fullPage: true });
    await page.close();
  });

  it("lists the current checkpoint's witness cosignatures, checked against the witness keys pinned in this browser", async () => {
    const page = await browser.newPage();
    await signIn(page, keys.auditor);
    // The previous test left a forged history in this profile; start from a clean one.
    await page.evaluate(() => localStorage.removeItem('audit-ledger.lastCheckpoint'));
    await page.getByRole('link', { name: 'Log' }).click();
    await page.getByTestId('cosignatures').getByText(/No witness has cosigned/).waitFor();

    // The server has no witnesses: serve its checkpoint with two cosignatures added, one by a pinned witness.
    const pinned = createTestCosigner('witness.example/pinned');
    const stranger = createTestCosigner('witness.example/stranger');
    await page.route('**/graphql', async (route) => {
      if (!route.request().postData()?.includes('checkpoint { origin treeSize rootHash note }')) return route.continue();
      const response = await route.fetch();
      const body = (await response.json()) as { data: { checkpoint: { note: string } } };
      body.data.checkpoint.note = stranger.cosign(pinned.cosign(body.data.checkpoint.note, 1_767_225_600), 1_767_225_660);
      await route.fulfill({ response, json: body });
    });
    await page.reload();
    const card = page.getByTestId('cosignatures');
    await card.getByText('witness.example/stranger').waitFor();
    expect(await card.textContent()).toContain('unverified (no pinned key)');
    await card.getByText(/Pinned witness keys/).click();
    await card.getByLabel('Witness keys').fill('bad key');
    await card.getByRole('button', { name: 'Pin witness keys' }).click();
    await card.getByRole('alert').waitFor();
    await card.getByLabel('Witness keys').fill(pinned.verifierKey);
    await card.getByRole('button', { name: 'Pin witness keys' }).click();
    await card.getByText('✔ valid').waitFor();
    expect(await card.locator('tbody tr').count()).toBe(2);
    await page.screenshot({ path: path.join(SHOTS, 'log-cosignatures.png'), fullPage: true });
    await page.unroute('**/graphql');
    await page.close();
  });

  it('shows activity by group, action and outcome, with denied attempts isolated', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.auditor);
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('ul.bars li').first().waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'activity.png'), fullPage: true });
    await page.getByRole('link', { name: 'Denied attempts' }).click();
    await page.waitForURL(/scope=denied/);
    const outcomeChart = page.locator('.chart', { has: page.getByRole('heading', { name: 'By outcome' }) });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.chart')).every((c) => c.getAttribute('aria-busy') === 'false'));
    expect(await outcomeChart.locator('.bar-label').allTextContents()).toEqual(['DENIED']);
    await page.close();
  });

  it('shows activity over time in buckets (24 h, 7 d, 30 d), stacked by outcome, with denied attempts and ledger.* isolated, each bar a link to its events', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.auditor);
    await page.getByRole('link', { name: 'Activity' }).click();
    const card = page.getByTestId('over-time');
    const settled = () => page.waitForFunction(() => Array.from(document.querySelectorAll('.chart')).every((c) => c.getAttribute('aria-busy') === 'false'));
    const column = async (n: number) => (await card.locator(`[data-testid="over-time-table"] tbody td:nth-child(${n})`).allTextContents()).map(Number);
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    await card.locator('[data-testid="over-time-table"]').waitFor({ state: 'attached' });
    await settled();
    // 7 days by default, in half-day buckets; every event of this run was recorded within it.
    expect(await card.locator('tbody tr').count()).toBe(14);
    expect(await card.locator('svg').getAttribute('aria-label')).toMatch(/^[\d,]+ events in the last 7 days/);
    expect(sum(await column(5))).toBeGreaterThanOrEqual(65);

    await card.getByRole('link', { name: 'Last 24 hours' }).click();
    await page.waitForURL(/range=24h/);
    await settled();
    expect(await card.locator('tbody tr').count()).toBe(24);
    expect(await card.locator('a.time-bar').count()).toBe(24);
    // Recorded minutes ago: everything is in the last two hourly buckets (the run may straddle an hour).
    const totals = await column(5);
    expect(sum(totals.slice(-2))).toBeGreaterThanOrEqual(65);
    expect(sum(totals.slice(0, -2))).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'activity-over-time.png'), fullPage: true });

    // Denied attempts: the period stays, only DENIED is counted, and it matches the totals.
    await page.getByRole('link', { name: 'Denied attempts' }).click();
    await page.waitForURL((u) => u.searchParams.get('scope') === 'denied' && u.searchParams.get('range') === '24h');
    await settled();
    const outcomeChart = page.locator('.chart', { has: page.getByRole('heading', { name: 'By outcome' }) });
    const deniedTotal = Number(await outcomeChart.locator('.bar-value').first().textContent());
    expect(deniedTotal).toBeGreaterThanOrEqual(10);
    expect(sum(await column(2))).toBe(0);
    expect(sum(await column(3))).toBe(0);
    expect(sum(await column(4))).toBe(deniedTotal);
    expect(sum(await column(5))).toBe(deniedTotal);
    await page.screenshot({ path: path.join(SHOTS, 'activity-over-time-denied.png'), fullPage: true });

    // A bar opens its events: that period, still denied only.
    await card.locator('a.time-bar').last().click();
    await page.waitForURL(/\/events\?/);
    const url = new URL(page.url());
    expect(url.searchParams.get('outcome')).toBe('DENIED');
    expect(url.searchParams.get('from')).toBeTruthy();
    expect(url.searchParams.get('to')).toBeTruthy();
    const rows = page.locator('table.events tbody tr:not(.placeholder)');
    await rows.first().waitFor();
    expect((await rows.locator('td:nth-child(6)').allTextContents()).every((o) => o.includes('DENIED'))).toBe(true);
    await page.goBack();

    // The ledger's own events over 30 days: ledger.* only.
    await page.getByRole('link', { name: "The ledger's own events (ledger.*)" }).click();
    await page.waitForURL(/scope=ledger/);
    await card.getByRole('link', { name: 'Last 30 days' }).click();
    await page.waitForURL((u) => u.searchParams.get('scope') === 'ledger' && u.searchParams.get('range') === '30d');
    await settled();
    expect(await card.locator('tbody tr').count()).toBe(15);
    expect(sum(await column(5))).toBeGreaterThan(0);
    const actionChart = page.locator('.chart', { has: page.getByRole('heading', { name: 'By action' }) });
    expect((await actionChart.locator('.bar-label').allTextContents()).every((a) => a.startsWith('ledger.'))).toBe(true);
    await page.close();
  });

  it('lets an ADMIN create a key (token shown once) and revoke it', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.admin);
    // ADMIN may not read events (separation of duties): the dashboard says so and where to go.
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByText('This key may not read events').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'admin-events.png') });
    await page.getByRole('link', { name: 'Directory' }).first().click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await page.locator('#k-name').fill('ci-reader');
    await page.getByRole('checkbox', { name: 'READER' }).check();
    await page.locator('#k-groups').selectOption({ label: 'platform' });
    await page.getByRole('button', { name: 'Create key' }).click();
    const token = await page.locator('[data-testid="new-token"] .token-value').textContent();
    expect(token).toMatch(/\S{20,}/);
    await page.locator('tr[data-key-name="ci-reader"]').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'directory-new-key.png'), fullPage: true });
    const viewer = await gqlOk<{ viewer: { groups: { name: string }[] } }>(server.url, '{ viewer { groups { name } } }', {}, token!);
    expect(viewer.viewer.groups.map((g) => g.name)).toEqual(['platform']);

    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Revoke ci-reader' }).click();
    await page.locator('tr[data-key-name="ci-reader"] .badge', { hasText: 'revoked' }).waitFor();
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query: '{ viewer { name } }' }) });
    expect(((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    await page.screenshot({ path: path.join(SHOTS, 'directory.png'), fullPage: true });
    await page.close();
  });

  it('lets an ADMIN manage users, groups and memberships through the mutations, each change in the ledger; an AUDITOR reads the directory only', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.admin);
    await page.getByRole('link', { name: 'Directory' }).first().click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();

    await page.getByRole('form', { name: 'Create a user' }).getByLabel('Name').fill('carol');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.getByRole('cell', { name: 'carol', exact: true }).waitFor();
    await page.getByLabel('Group name').fill('audit-team');
    await page.getByLabel('Description').fill('internal audit');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('heading', { name: 'audit-team' }).waitFor();
    await page.locator('#m-user').selectOption({ label: 'carol' });
    await page.locator('#m-group').selectOption({ label: 'audit-team' });
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByRole('button', { name: 'Remove carol from audit-team' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'directory-membership.png'), fullPage: true });

    const carol = async () => {
      const { users } = await admin<{ users: { id: string; name: string; status: string; groups: { name: string }[] }[] }>('{ users { id name status groups { name } } }');
      return users.find((u) => u.name === 'carol')!;
    };
    expect((await carol()).groups.map((g) => g.name)).toEqual(['audit-team']);
    await page.getByRole('button', { name: 'Remove carol from audit-team' }).click();
    await page.locator('.group', { has: page.getByRole('heading', { name: 'audit-team' }) }).getByText('no members').waitFor();
    await page.getByRole('row', { name: /carol/ }).getByRole('button', { name: 'Disable' }).click();
    await page.getByRole('row', { name: /carol/ }).getByRole('button', { name: 'Enable' }).waitFor();
    expect(await carol()).toMatchObject({ status: 'DISABLED', groups: [] });

    // Every change is a ledger event, by the ADMIN's key.
    const { events } = await gqlOk<{ events: { edges: { node: { action: string } }[] } }>(
      server.url,
      '{ events(filter: { actionPrefix: "ledger." }, first: 30, order: NEWEST_FIRST) { edges { node { action } } } }',
      {},
      keys.auditor,
    );
    const actions = events.edges.map((e) => e.node.action);
    for (const a of ['ledger.user.created', 'ledger.group.created', 'ledger.group.member.added', 'ledger.group.member.removed', 'ledger.user.updated']) expect(actions).toContain(a);

    // An AUDITOR sees the same directory, with no way to change it.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, keys.auditor);
    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('cell', { name: 'carol', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'audit-team' }).waitFor();
    expect(await page.locator('main form').count()).toBe(0);
    expect(await page.locator('main button').count()).toBe(0);
    await page.close();
  });

  it('lets the bootstrap ADMIN create an AUDITOR key for itself (as a separate user) and switch the tab to it, landing on the events', async () => {
    const page = await browser.newPage();
    await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await signIn(page, keys.admin);
    await page.getByRole('link', { name: 'Activity' }).click();
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    await page.getByTestId('auditor-offer').waitFor();
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByTestId('auditor-offer').waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'admin-auditor-offer.png') });
    await page.getByRole('button', { name: 'Create an AUDITOR key for yourself and switch to it' }).click();

    const fresh = page.getByTestId('fresh-key');
    await fresh.waitFor();
    const token = await page.getByLabel('Token').inputValue();
    expect(token).toMatch(/\S{20,}/);
    expect(await page.evaluate(() => sessionStorage.getItem('audit-ledger.apiKey'))).toBe(token);
    expect(page.url()).not.toContain(token);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

    // The tab reads events now, everything (AUDITOR), including the change that made the key.
    const rows = page.locator('table.events tbody tr:not(.placeholder)');
    await rows.first().waitFor();
    expect(await rows.locator('td:nth-child(3)').allTextContents()).toContain('ledger.apikey.created');
    expect(await page.getByTestId('viewer').textContent()).toContain('AUDITOR');
    await page.screenshot({ path: path.join(SHOTS, 'admin-switched-to-auditor.png') });

    const bootstrap = (await gqlOk<{ viewer: { userId: string; userName: string } }>(server.url, '{ viewer { userId userName } }', {}, keys.admin)).viewer;
    const viewer = (await gqlOk<{ viewer: { roles: string[]; userId: string; userName: string } }>(server.url, '{ viewer { roles userId userName } }', {}, token)).viewer;
    expect(viewer.roles).toEqual(['AUDITOR']);
    expect(viewer.userId).not.toBe(bootstrap.userId);
    expect(viewer.userName).toBe(`${bootstrap.userName} (auditor)`);
    const recorded = await gqlOk<{ events: { edges: { node: { action: string; actor: { id: string }; target: { id: string } } }[] } }>(
      server.url,
      'query($actor: String) { events(order: NEWEST_FIRST, first: 2, filter: { actorId: $actor }) { edges { node { action actor { id } target { id } } } } }',
      { actor: bootstrap.userId },
      token,
    );
    expect(recorded.events.edges.map((e) => e.node.action)).toEqual(['ledger.apikey.created', 'ledger.user.created']);
    expect(recorded.events.edges.every((e) => e.node.actor.id === bootstrap.userId)).toBe(true);
    expect(recorded.events.edges[1]!.node.target.id).toBe(viewer.userId);

    await page.getByRole('button', { name: 'I have stored it' }).click();
    await fresh.waitFor({ state: 'detached' });
    await page.close();
  });

  it('passes an axe-core audit (no serious or critical violation) on every page: sign-in, events, event detail, log, activity, directory', async () => {
    const page = await browser.newPage();
    const found: string[] = [];
    const audit = async (name: string) => found.push(...describeViolations(name, await auditAccessibility(page)));
    const settled = () => page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"]').length === 0);

    await page.goto(`${server.url}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel('API key').waitFor();
    await audit('sign-in');
    // A refused key shows its alert on the sign-in page.
    await page.getByLabel('API key').fill('alk_not-a-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await audit('sign-in (refused)');

    await signIn(page, keys.auditor);
    await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor();
    await settled();
    await audit('events');

    await page.locator('table.events tbody tr:not(.placeholder) td:nth-child(1) a').first().click();
    await page.getByRole('heading', { name: /^Event \d+/ }).waitFor();
    await settled();
    await audit('event detail');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.locator('[data-testid="verify-result"], [data-testid="offered-key"]').first().waitFor();
    if (await page.getByRole('button', { name: 'Trust and pin this key' }).count()) {
      await audit('event detail (key offered)');
      await page.getByRole('button', { name: 'Trust and pin this key' }).click();
    }
    await page.getByTestId('verify-result').waitFor();
    await audit('event detail (verified)');

    await page.getByRole('link', { name: 'Log' }).click();
    await page.getByTestId('consistency-result').waitFor();
    await settled();
    await audit('log');

    await page.getByRole('link', { name: 'Activity' }).click();
    await page.locator('ul.bars li').first().waitFor();
    await settled();
    await audit('activity');

    await page.getByRole('link', { name: 'Directory' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await audit('directory (AUDITOR)');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, keys.admin);
    await page.getByRole('link', { name: 'Directory' }).first().click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    await audit('directory (ADMIN)');
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByTestId('auditor-offer').waitFor();
    await audit('events (ADMIN)');

    expect(found).toEqual([]);
    // The audit does see: a field without a label, added to this page, fails it.
    await page.evaluate(() => document.querySelector('main')!.append(Object.assign(document.createElement('input'), { id: 'unlabelled' })));
    expect((await auditAccessibility(page)).map((v) => v.rule)).toContain('label');
    await page.close();
  });

  it('works from the keyboard alone: sign in, skip to content, filter, open and verify an event, change page; focus always visible and never lost', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.evaluate(() => sessionStorage.clear());
    await page.reload();
    await page.getByLabel('API key').waitFor();
    const unseen: string[] = [];
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return { tag: 'body', id: '', text: '', href: '', visible: false };
        const style = getComputedStyle(el);
        return {
          tag: el.tagName.toLowerCase(),
          id: el.id,
          text: (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 60),
          href: el.getAttribute('href') ?? '',
          visible: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
        };
      });
    type Focused = Awaited<ReturnType<typeof focused>>;
    // Tab until `wanted` holds, noting every stop whose focus is not drawn; a page that traps or loses focus fails here.
    const tabTo = async (what: string, wanted: (f: Focused) => boolean): Promise<void> => {
      const path: string[] = [];
      for (let i = 0; i < 80; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        path.push(`${f.tag}${f.id ? '#' + f.id : ''} "${f.text}"`);
        if (!f.visible) unseen.push(`on the way to ${what}: ${path.join(' → ')}`);
        if (wanted(f)) return;
      }
      throw new Error(`Tab never reached ${what}; it went: ${path.join(' → ')}`);
    };

    await tabTo('the API key field', (f) => f.id === 'api-key');
    await page.keyboard.type(keys.auditor);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor();

    // The first stop is the skip link, shown when focused; it takes focus past the navigation.
    await tabTo('"Skip to content"', (f) => f.text === 'Skip to content');
    expect((await page.getByRole('link', { name: 'Skip to content' }).boundingBox())!.x).toBeGreaterThanOrEqual(0);
    await page.keyboard.press('Enter');
    expect((await focused()).id).toBe('main');

    // Filters: type-ahead in the group select (one key: a loaded machine may space keys past the type-ahead's timeout), an action prefix, Enter submits.
    await tabTo('the group filter', (f) => f.id === 'f-group');
    await page.keyboard.press('p');
    await tabTo('the action filter', (f) => f.id === 'f-action');
    await page.keyboard.type('user.role.*');
    expect(await page.locator('#f-group').evaluate((el) => (el as HTMLSelectElement).value)).toBe(ids.payments);
    await page.keyboard.press('Enter');
    await page.waitForURL(/action=user\.role\.\*/);
    expect(new URL(page.url()).searchParams.get('group')).toBe(ids.payments);
    await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor();
    // The form was re-created with the new filter: focus went to the content, not back to the top of the page.
    expect((await focused()).id).toBe('main');

    await tabTo('the first event', (f) => /^\/events\/\d+$/.test(f.href));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: /^Event \d+/ }).waitFor();
    expect((await focused()).id).toBe('main');
    // As a person would, wait for the page before moving on: while it loads, its last control
    // is its last stop, and a Tab from there leaves the page.
    await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"]').length === 0);
    await tabTo('Verify', (f) => f.tag === 'button' && f.text === 'Verify');
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="verify-result"], [data-testid="offered-key"]').first().waitFor();
    if (await page.getByRole('button', { name: 'Trust and pin this key' }).count()) {
      // The button is enabled once the server's key is shown to compare.
      await page.locator('button:not([disabled])', { hasText: 'Trust and pin this key' }).waitFor();
      await tabTo('"Trust and pin this key"', (f) => f.text === 'Trust and pin this key');
      await page.keyboard.press('Space');
    }
    await page.locator('[data-testid="verify-result"].good').waitFor();

    // The navigation, backwards from the content.
    for (let i = 0; i < 80 && (await focused()).text !== 'Activity'; i++) await page.keyboard.press('Shift+Tab');
    expect((await focused()).text).toBe('Activity');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Activity' }).waitFor();
    expect((await focused()).id).toBe('main');
    await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"]').length === 0);
    // Each bar of the chart is a link of its own, reachable and drawn when focused.
    await tabTo('a bar of the chart', (f) => f.tag === 'a' && /^\/events\?/.test(f.href) && / events$/.test(f.text));
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/events\?.*from=/);

    expect(unseen).toEqual([]);
    await page.close();
  });

  it('does not shift its layout while loading: each page drawn with its data held back, then given it', async () => {
    const page = await browser.newPage();
    await signIn(page, keys.auditor);
    await page.locator('table.events tbody tr:not(.placeholder) td:nth-child(1) a').first().waitFor();
    const detail = await page.locator('table.events tbody tr:not(.placeholder) td:nth-child(1) a').first().getAttribute('href');
    await page.addInitScript(() => {
      const w = window as unknown as { layoutShifts: { value: number; nodes: string[] }[] };
      w.layoutShifts = [];
      new PerformanceObserver((list) => {
        for (const entry of list.getEntries() as unknown as { value: number; hadRecentInput: boolean; sources?: { node?: Node }[] }[]) {
          if (entry.hadRecentInput) continue;
          const nodes = (entry.sources ?? []).map((s) => (s.node instanceof Element ? `${s.node.tagName.toLowerCase()}.${s.node.className}` : String(s.node?.nodeName)));
          w.layoutShifts.push({ value: entry.value, nodes });
        }
      }).observe({ type: 'layout-shift', buffered: true });
    });
    // The page's own queries wait until its loading state is on screen; the sign-in ones (viewer, group names) pass.
    let release: () => void = () => undefined;
    let held = Promise.resolve();
    await page.route('**/graphql', async (route) => {
      const body = route.request().postData() ?? '';
      if (!/\bviewer\b|\{ groups \{ id name \} \}/.test(body)) await held;
      await route.continue();
    });
    const shifts: Record<string, { value: number; nodes: string[] }[]> = {};
    for (const [name, at, loading] of [
      ['events', '/events', 'table.events tr.placeholder'],
      ['event detail', detail!, 'section[aria-busy="true"]'],
      ['log', '/log', '[aria-busy="true"]'],
      ['activity', '/activity', '.chart[aria-busy="true"]'],
      ['directory', '/directory', '[aria-busy="true"]'],
    ] as const) {
      held = new Promise<void>((resolve) => (release = resolve));
      await page.goto(`${server.url}${at}`);
      await page.locator(loading).first().waitFor();
      await page.screenshot({ path: path.join(SHOTS, `loading-${name.replace(' ', '-')}.png`) });
      release();
      await page.waitForFunction(() => document.querySelectorAll('[aria-busy="true"], tr.placeholder').length === 0);
      // One more frame, so a shift caused by the last render is reported.
      await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      shifts[name] = await page.evaluate(() => (window as unknown as { layoutShifts: { value: number; nodes: string[] }[] }).layoutShifts);
    }
    await page.unroute('**/graphql');
    // Cumulative layout shift per page: 0.1 is "good" for Web Vitals; we hold ourselves to a hundredth.
    const cls = Object.fromEntries(Object.entries(shifts).map(([name, list]) => [name, list.reduce((n, s) => n + s.value, 0)]));
    const shifted = Object.entries(shifts).filter(([name]) => cls[name]! > 0.01);
    expect(shifted).toEqual([]);
    await page.close();
  });

  it('fits a phone screen (390 px wide): no page scrolls sideways, and the navigation stays reachable', async () => {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await signIn(page, keys.auditor);
    await page.locator('table.events tbody tr:not(.placeholder)').first().waitFor();
    const detail = await page.locator('table.events tbody tr:not(.placeholder) td:nth-child(1) a').first().getAttribute('href');
    const wide: string[] = [];
    for (const [name, at] of [['events', '/events'], ['event detail', detail!], ['log', '/log'], ['activity', '/activity'], ['directory', '/directory']] as const) {
      await page.goto(`${server.url}${at}`);
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      await page.waitForFunction(() => document.querySelector('main h1') !== null && document.querySelectorAll('[aria-busy="true"], tr.placeholder').length === 0);
      const { scroll, inner } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, inner: window.innerWidth }));
      if (scroll > inner) wide.push(`${name}: ${scroll} px wide in ${inner}`);
      for (const link of ['Events', 'Log', 'Activity', 'Directory']) {
        const box = await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: link }).boundingBox();
        if (!box || box.x < 0 || box.x + box.width > inner) wide.push(`${name}: the ${link} link is off screen`);
      }
      await page.screenshot({ path: path.join(SHOTS, `phone-${name.replace(' ', '-')}.png`), fullPage: true });
    }
    expect(wide).toEqual([]);
    await page.close();
  });

  it('shows a READER only its groups, by name, and no directory', async () => {
    const page = await browser.newPage();
    await signIn(page, readerKey);
    const rows = page.locator('table.events tbody tr:not(.placeholder)');
    await rows.first().waitFor();
    expect(await page.getByTestId('viewer').textContent()).toContain('READER');
    expect(await page.locator('#f-group option').allTextContents()).toEqual(['Any group', 'payments']);
    const groups = await rows.locator('td:nth-child(7)').allTextContents();
    expect(groups.length).toBeGreaterThan(0);
    expect(groups.every((g) => g === 'payments')).toBe(true);
    expect(await page.getByRole('link', { name: 'Directory' }).count()).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'reader-events.png') });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(SHOTS, 'reader-events-phone.png'), fullPage: true });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.screenshot({ path: path.join(SHOTS, 'signin.png') });
    await page.close();
  });
});

browserSuite('a first start, as a new user meets it', (adapter) => {
  jest.setTimeout(240_000);
  let env: LedgerEnv;
  let server: ServerProcess;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    env = await ledgerEnv(`dashboard_first_${adapter}`, {}, adapter);
    server = await startLedger(env.env);
    ({ profile, browser } = await launchChromium());
  });

  afterAll(() => tearDown(browser, server, env, profile));

  it('the server names the dashboard and the command for the first key; that key, made beside the running server, signs in', async () => {
    const output = server.output();
    expect(output).toContain(`"url":"${server.url}/"`);
    expect(output).toContain('dashboard: open this address in a browser');
    expect(output).toContain('no ADMIN key exists yet: create the first one with `npx audit-ledger bootstrap-admin --name <you>`');

    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await expect(page.locator('main').textContent()).resolves.toContain('npx audit-ledger bootstrap-admin --name your-name');
    const boot = await runCli(['bootstrap-admin', '--name', 'first-admin'], env.env);
    expect(boot.code).toBe(0);
    const token = boot.stdout.trim().split('\n').at(-1)!;
    await page.getByLabel('API key').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // An ADMIN key lands on the directory, where people and keys are managed.
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    expect(await page.getByTestId('viewer').textContent()).toContain('ADMIN');
    await page.close();
  });
});
