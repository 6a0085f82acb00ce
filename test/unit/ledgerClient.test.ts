/**
 * The client's batching, idempotency keys, retries and backoff, and error types, against an
 * injected fetch and a scheduler the test drives: deterministic, no sleeping, every delay
 * the client asks for is seen.
 */
import {
  IdempotencyConflictError,
  LedgerApiError,
  LedgerClient,
  type LedgerClientOptions,
  LedgerNetworkError,
  LedgerResponseError,
  MAX_EVENTS_PER_CALL,
} from '../../src/client';
import { backoffDelay, retryAfterMs, retryPolicy } from '../../src/client/retryPolicy';
import { type Answer, FakeLedger, graphqlError, json, ManualScheduler, scriptedFetch } from '../support/fakeLedgerHttp';

const event = (n: number, extra: Record<string, unknown> = {}) => ({ action: 'invoice.paid', actor: { id: `u-${n}`, type: 'USER' as const }, ...extra });
const networkDown: Answer = () => Promise.reject(new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }));
const WINDOW = 10;
const RETRY = { attempts: 5, baseDelayMs: 100, maxDelayMs: 400 };

/** Lets the client's promise chains run (no timers involved). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

function setup(fetch: ReturnType<typeof scriptedFetch>, options: Partial<LedgerClientOptions> = {}) {
  const scheduler = new ManualScheduler();
  const client = new LedgerClient({
    url: 'http://ledger.test/',
    token: 'tok',
    fetch,
    scheduler,
    random: () => 0.5,
    retry: RETRY,
    batch: { maxEvents: 100, maxDelayMs: WINDOW },
    ...options,
  });
  return { client, scheduler };
}

const inputsOf = (req: { body?: { variables: Record<string, unknown> } | undefined }) => req.body!.variables.inputs as { idempotencyKey: string; action: string }[];

describe('the retry policy', () => {
  it('doubles the delay up to the ceiling, half of it random', () => {
    const policy = retryPolicy(RETRY);
    expect([1, 2, 3, 4, 5].map((n) => backoffDelay(policy, n, () => 0))).toEqual([50, 100, 200, 200, 200]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n, () => 0.999999))).toEqual([100, 200, 400, 400].map((d) => expect.closeTo(d, 2)));
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs('3', now)).toBe(3000);
    expect(retryAfterMs('Thu, 01 Jan 2026 00:00:07 GMT', now)).toBe(7000);
    expect(retryAfterMs(null, now)).toBeUndefined();
    expect(retryAfterMs('soon', now)).toBeUndefined();
  });

  it('refuses a policy that cannot work', () => {
    expect(() => retryPolicy({ attempts: 0 })).toThrow(RangeError);
    expect(() => retryPolicy({ baseDelayMs: 500, maxDelayMs: 100 })).toThrow(RangeError);
  });
});

describe('LedgerClient: batching', () => {
  it('sends record calls made close together as one recordEvents request, each caller getting its own receipt', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client, scheduler } = setup(fetch);
    const answers = [1, 2, 3].map((n) => client.record(event(n)));
    await settle();
    expect(fetch.requests).toHaveLength(0);
    scheduler.fire(WINDOW);
    const receipts = await Promise.all(answers);
    expect(fetch.requests).toHaveLength(1);
    const [req] = fetch.requests;
    expect(req!.url).toBe('http://ledger.test/graphql');
    expect(req!.headers.authorization).toBe('Bearer tok');
    expect(req!.body!.query).toContain('recordEvents');
    expect(inputsOf(req!).map((i) => i.action)).toEqual(['invoice.paid', 'invoice.paid', 'invoice.paid']);
    expect(receipts.map((r) => r.leafIndex)).toEqual([0, 1, 2]);
    expect(ledger.leaves.map((l) => (l.actor as { id: string }).id)).toEqual(['u-1', 'u-2', 'u-3']);
  });

  it('sends at once when maxEvents are waiting, and the rest when the window closes', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client, scheduler } = setup(fetch, { batch: { maxEvents: 2, maxDelayMs: WINDOW } });
    const answers = [1, 2, 3, 4, 5].map((n) => client.record(event(n)));
    await settle();
    expect(fetch.requests.map((r) => inputsOf(r).length)).toEqual([2, 2]);
    scheduler.fire(WINDOW);
    await Promise.all(answers);
    expect(fetch.requests.map((r) => inputsOf(r).length)).toEqual([2, 2, 1]);
  });

  it('flush() sends what waits without waiting for the window', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client, scheduler } = setup(fetch);
    const answer = client.record(event(1));
    await client.flush();
    expect((await answer).leafIndex).toBe(0);
    expect(scheduler.pending(WINDOW)).toBe(0);
  });

  it('recordMany sends its events as one request in order, and more than 10,000 as several', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client } = setup(fetch);
    const receipts = await client.recordMany(Array.from({ length: MAX_EVENTS_PER_CALL + 3 }, (_, i) => event(i)));
    expect(fetch.requests.map((r) => inputsOf(r).length)).toEqual([MAX_EVENTS_PER_CALL, 3]);
    expect(receipts.map((r) => r.leafIndex)).toEqual(Array.from({ length: MAX_EVENTS_PER_CALL + 3 }, (_, i) => i));
  });

  it('gives one event alone its own answer when the batch is refused for what it holds', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client, scheduler } = setup(fetch);
    const good = client.record(event(1));
    const bad = client.record(event(2, { action: 'bad' }));
    const alsoGood = client.record(event(3));
    scheduler.fire(WINDOW);
    await expect(bad).rejects.toMatchObject({ name: 'LedgerApiError', code: 'BAD_USER_INPUT' });
    expect((await good).leafIndex).toBe(0);
    expect((await alsoGood).leafIndex).toBe(1);
    // The batch once, then each event alone.
    expect(fetch.requests.map((r) => inputsOf(r).length)).toEqual([3, 1, 1, 1]);
  });

  it('does not split a batch refused for who is calling', async () => {
    const fetch = scriptedFetch(() => graphqlError('UNAUTHENTICATED', 'a valid API key is required', 401));
    const { client, scheduler } = setup(fetch);
    const answers = [1, 2].map((n) => client.record(event(n)));
    scheduler.fire(WINDOW);
    for (const a of answers) await expect(a).rejects.toMatchObject({ code: 'UNAUTHENTICATED', status: 401 });
    expect(fetch.requests).toHaveLength(1);
  });
});

describe('LedgerClient: idempotency keys', () => {
  it('gives every event a random key of its own, and keeps a key the caller gave', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client } = setup(fetch);
    await client.recordMany([event(1), event(2), event(3, { idempotencyKey: 'order-7' })]);
    const keys = inputsOf(fetch.requests[0]!).map((i) => i.idempotencyKey);
    expect(keys[0]).toMatch(/^sdk-[0-9a-f]{32}$/);
    expect(keys[1]).toMatch(/^sdk-[0-9a-f]{32}$/);
    expect(keys[0]).not.toBe(keys[1]);
    expect(keys[2]).toBe('order-7');
  });

  it('sends the same content and keys on every attempt, even if the caller changes its object meanwhile', async () => {
    const ledger = new FakeLedger();
    // The first attempt is stored but its answer is lost; the retry is answered from the key.
    const fetch = scriptedFetch(ledger.answer, async (req) => {
      await ledger.answer(req);
      throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
    });
    const { client } = setup(fetch);
    const mutable = { ...event(1), metadata: { amount: 1 } };
    const answer = client.recordMany([mutable]);
    mutable.metadata.amount = 2;
    const [receipt] = await answer;
    expect(fetch.requests).toHaveLength(2);
    expect(fetch.requests[1]!.body).toEqual(fetch.requests[0]!.body);
    expect(ledger.leaves).toHaveLength(1);
    expect(receipt!.leafIndex).toBe(0);
  });

  it('surfaces a conflicting reuse of a key as IdempotencyConflictError with the key and the original leaf', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client } = setup(fetch);
    await client.recordMany([event(1, { idempotencyKey: 'k-1' })]);
    const conflict = client.recordMany([event(2, { idempotencyKey: 'k-1' })]);
    await expect(conflict).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(conflict).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT', idempotencyKey: 'k-1', leafIndex: 0, status: 409, extensions: { code: 'IDEMPOTENCY_CONFLICT' } });
    expect(fetch.requests).toHaveLength(2);
  });

  it('answers a conflicting record in a batch alone, and records the others', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer);
    const { client, scheduler } = setup(fetch);
    await client.recordMany([event(1, { idempotencyKey: 'k-1' })]);
    const fine = client.record(event(2));
    const conflicting = client.record(event(3, { idempotencyKey: 'k-1' }));
    scheduler.fire(WINDOW);
    await expect(conflicting).rejects.toMatchObject({ name: 'IdempotencyConflictError', idempotencyKey: 'k-1', leafIndex: 0 });
    expect((await fine).leafIndex).toBe(1);
  });
});

describe('LedgerClient: retries', () => {
  it('retries network errors with growing, jittered delays, then gives up with LedgerNetworkError', async () => {
    const fetch = scriptedFetch(networkDown);
    const { client, scheduler } = setup(fetch);
    const failed = client.recordMany([event(1)]);
    await expect(failed).rejects.toBeInstanceOf(LedgerNetworkError);
    await expect(failed).rejects.toMatchObject({ code: 'NETWORK', message: 'cannot reach http://ledger.test/graphql: ECONNREFUSED' });
    expect(fetch.requests).toHaveLength(RETRY.attempts);
    // random() = 0.5: three quarters of 100, 200, 400, 400 (capped).
    expect(scheduler.sleeps).toEqual([75, 150, 300, 300]);
  });

  it('retries 429 and 503 after the Retry-After they give, and without one after the backoff', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(
      ledger.answer,
      () => json({ error: { code: 'RATE_LIMITED', message: 'slow down' } }, 429, { 'retry-after': '3' }),
      () => json({ error: { code: 'UNAVAILABLE', message: 'starting' } }, 503, { 'retry-after': 'Thu, 01 Jan 2026 00:00:02 GMT' }),
      () => graphqlError('UNAVAILABLE', 'the database is unavailable', 503),
    );
    const { client, scheduler } = setup(fetch);
    const [receipt] = await client.recordMany([event(1)]);
    expect(receipt!.leafIndex).toBe(0);
    expect(fetch.requests).toHaveLength(4);
    expect(scheduler.sleeps).toEqual([3000, 2000, 300]);
  });

  it('retries a GraphQL UNAVAILABLE answered with HTTP 200', async () => {
    const ledger = new FakeLedger();
    const fetch = scriptedFetch(ledger.answer, () => graphqlError('UNAVAILABLE', 'the ledger cannot record this now'));
    const { client } = setup(fetch);
    await client.recordMany([event(1)]);
    expect(fetch.requests).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond a minute: the error is surfaced', async () => {
    const fetch = scriptedFetch(() => json({ error: { code: 'RATE_LIMITED', message: 'come back tomorrow' } }, 429, { 'retry-after': '86400' }));
    const { client, scheduler } = setup(fetch);
    await expect(client.recordMany([event(1)])).rejects.toMatchObject({ name: 'LedgerApiError', code: 'RATE_LIMITED', status: 429 });
    expect(fetch.requests).toHaveLength(1);
    expect(scheduler.sleeps).toEqual([]);
  });

  it.each([
    ['a GraphQL refusal', () => graphqlError('FORBIDDEN', 'recordEvents needs APPENDER'), 'FORBIDDEN'],
    ['an HTTP JSON error', () => json({ error: { code: 'PAYLOAD_TOO_LARGE', message: 'too large' }, errors: [{ message: 'too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }, 413), 'PAYLOAD_TOO_LARGE'],
    ['a server error', () => graphqlError('INTERNAL_SERVER_ERROR', 'internal error', 500), 'INTERNAL_SERVER_ERROR'],
  ])('never retries %s', async (_what, answer: Answer, code) => {
    const fetch = scriptedFetch(answer);
    const { client } = setup(fetch);
    const failed = client.recordMany([event(1)]);
    await expect(failed).rejects.toBeInstanceOf(LedgerApiError);
    await expect(failed).rejects.toMatchObject({ code, extensions: { code } });
    expect(fetch.requests).toHaveLength(1);
  });

  it('does not retry an answer that is not GraphQL', async () => {
    const fetch = scriptedFetch(() => new Response('<html>proxy error</html>', { status: 502 }));
    const { client } = setup(fetch);
    await expect(client.recordMany([event(1)])).rejects.toBeInstanceOf(LedgerResponseError);
    expect(fetch.requests).toHaveLength(1);
  });

  it('aborts an attempt that gets no answer within the timeout, and retries it', async () => {
    const ledger = new FakeLedger();
    const hang: Answer = (req) =>
      new Promise((_resolve, reject) => req.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
    const fetch = scriptedFetch(ledger.answer, hang);
    const { client, scheduler } = setup(fetch, { timeoutMs: 5000 });
    const answer = client.recordMany([event(1)]);
    await settle();
    expect(fetch.requests).toHaveLength(1);
    scheduler.fire(5000);
    expect((await answer)[0]!.leafIndex).toBe(0);
    expect(fetch.requests).toHaveLength(2);
  });

  it('tells the retries to onRetry', async () => {
    const ledger = new FakeLedger();
    const notices: string[] = [];
    const fetch = scriptedFetch(ledger.answer, networkDown);
    const { client } = setup(fetch, { onRetry: (n) => notices.push(`${n.attempt} ${n.delayMs} ${n.error.code}`) });
    await client.recordMany([event(1)]);
    expect(notices).toEqual(['1 75 NETWORK']);
  });
});

describe('LedgerClient: reading', () => {
  const node = (leafIndex: number) => ({ leafIndex, id: `e-${leafIndex}` });

  it('pages through events with the cursor, yielding each event', async () => {
    const pages = [
      { edges: [{ node: node(0) }, { node: node(1) }], pageInfo: { hasNextPage: true, endCursor: 'c1' } },
      { edges: [{ node: node(2) }], pageInfo: { hasNextPage: false, endCursor: 'c2' } },
    ];
    const fetch = scriptedFetch((req) => json({ data: { events: pages[req.body!.variables.after === 'c1' ? 1 : 0] } }));
    const { client } = setup(fetch);
    const seen = [];
    for await (const e of client.events({ actionPrefix: 'invoice.', from: new Date('2026-01-01T00:00:00Z') }, { pageSize: 2 })) seen.push(e.leafIndex);
    expect(seen).toEqual([0, 1, 2]);
    expect(fetch.requests.map((r) => r.body!.variables)).toEqual([
      { filter: { actionPrefix: 'invoice.', from: '2026-01-01T00:00:00.000Z' }, first: 2, after: null, order: 'OLDEST_FIRST' },
      { filter: { actionPrefix: 'invoice.', from: '2026-01-01T00:00:00.000Z' }, first: 2, after: 'c1', order: 'OLDEST_FIRST' },
    ]);
  });

  it('throws LedgerResponseError for a malformed page', async () => {
    const fetch = scriptedFetch(() => json({ data: { events: { edges: 'nope' } } }));
    const { client } = setup(fetch);
    await expect(client.events().next()).rejects.toBeInstanceOf(LedgerResponseError);
  });
});
