/**
 * The request-body budget (server/bodyBudget.ts) over HTTP, against real server processes: a
 * body that would overrun LEDGER_MAX_BODY_BYTES_IN_FLIGHT is held unread, admitted when room
 * frees up, and refused 503 UNAVAILABLE (with Retry-After) after LEDGER_BODY_WAIT_MS; nothing
 * is written for a refused request and the server stays healthy. The budget's gauges on
 * /metrics tell the test when a request holds or waits, so nothing here waits on a clock.
 * Adapter-independent (the HTTP layer): run on sqlite.
 */
import http from 'node:http';
import { gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';

const BUDGET = 100_000;
const RECORD = 'mutation($e: EventInput!) { recordEvent(input: $e) { leafIndex } }';
const RECORD_MANY = 'mutation($es: [EventInput!]!) { recordEvents(inputs: $es) { leafIndex } }';
/** Ten events with 8 KB of metadata each: a body over the 64 KiB any caller may send. */
const largeBatch = (n: number) => Array.from({ length: 10 }, (_, i) => ({ ...event(n * 100 + i), metadata: { pad: 'x'.repeat(8_000) } }));
const event = (n: number) => ({ action: 'doc.read', actor: { id: `u-${n}`, type: 'USER' }, target: { type: 'doc', id: `d-${n}` }, outcome: 'SUCCESS' });

interface Held {
  /** Sends the rest of the body (valid JSON padded to the declared length) and reads the answer. */
  finish(): Promise<{ status: number; body: string }>;
  /** Drops the connection with the body half sent. */
  abort(): void;
}

/** A request that declares a BUDGET-byte body and sends only its first bytes. */
function holdBody(url: string, token: string): Held {
  const json = JSON.stringify({ query: '{ checkpoint { treeSize } }' });
  const full = json + ' '.repeat(BUDGET - json.length);
  const { hostname, port } = new URL(url);
  const req = http.request({
    hostname,
    port,
    path: '/graphql',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(BUDGET), authorization: `Bearer ${token}` },
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
  answer.catch(() => undefined);
  req.write(full.slice(0, 10));
  return {
    finish: () => {
      req.end(full.slice(10));
      return answer;
    },
    abort: () => req.destroy(),
  };
}

async function gauge(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

/** Scrapes until the gauge reads `value` (each scrape is a round trip: no timer involved). */
async function gaugeReaches(url: string, name: string, value: number): Promise<void> {
  for (let i = 0; i < 2_000; i++) if ((await gauge(url, name)) === value) return;
  throw new Error(`${name} never reached ${value} (last ${await gauge(url, name)})`);
}

const treeSize = async (url: string, keys: Keys) => (await gqlOk<{ checkpoint: { treeSize: number } }>(url, '{ checkpoint { treeSize } }', {}, keys.auditor)).checkpoint.treeSize;

describe('the request-body budget over HTTP', () => {
  // Two servers: one whose waiting requests give up quickly (the refusal), one where they
  // wait long enough to be admitted on any machine.
  let quick: { le: LedgerEnv; server: ServerProcess; keys: Keys };
  let patient: { le: LedgerEnv; server: ServerProcess; keys: Keys };

  const start = async (waitMs: number) => {
    const le = await ledgerEnv('bodybudget', { LEDGER_MAX_BODY_BYTES_IN_FLIGHT: String(BUDGET), LEDGER_BODY_WAIT_MS: String(waitMs), LEDGER_METRICS: 'on' });
    const server = await startLedger(le.env);
    return { le, server, keys: await bootstrapKeys(server.url, le.env) };
  };

  beforeAll(async () => {
    [quick, patient] = await Promise.all([start(300), start(120_000)]);
  }, 120_000);

  afterAll(async () => {
    for (const s of [quick, patient]) {
      await s?.server.stop();
      await s?.le.dispose();
    }
  });

  it('refuses a body that finds the budget spent, after the wait, with 503 UNAVAILABLE and Retry-After; writes nothing; stays healthy', async () => {
    const { server, keys } = quick;
    const before = await treeSize(server.url, keys);
    const held = holdBody(server.url, keys.appender);
    await gaugeReaches(server.url, 'audit_ledger_http_body_bytes_in_flight', BUDGET);

    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${keys.appender}` },
      body: JSON.stringify({ query: RECORD_MANY, variables: { es: largeBatch(1) } }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    const body = (await res.json()) as { error: { code: string; message: string }; errors: { extensions: { code: string } }[] };
    expect(body.error.code).toBe('UNAVAILABLE');
    expect(body.errors[0]!.extensions.code).toBe('UNAVAILABLE');
    expect(body.error.message).toMatch(/busy with other large requests/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    // A small body (any caller's size) is not held behind the large one.
    expect(await treeSize(server.url, keys)).toBe(before);

    // A client that drops its half-sent body gives its bytes back.
    held.abort();
    await gaugeReaches(server.url, 'audit_ledger_http_body_bytes_in_flight', 0);
    const ok = await gql<{ recordEvent: { leafIndex: number } }>(server.url, RECORD, { e: event(2) }, keys.appender);
    expect(ok.errors).toBeUndefined();
    expect(ok.data!.recordEvent.leafIndex).toBe(before);
  });

  it('holds a second body unread while the first is in flight, then admits it when the first is answered', async () => {
    const { server, keys } = patient;
    const held = holdBody(server.url, keys.auditor);
    await gaugeReaches(server.url, 'audit_ledger_http_body_bytes_in_flight', BUDGET);

    const waiting = gql<{ recordEvents: { leafIndex: number }[] }>(server.url, RECORD_MANY, { es: largeBatch(3) }, keys.appender);
    // Small bodies go by meanwhile.
    expect((await gql(server.url, RECORD, { e: event(4) }, keys.appender)).errors).toBeUndefined();
    await gaugeReaches(server.url, 'audit_ledger_http_requests_waiting_for_body_budget', 1);

    const first = await held.finish();
    expect(first.status).toBe(200);
    expect(JSON.parse(first.body)).toMatchObject({ data: { checkpoint: { treeSize: expect.any(Number) } } });
    const second = await waiting;
    expect(second.errors).toBeUndefined();
    expect(second.data!.recordEvents).toHaveLength(10);
    await gaugeReaches(server.url, 'audit_ledger_http_body_bytes_in_flight', 0);
    expect(await gauge(server.url, 'audit_ledger_http_requests_waiting_for_body_budget')).toBe(0);
  });
});
