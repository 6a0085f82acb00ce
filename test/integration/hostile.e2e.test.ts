/**
 * The hardening issue's attacks, replayed over HTTP against real server processes: each is
 * refused with its code, writes nothing but the bounded refusal it should, and the server
 * keeps answering /healthz within a second while it happens. No assertion here is about how
 * long anything took, except that one-second health probe.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { getIntrospectionQuery } from 'graphql';
import { errorCode, gql, gqlFrom, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { describeEachAdapter } from '../support/adapters';
import { stopProcess } from '../support/processState';
import { engineCacheDir } from '../../src/config';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../src/storage/mongodb/engine/embeddedEngine';

interface RawAnswer {
  status: number;
  headers: Headers;
  text: string;
  json: { error?: { code: string; message: string }; errors?: { message: string; extensions?: { code?: string; limit?: string } }[] } | undefined;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<RawAnswer> {
  const res = await fetch(`${url}/graphql`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  return answer(res);
}

async function answer(res: Response): Promise<RawAnswer> {
  const text = await res.text();
  let json: RawAnswer['json'];
  try {
    json = JSON.parse(text) as RawAnswer['json'];
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** A failure answered the way every non-GraphQL failure must be: JSON, a code, no stack, no paths. */
function expectCleanJsonError(a: RawAnswer, status: number, code: string): void {
  expect(a.status).toBe(status);
  expect(a.headers.get('content-type')).toMatch(/^application\/json/);
  expect(a.json?.error?.code).toBe(code);
  expect(a.json?.errors?.[0]?.extensions?.code).toBe(code);
  expect(a.text).not.toMatch(/<html|<pre|\bat \S+ \(|\/work\/|node_modules/i);
}

async function healthyWithinOneSecond(url: string): Promise<void> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
  expect(res.status).toBe(200);
}

/** Probes /healthz (each within 1 s) for as long as the attack is in flight, then returns its answer. */
async function whileHealthy<T>(url: string, attack: Promise<T>): Promise<T> {
  let done = false;
  void attack.then(
    () => (done = true),
    () => (done = true),
  );
  for (let probes = 0; probes < 50 && !done; probes++) await healthyWithinOneSecond(url);
  return attack;
}

function aliases(n: number, field: (i: number) => string): string {
  return `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field(i)}`).join(' ')} }`;
}

describe('hostile input over HTTP', () => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  const size = async (): Promise<number> =>
    (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }', {}, keys.auditor)).checkpoint.treeSize;
  const newest = async <T>(fields: string): Promise<T> =>
    (await gqlOk<{ events: { edges: { node: T }[] } }>(server.url, `{ events(first: 1, order: NEWEST_FIRST) { edges { node { ${fields} } } } }`, {}, keys.auditor))
      .events.edges[0]!.node;

  beforeAll(async () => {
    // The default anonymous rate limit (20/s, bursts of 100), as operators run it.
    le = await ledgerEnv('hostile', { LEDGER_RECORD_READS: 'true', LEDGER_RATE_LIMIT_ANONYMOUS: '20/100' });
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('refuses the 20,000-alias anonymous bomb at the body limit, staying healthy', async () => {
    const before = await size();
    const bomb = JSON.stringify({ query: aliases(20_000, (i) => `inclusionProof(leafIndex: ${i}) { hashes }`) });
    const a = await whileHealthy(server.url, post(server.url, bomb));
    expectCleanJsonError(a, 413, 'PAYLOAD_TOO_LARGE');
    expect(await size()).toBe(before);
  });

  it('refuses the same bomb from a valid key by its aliases, before any resolver runs', async () => {
    const before = await size();
    const bomb = aliases(20_000, (i) => `inclusionProof(leafIndex: ${i}) { hashes }`);
    const res = await whileHealthy(server.url, gql(server.url, bomb, {}, keys.auditor));
    expect(res.data).toBeUndefined();
    expect(res.errors?.map((e) => e.extensions?.code)).toContain('QUERY_TOO_COMPLEX');
    expect(res.errors?.some((e) => (e.extensions as { limit?: string }).limit === 'aliases')).toBe(true);
    expect(await size()).toBe(before);
  });

  it("refuses an AUDITOR's nested users { groups { members … } } query", async () => {
    const before = await size();
    const res = await whileHealthy(server.url, gql(server.url, '{ users { groups { members { groups { members { groups { members { id } } } } } } } }', {}, keys.auditor));
    expect(errorCode(res)).toBe('QUERY_TOO_COMPLEX');
    expect(await size()).toBe(before);
  });

  it('refuses 5,000 aliases of apiKeys without writing 5,000 refusals', async () => {
    const before = await size();
    // Anonymous: over the anonymous body limit, or (written compactly) over the anonymous token limit.
    expectCleanJsonError(await post(server.url, JSON.stringify({ query: aliases(5000, () => 'apiKeys { id }') })), 413, 'PAYLOAD_TOO_LARGE');
    const compact = `{${Array.from({ length: 3000 }, (_, i) => `a${i}:apiKeys{id}`).join(' ')}}`;
    const tokens = await post(server.url, JSON.stringify({ query: compact }));
    expectCleanJsonError(tokens, 400, 'QUERY_TOO_COMPLEX');
    // With a key that may not list keys: refused by the alias limit before 5,000 refusals could happen.
    const res = await gql(server.url, aliases(5000, () => 'apiKeys { id }'), {}, keys.appender);
    expect(errorCode(res)).toBe('QUERY_TOO_COMPLEX');
    expect(await size()).toBe(before);
  });

  it("bounds the refusal of a READER's 4 MB group id: one small event, truncated, with a digest", async () => {
    const before = await size();
    const id = `g${'x'.repeat(4 * 1024 * 1024)}`;
    const res = await gql(server.url, 'query($g: ID!) { events(filter: { groupIds: [$g] }) { edges { cursor } } }', { g: id }, keys.reader);
    expect(errorCode(res)).toBe('FORBIDDEN');
    expect(await size()).toBe(before + 1);
    const denial = await newest<{ action: string; leaf: string; reason: string; metadata: { truncated?: boolean; code: string } }>('action leaf reason metadata');
    expect(denial.action).toBe('ledger.access.denied');
    expect(denial.metadata).toMatchObject({ code: 'FORBIDDEN', truncated: true });
    expect(denial.reason).toMatch(/…sha256:[0-9a-f]{64}$/);
    expect(denial.leaf.length).toBeLessThan(4096);
  });

  it("bounds the read event of an AUDITOR's 7 MB action filter", async () => {
    const before = await size();
    const res = await gql(server.url, 'query($a: String) { events(filter: { action: $a }) { edges { cursor } } }', { a: 'a'.repeat(7 * 1024 * 1024) }, keys.auditor);
    expect(res.errors).toBeUndefined();
    expect(await size()).toBe(before + 1);
    const read = await newest<{ action: string; leaf: string; metadata: { truncated?: boolean; filter: { action: string } } }>('action leaf metadata');
    expect(read.action).toBe('ledger.events.read');
    expect(read.metadata.truncated).toBe(true);
    expect(read.metadata.filter.action).toMatch(/^a{64}…sha256:[0-9a-f]{64}$/);
    expect(read.leaf.length).toBeLessThan(4096);
  });

  it('caps the group ids of a filter', async () => {
    const many = Array.from({ length: 1000 }, (_, i) => `g${i}`);
    const res = await gql(server.url, 'query($g: [ID!]) { events(filter: { groupIds: $g }) { edges { cursor } } }', { g: many }, keys.auditor);
    expect(errorCode(res)).toBe('BAD_USER_INPUT');
  });

  it('answers malformed JSON, oversized bodies, wrong media types, unknown paths and invalid UTF-8 as JSON errors', async () => {
    const before = await size();
    expectCleanJsonError(await post(server.url, '{"query": "{ checkpoint { treeSize } }"'), 400, 'BAD_REQUEST');
    expectCleanJsonError(await post(server.url, JSON.stringify({ query: '{ checkpoint { treeSize } }', pad: 'x'.repeat(100_000) })), 413, 'PAYLOAD_TOO_LARGE');
    const overKeyLimit = JSON.stringify({ query: '{ serverInfo { name } }', variables: { pad: 'x'.repeat(17 * 1024 * 1024) } });
    expectCleanJsonError(await post(server.url, overKeyLimit, { 'content-type': 'application/json', authorization: `Bearer ${keys.appender}` }), 413, 'PAYLOAD_TOO_LARGE');
    expectCleanJsonError(await post(server.url, '{ checkpoint { treeSize } }', { 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectCleanJsonError(await post(server.url, '{"query":"{ checkpoint { treeSize } }"}', { 'content-type': 'application/json; charset=latin1' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectCleanJsonError(await post(server.url, Buffer.from('{"query":"{ checkpoint { treeSize } }"}', 'utf16le'), { 'content-type': 'application/json; charset=utf-16le' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const invalidUtf8 = Buffer.concat([Buffer.from('{"query":"{ checkpoint { treeSize } }","variables":{"x":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]);
    expectCleanJsonError(await post(server.url, invalidUtf8), 400, 'BAD_USER_INPUT');
    for (const p of ['/nope', '/graphql/../../etc/passwd', '/explorer']) {
      const a = await answer(await fetch(`${server.url}${p}`));
      expect(a.status).toBe(404);
      expect(a.json?.error?.code).toBe('NOT_FOUND');
      expect(a.text).not.toMatch(/<html|\/work\//i);
    }
    expect(await size()).toBe(before);
  });

  it('marks every /graphql answer no-store: data, a GraphQL error, a refusal before GraphQL', async () => {
    const ok = await post(server.url, JSON.stringify({ query: '{ checkpoint { treeSize } }' }));
    expect([ok.status, ok.headers.get('cache-control')]).toEqual([200, 'no-store']);
    const invalid = await post(server.url, JSON.stringify({ query: '{ checkpoint { noSuchField } }' }));
    expect([invalid.status, invalid.headers.get('cache-control')]).toEqual([400, 'no-store']);
    const wrongType = await post(server.url, '{ checkpoint { treeSize } }', { 'content-type': 'text/plain' });
    expect([wrongType.status, wrongType.headers.get('cache-control')]).toEqual([415, 'no-store']);
  });

  it('hides introspection in production unless configured', async () => {
    const res = await gql(server.url, getIntrospectionQuery());
    expect(res.data).toBeUndefined();
    expect(errorCode(res)).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('bounds log growth under an anonymous flood from many addresses, and stays healthy', async () => {
    const before = await size();
    const addresses = Array.from({ length: 8 }, (_, i) => `127.0.0.${10 + i}`);
    const operations = ['{ apiKeys { id } }', '{ users { id } }', '{ events { edges { cursor } } }'];
    const flood = Promise.all(
      addresses.flatMap((address) =>
        operations.map(async (op) => {
          const codes: (string | undefined)[] = [];
          for (let i = 0; i < 30; i++) codes.push(errorCode(await gqlFrom(address, server.url, op)));
          return codes;
        }),
      ),
    );
    const codes = (await whileHealthy(server.url, flood)).flat();
    expect(codes).toHaveLength(8 * 3 * 30);
    expect(new Set(codes)).toEqual(new Set(codes.filter((c) => c === 'UNAUTHENTICATED' || c === 'RATE_LIMITED')));
    expect(codes.filter((c) => c === 'UNAUTHENTICATED').length).toBeGreaterThan(addresses.length * operations.length);
    // One event per (address, operation) in the window, not one per refusal.
    const grown = (await size()) - before;
    expect(grown).toBeGreaterThan(0);
    expect(grown).toBeLessThanOrEqual(addresses.length * operations.length);
    const denial = await newest<{ action: string; source: { ip: string; userAgent: string | null } }>('action source { ip userAgent }');
    expect(denial.action).toBe('ledger.access.denied');
    expect(addresses).toContain(denial.source.ip);
  });

  it('rate-limits anonymous callers per address with 429, RATE_LIMITED and Retry-After', async () => {
    const answers = await Promise.all(Array.from({ length: 150 }, () => gqlFrom('127.0.0.40', server.url, '{ checkpoint { treeSize } }')));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(100);
    for (const a of limited) {
      expect(Number(a.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(a.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    }
    // Another address is not affected.
    expect((await gqlFrom('127.0.0.41', server.url, '{ checkpoint { treeSize } }')).status).toBe(200);
  });

  it('creates its key file for its own user only', async () => {
    expect((await stat(path.join(le.dataDir, 'signing.key'))).mode & 0o777).toBe(0o600);
  });

  it('logs only JSON lines, with no stack printed outside them', async () => {
    const lines = server.output().split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('a server with low limits, the explorer and CORS', () => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  beforeAll(async () => {
    le = await ledgerEnv('limits', {
      LEDGER_RATE_LIMIT_PER_KEY: '5/10',
      LEDGER_RATE_LIMIT_ANONYMOUS: '2/4',
      LEDGER_GRAPHQL_INTROSPECTION: 'true',
      LEDGER_GRAPHQL_EXPLORER: 'true',
      LEDGER_CORS_ORIGINS: 'https://app.example',
    });
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('rate-limits a key, whatever address it comes from', async () => {
    const answers = await Promise.all(
      Array.from({ length: 30 }, (_, i) => gqlFrom(`127.0.0.${100 + (i % 5)}`, server.url, '{ checkpoint { treeSize } }', {}, keys.auditor)),
    );
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(Number(limited[0]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('rate-limits GET /checkpoint for anonymous callers too, as JSON', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => fetch(`${server.url}/checkpoint`).then(answer)));
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited[0]!.json?.error?.code).toBe('RATE_LIMITED');
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });

  it('serves introspection and a bundled GraphiQL that loads nothing from elsewhere', async () => {
    const schema = await gqlFrom<{ __schema: { queryType: { name: string } } }>('127.0.0.120', server.url, '{ __schema { queryType { name } } }');
    expect(schema.data?.__schema.queryType.name).toBe('Query');
    const page = await fetch(`${server.url}/explorer`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    const html = await page.text();
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      expect(asset).not.toMatch(/^(https?:)?\/\//);
      expect((await fetch(new URL(asset, `${server.url}/explorer`))).status).toBe(200);
    }
  });

  it('answers CORS for allowed origins only', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.url}/graphql`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    const allowed = await preflight('https://app.example');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(allowed.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

// A database that can go away is a remote one: the mongodb adapter, on an engine of the test's own.
describeEachAdapter(
  'a server whose database goes away',
  () => {
  let le: LedgerEnv;
  let server: ServerProcess | undefined;
  let engine: EmbeddedEngine | undefined;
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await engine?.stop().catch(() => undefined);
    await le?.dispose();
  });

  it('answers refusals it cannot record with UNAVAILABLE (503), and /healthz 503 within a second', async () => {
    le = await ledgerEnv('dbdown', {}, 'mongodb');
    engine = await startEmbeddedEngine({ dataDir: path.join(le.dataDir, 'engine'), cacheDir: engineCacheDir() });
    server = await startLedger({ ...le.env, MONGODB_URI: engine.uri });
    expect(errorCode(await gql(server.url, '{ apiKeys { id } }'))).toBe('UNAUTHENTICATED');

    // First the database hangs (stopped, its connections open): /healthz must not hang with it.
    await stopProcess(engine.pid);
    const hanging = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1500) });
    expect(hanging.status).toBe(503);
    expect((await hanging.json()) as { status: string; reason: string }).toEqual({ status: 'unavailable', reason: expect.stringContaining('within') });
    // Then it is gone.
    process.kill(engine.pid, 'SIGKILL');
    const health = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(1000) });
    expect(health.status).toBe(503);
    expect(((await health.json()) as { status: string }).status).toBe('unavailable');

    // The same refusal as before (which would only be counted) and a new one: neither is answered unrecorded.
    for (const q of ['{ apiKeys { id } }', '{ users { id } }']) {
      const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: q }) });
      expect(res.status).toBe(503);
      const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
      expect(body.errors[0]!.extensions.code).toBe('UNAVAILABLE');
    }
    // A key cannot be checked either (any well-formed token needs a look-up).
    const keyed = await post(server.url, JSON.stringify({ query: '{ checkpoint { treeSize } }' }), { 'content-type': 'application/json', authorization: 'Bearer alk_notakey' });
    expectCleanJsonError(keyed, 503, 'UNAVAILABLE');
  });
},
  ['mongodb'],
);
