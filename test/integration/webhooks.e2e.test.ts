/**
 * Webhooks over HTTP on both adapters: subscriptions managed through GraphQL (each change a
 * ledger event), batches delivered in log order exactly as recorded, every signature valid,
 * across a receiver that fails then recovers and across a server restart that turns encryption
 * at rest on (the older subscription's secret is then sealed; no gap, duplicates
 * only as at-least-once allows), dead-lettering visible in the API, refusals and bad input.
 * Every wait is on an arrival (a request at the receiver, an event on the feed).
 */
import { createHash } from 'node:crypto';
import { freeLoopbackPort } from '../../src/storage/mongodb/engine/embeddedEngine';
import { verifySignature } from '../../src/stream/signature';
import { describeEachAdapter } from '../support/adapters';
import { SseConnection } from '../support/feedClient';
import { errorCode, gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, openEnvStorage, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { orderProblem, type Received, WebhookReceiver } from '../support/webhookReceiver';

const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';
const CREATE = 'mutation($i: WebhookInput!) { createWebhook(input: $i) { secret webhook { id state cursor } } }';
const LIST = '{ webhooks { id url state cursor attempts lastError lastErrorAt deadLetteredAt deliveredEvents filter createdBy } }';

interface WebhookView {
  id: string;
  url: string;
  state: string;
  cursor: number;
  attempts: number;
  lastError: string | null;
  deadLetteredAt: string | null;
  deliveredEvents: number;
  filter: Record<string, unknown>;
}

function leafHashOf(leaf: string): string {
  return createHash('sha256').update(Buffer.from([0])).update(leaf, 'utf8').digest('hex');
}

/** Every request signed with the secret over its exact body, and every leaf hashing to its hash. */
function checkSigned(received: readonly Received[], secret: string): void {
  for (const r of received) {
    const header = r.headers['x-ledger-signature'];
    expect(typeof header).toBe('string');
    expect(verifySignature(secret, r.body, header as string, Math.floor(Date.now() / 1000), 600)).toBe(true);
    expect(verifySignature(`${secret}x`, r.body, header as string, Math.floor(Date.now() / 1000), 600)).toBe(false);
    for (const e of r.batch.events) expect(leafHashOf(e.leaf!)).toBe(e.leafHash);
  }
}

describeEachAdapter('webhooks over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  const receivers: WebhookReceiver[] = [];

  const env = {
    LEDGER_WEBHOOK_RETRY_BASE_MS: '100',
    LEDGER_WEBHOOK_RETRY_MAX_MS: '800',
    LEDGER_WEBHOOK_MAX_ATTEMPTS: '6',
    LEDGER_WEBHOOK_BATCH: '40',
  };

  const receiver = async (): Promise<WebhookReceiver> => {
    const r = await new WebhookReceiver().start();
    receivers.push(r);
    return r;
  };
  const record = async (inputs: Record<string, unknown>[]): Promise<number[]> =>
    (await gqlOk<{ recordEvents: { leafIndex: number }[] }>(server.url, RECORD_MANY, { i: inputs }, keys.appender)).recordEvents.map((r) => r.leafIndex);
  /** `n` events, every third one matching `action`; answers the matching leaves. */
  const recordMixed = async (action: string, n: number): Promise<number[]> => {
    const inputs = Array.from({ length: n }, (_, i) => ({ action: i % 3 === 0 ? action : 'noise.event', actor: { id: `u-${i}`, type: 'USER' } }));
    const leaves = await record(inputs);
    return leaves.filter((_, i) => i % 3 === 0);
  };
  const create = async (input: Record<string, unknown>): Promise<{ id: string; secret: string }> => {
    const created = await gqlOk<{ createWebhook: { secret: string; webhook: { id: string; state: string } } }>(server.url, CREATE, { i: input }, keys.admin);
    expect(created.createWebhook.webhook.state).toBe('ACTIVE');
    return { id: created.createWebhook.webhook.id, secret: created.createWebhook.secret };
  };
  const webhook = async (id: string): Promise<WebhookView> =>
    (await gqlOk<{ webhooks: WebhookView[] }>(server.url, LIST, {}, keys.admin)).webhooks.find((w) => w.id === id)!;

  beforeAll(async () => {
    le = await ledgerEnv('webhooks', env, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
  });
  afterAll(async () => {
    await server?.stop();
    for (const r of receivers) await r.close();
    await le?.dispose();
  });

  it('delivers the matching events in log order, exactly as recorded, across a receiver that fails then recovers', async () => {
    const hook = await receiver();
    hook.answer = (n) => (n < 3 ? 500 : 200);
    const { id, secret } = await create({ url: hook.url, filter: { actionPrefix: 'order.' } });
    expect(secret).toMatch(/^whsec_/);
    const expected = [...(await recordMixed('order.created', 150)), ...(await recordMixed('order.paid', 60))];
    await hook.until(() => expected.every((leaf) => hook.delivered().has(leaf)));

    const acked = hook.received.filter((r) => r.status === 200).map((r) => r.batch.events.map((e) => e.leafIndex));
    expect(orderProblem(acked, expected)).toBeUndefined();
    expect(hook.received.slice(0, 3).every((r) => r.status === 500)).toBe(true);
    // The failed batch was retried whole: the first acknowledged batch starts where the first attempt did.
    expect(acked[0]![0]).toBe(hook.received[0]!.batch.events[0]!.leafIndex);
    expect(Math.max(...acked.map((b) => b.length))).toBeLessThanOrEqual(40);
    checkSigned(hook.received, secret);
    for (const r of hook.received) {
      expect(r.headers['x-ledger-subscription']).toBe(id);
      expect(r.batch.subscriptionId).toBe(id);
      expect(r.batch.events.every((e) => e.action.startsWith('order.'))).toBe(true);
    }
    // A batch is sent only once the cursor moved past the one before (the last move may still be on its way).
    const view = await webhook(id);
    expect(view).toMatchObject({ state: 'ACTIVE', attempts: 0, filter: { actionPrefix: 'order.' }, lastError: 'HTTP 500' });
    expect(view.cursor).toBeGreaterThan(acked.at(-2)!.at(-1)!);
    expect(view.deliveredEvents).toBeGreaterThanOrEqual(expected.length - acked.at(-1)!.length);
  });

  it('resumes from the persisted cursor after a server restart, now with encryption at rest: no gap, every signature valid, the secret sealed', async () => {
    const hook = await receiver();
    let recovered = false;
    hook.answer = (n) => (n === 0 || recovered ? 200 : 503);
    const { id, secret } = await create({ url: hook.url, filter: { action: 'payment.captured' } });
    const first = await recordMixed('payment.captured', 60);
    await hook.until(() => first.every((leaf) => hook.delivered().has(leaf)));
    const second = await recordMixed('payment.captured', 60);
    await hook.until(() => hook.received.length >= 3);
    expect((await webhook(id)).state).toBe('ACTIVE');

    expect(await server.stop()).toBe(0);
    recovered = true;
    // A subscription created while encryption was off keeps working once it is on; its secret gets sealed.
    server = await startLedger({ ...le.env, LEDGER_ENCRYPTION: 'on' });
    const third = await recordMixed('payment.captured', 60);
    const expected = [...first, ...second, ...third];
    await hook.until(() => expected.every((leaf) => hook.delivered().has(leaf)));

    const acked = hook.received.filter((r) => r.status === 200).map((r) => r.batch.events.map((e) => e.leafIndex));
    expect(orderProblem(acked, expected)).toBeUndefined();
    checkSigned(hook.received, secret);
    expect((await webhook(id)).cursor).toBeGreaterThan(acked.at(-2)!.at(-1)!);
    const storage = await openEnvStorage(le.env);
    try {
      const stored = JSON.parse((await storage.streams.get('subscription', id))!.value) as Record<string, unknown>;
      expect(stored).toMatchObject({ sealedSecret: expect.stringMatching(/^sealed1:/) });
      expect(stored).not.toHaveProperty('secret');
      expect(JSON.stringify(stored)).not.toContain(secret);
    } finally {
      await storage.close();
    }
  });

  it('dead-letters a subscription after repeated failures, visible with its last error; an ADMIN resumes, pauses and deletes it (each change recorded)', async () => {
    const before = (await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }')).checkpoint.treeSize;
    const watch = new SseConnection(server.url, keys.auditor, `?actionPrefix=ledger.webhook.&after=${before - 1}`);
    await watch.opened;
    const closedPort = await freeLoopbackPort();
    const { id } = await create({ url: `http://127.0.0.1:${closedPort}/gone`, filter: { action: 'never.delivered' } });
    await record([{ action: 'never.delivered', actor: { id: 'x', type: 'USER' } }]);
    const events = await watch.waitFor(2);
    expect(events.map((m) => m.data.action)).toEqual(['ledger.webhook.created', 'ledger.webhook.dead_lettered']);
    expect(events[1]!.data).toMatchObject({ outcome: 'FAILURE', target: { type: 'webhook', id } });

    const dead = await webhook(id);
    expect(dead.state).toBe('DEAD_LETTER');
    expect(dead.attempts).toBe(6);
    expect(dead.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    expect(dead.deadLetteredAt).not.toBeNull();

    const resumed = await gqlOk<{ resumeWebhook: { state: string; attempts: number } }>(server.url, 'mutation($id: ID!) { resumeWebhook(id: $id) { state attempts } }', { id }, keys.admin);
    expect(resumed.resumeWebhook).toEqual({ state: 'ACTIVE', attempts: 0 });
    const paused = await gqlOk<{ pauseWebhook: { state: string } }>(server.url, 'mutation($id: ID!) { pauseWebhook(id: $id) { state } }', { id }, keys.admin);
    expect(paused.pauseWebhook.state).toBe('PAUSED');
    const deleted = await gqlOk<{ deleteWebhook: { state: string } }>(server.url, 'mutation($id: ID!) { deleteWebhook(id: $id) { state } }', { id }, keys.admin);
    expect(deleted.deleteWebhook.state).toBe('DELETED');
    expect((await webhook(id)).state).toBe('DELETED');
    const changes = await watch.waitFor(5);
    expect(changes.slice(2).map((m) => m.data.action)).toEqual(['ledger.webhook.resumed', 'ledger.webhook.paused', 'ledger.webhook.deleted']);
    // The secret is never recorded.
    for (const m of changes) expect(JSON.stringify(m.data)).not.toMatch(/whsec_/);
    watch.close();
  });

  it.each([
    ['a non-HTTP url', { url: 'ftp://example.com/x' }, 'BAD_USER_INPUT'],
    ['a url with credentials', { url: 'https://user:pw@example.com/x' }, 'BAD_USER_INPUT'],
    ['a short secret', { url: 'https://example.com/x', secret: 'short' }, 'BAD_USER_INPUT'],
    ['a start beyond the log', { url: 'https://example.com/x', fromLeafIndex: 10_000_000 }, 'BAD_USER_INPUT'],
    ['too many groups', { url: 'https://example.com/x', filter: { groupIds: Array.from({ length: 65 }, (_, i) => `g${i}`) } }, 'BAD_USER_INPUT'],
  ])('refuses %s (%s)', async (_what, input, code) => {
    const res = await gql(server.url, CREATE, { i: input }, keys.admin);
    expect(errorCode(res)).toBe(code);
  });

  it('refuses non-ADMIN keys (FORBIDDEN), unknown ids and impossible changes (BAD_USER_INPUT)', async () => {
    expect(errorCode(await gql(server.url, CREATE, { i: { url: 'https://example.com/x' } }, keys.auditor))).toBe('FORBIDDEN');
    expect(errorCode(await gql(server.url, LIST, {}, keys.appender))).toBe('FORBIDDEN');
    expect(errorCode(await gql(server.url, LIST, {}))).toBe('UNAUTHENTICATED');
    expect(errorCode(await gql(server.url, 'mutation { pauseWebhook(id: "nope") { state } }', {}, keys.admin))).toBe('BAD_USER_INPUT');
    const hook = await receiver();
    const { id } = await create({ url: hook.url });
    const again = await gql(server.url, 'mutation($id: ID!) { resumeWebhook(id: $id) { state } }', { id }, keys.admin);
    expect(errorCode(again)).toBe('BAD_USER_INPUT');
    expect(again.errors?.[0]?.message).toMatch(/already active/);
  });
});

// Only MongoDB serves several server processes (the SQLite adapter refuses a second one).
describeEachAdapter(
  'webhooks from two server processes on one database',
  (adapter) => {
    let le: LedgerEnv;
    const servers: ServerProcess[] = [];
    const hook = new WebhookReceiver();
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.stop('SIGKILL')));
      await hook.close();
      await le?.dispose();
    });

    it('deliver once in log order through the lease holder, and the survivor takes over when it is killed', async () => {
      await hook.start();
      le = await ledgerEnv('webhooks2', { LEDGER_WEBHOOK_BATCH: '25' }, adapter);
      const a = await startLedger(le.env);
      const b = await startLedger(le.env);
      servers.push(a, b);
      const keys = await bootstrapKeys(a.url, le.env);
      const created = await gqlOk<{ createWebhook: { secret: string } }>(b.url, CREATE, { i: { url: hook.url, filter: { action: 'two.proc' } } }, keys.admin);
      const record = async (url: string, n: number): Promise<number[]> =>
        (
          await gqlOk<{ recordEvents: { leafIndex: number }[] }>(
            url,
            RECORD_MANY,
            { i: Array.from({ length: n }, (_, i) => ({ action: 'two.proc', actor: { id: `p-${i}`, type: 'USER' } })) },
            keys.appender,
          )
        ).recordEvents.map((r) => r.leafIndex);
      const expected: number[] = [];
      for (let round = 0; round < 6; round++) expected.push(...(await record(round % 2 ? a.url : b.url, 20)));
      await hook.until(() => expected.every((leaf) => hook.delivered().has(leaf)));
      const batches = (): number[][] => hook.received.filter((r) => r.status === 200).map((r) => r.batch.events.map((e) => e.leafIndex));
      expect(orderProblem(batches(), expected)).toBeUndefined();
      // One deliverer: nothing was sent twice while both ran.
      expect(hook.acknowledged()).toEqual(expected);

      // Kill A (holder or not); B delivers what is recorded next, once A's lease has lapsed.
      await a.stop('SIGKILL');
      expected.push(...(await record(b.url, 30)));
      await hook.until(() => expected.every((leaf) => hook.delivered().has(leaf)));
      expect(orderProblem(batches(), expected)).toBeUndefined();
      checkSigned(hook.received, created.createWebhook.secret);
      // A lease lapses after 10 s, and so does a claim the killed process left mid-write.
    }, 180_000);
  },
  ['mongodb'],
);
