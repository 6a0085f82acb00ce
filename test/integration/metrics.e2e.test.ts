/**
 * GET /metrics over HTTP on both adapters: protected by a token (refusals recorded like every
 * other), parsed by an independent Prometheus text parser, and moving as events are recorded,
 * refused and rate limited. Off, it does not exist.
 */
import http from 'node:http';
import { describeEachAdapter } from '../support/adapters';
import { errorCode, gql, gqlFrom, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import { Scrape } from '../support/prometheusText';
import type { ServerProcess } from '../support/serverProcess';
import { WebhookReceiver } from '../support/webhookReceiver';

const TOKEN = 'metrics-token-0123456789abcdef';
const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';

/** A GET from a loopback address of its own (its own anonymous rate-limit bucket). */
function getFrom(localAddress: string, url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress, agent: false, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: String(res.headers['content-type']) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

describeEachAdapter('metrics over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;

  beforeAll(async () => {
    le = await ledgerEnv('metrics', { LEDGER_METRICS: 'token', LEDGER_METRICS_TOKEN: TOKEN, LEDGER_RATE_LIMIT_ANONYMOUS: '1/3' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  // The metrics token is no API key: scrapes count against their address's (here tiny) anonymous limit, so each comes from an address of its own.
  let scrapes = 0;
  const scrape = async (): Promise<Scrape> => {
    const res = await getFrom(`127.0.1.${++scrapes}`, `${server.url}/metrics`, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    return new Scrape(res.body);
  };

  it('refuses a scrape without the token (401, code UNAUTHENTICATED) and records the refusal', async () => {
    const none = await getFrom('127.0.0.4', `${server.url}/metrics`);
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });
    const wrong = await getFrom('127.0.0.5', `${server.url}/metrics`, { authorization: 'Bearer not-the-metrics-token-at-all' });
    expect(wrong.status).toBe(401);
    const denied = await gqlOk<{ events: { edges: { node: { metadata: { operation: string } } }[] } }>(
      server.url,
      '{ events(filter: { action: "ledger.access.denied" }) { edges { node { metadata } } } }',
      {},
      keys.auditor,
    );
    expect(denied.events.edges.map((e) => e.node.metadata.operation)).toContain('metrics');
  });

  it('parses as Prometheus text, and its values move as events are recorded, refused and rate limited', async () => {
    const before = await scrape();
    for (const name of [
      'audit_ledger_append_seconds',
      'audit_ledger_batch_events',
      'audit_ledger_batch_phase_seconds',
      'audit_ledger_queue_events',
      'audit_ledger_tree_size',
      'audit_ledger_checkpoint_age_seconds',
      'audit_ledger_proof_seconds',
      'audit_ledger_denials_total',
      'audit_ledger_rate_limited_total',
      'audit_ledger_webhook_lag_seconds',
      'audit_ledger_database_seconds',
      'audit_ledger_thread_busy_seconds_total',
    ]) {
      expect(before.family(name).help.length).toBeGreaterThan(0);
    }

    const recorded = await gqlOk<{ recordEvents: { leafIndex: number }[] }>(
      server.url,
      RECORD_MANY,
      { i: Array.from({ length: 25 }, (_, n) => ({ action: 'document.read', actor: { id: `u-${n}`, type: 'USER' } })) },
      keys.appender,
    );
    expect(recorded.recordEvents).toHaveLength(25);
    const proofs = await gqlFrom('127.0.0.6', server.url, '{ inclusionProof(leafIndex: 0) { treeSize } consistencyProof(fromSize: 1) { hashes } }');
    expect(proofs.errors).toBeUndefined();
    const refused = await gql(server.url, RECORD_MANY, { i: [{ action: 'x.y', actor: { id: 'u', type: 'USER' } }] }, keys.reader);
    expect(errorCode(refused)).toBe('FORBIDDEN');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await getFrom('127.0.0.3', `${server.url}/checkpoint`)).status);
    expect(statuses).toContain(429);

    const after = await scrape();
    expect(after.value('audit_ledger_tree_size')).toBeGreaterThanOrEqual(before.value('audit_ledger_tree_size') + 25);
    expect(after.count('audit_ledger_append_seconds')).toBeGreaterThan(before.count('audit_ledger_append_seconds'));
    expect(after.count('audit_ledger_batch_events')).toBeGreaterThan(before.count('audit_ledger_batch_events'));
    expect(after.count('audit_ledger_batch_phase_seconds', { phase: 'insert' })).toBeGreaterThan(before.count('audit_ledger_batch_phase_seconds', { phase: 'insert' }));
    expect(after.count('audit_ledger_proof_seconds', { kind: 'inclusion' })).toBeGreaterThan(before.count('audit_ledger_proof_seconds', { kind: 'inclusion' }));
    expect(after.count('audit_ledger_proof_seconds', { kind: 'consistency' })).toBeGreaterThan(before.count('audit_ledger_proof_seconds', { kind: 'consistency' }));
    expect(after.count('audit_ledger_database_seconds', { operation: 'events.append' })).toBeGreaterThan(before.count('audit_ledger_database_seconds', { operation: 'events.append' }));
    expect(after.value('audit_ledger_denials_total', { operation: 'recordEvent', code: 'FORBIDDEN' })).toBe(
      before.value('audit_ledger_denials_total', { operation: 'recordEvent', code: 'FORBIDDEN' }) + 1,
    );
    expect(after.value('audit_ledger_rate_limited_total', { route: '/checkpoint', scope: 'address' })).toBeGreaterThan(0);
    expect(after.value('audit_ledger_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(after.value('audit_ledger_queue_events')).toBeGreaterThanOrEqual(0);
    // Every request is served on the main thread; on SQLite the append worker committed the 25.
    expect(after.value('audit_ledger_thread_busy_seconds_total', { thread: 'main' })).toBeGreaterThan(before.value('audit_ledger_thread_busy_seconds_total', { thread: 'main' }));
    const threads = after.family('audit_ledger_thread_busy_seconds_total').metrics.map((m) => m.labels?.thread);
    if (adapter === 'sqlite') {
      expect(threads).toEqual(expect.arrayContaining(['main', 'append', 'background']));
      expect(after.value('audit_ledger_thread_busy_seconds_total', { thread: 'append' })).toBeGreaterThan(before.value('audit_ledger_thread_busy_seconds_total', { thread: 'append' }));
    } else {
      expect(threads).toEqual(['main']);
    }
  });

  it('reports webhook delivery lag and outcomes once a receiver has acknowledged a batch', async () => {
    const hook = await new WebhookReceiver().start();
    try {
      hook.answer = (n) => (n === 0 ? 500 : 200);
      const before = await scrape();
      // From an address of its own: this suite's anonymous limit is tiny, and a key not seen yet is admitted by its address's bucket.
      const created = await gqlFrom('127.0.0.7', server.url, 'mutation($u: String!) { createWebhook(input: { url: $u, filter: { action: "metered.event" } }) { secret } }', { u: hook.url }, keys.admin);
      expect(created.errors).toBeUndefined();
      await gqlOk(server.url, RECORD_MANY, { i: [{ action: 'metered.event', actor: { id: 'm', type: 'USER' } }] }, keys.appender);
      await hook.until(() => hook.delivered().size === 1);
      const after = await scrape();
      expect(after.count('audit_ledger_webhook_lag_seconds')).toBeGreaterThan(before.count('audit_ledger_webhook_lag_seconds'));
      expect(after.value('audit_ledger_webhook_deliveries_total', { outcome: 'delivered' })).toBeGreaterThan(before.value('audit_ledger_webhook_deliveries_total', { outcome: 'delivered' }));
      expect(after.value('audit_ledger_webhook_deliveries_total', { outcome: 'failed' })).toBeGreaterThan(before.value('audit_ledger_webhook_deliveries_total', { outcome: 'failed' }));
      expect(after.family('audit_ledger_webhook_backlog_events').metrics.length).toBeGreaterThan(0);
    } finally {
      await hook.close();
    }
  });
});

describe('metrics switched off', () => {
  let le: LedgerEnv;
  let server: ServerProcess;
  beforeAll(async () => {
    le = await ledgerEnv('metrics-off', {});
    server = await startLedger(le.env);
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('has no /metrics route (the default)', async () => {
    const res = await getFrom('127.0.0.1', `${server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });
});
