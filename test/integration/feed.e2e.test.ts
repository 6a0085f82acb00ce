/**
 * GET /feed over HTTP on both adapters: NDJSON up to the signed end, filters and resumption,
 * live server-sent events resumed with Last-Event-ID, READER scope, refusals and bad input
 * with clear codes, and one recorded read per connection.
 */
import { createHash } from 'node:crypto';
import { describeEachAdapter } from '../support/adapters';
import { feedGet, SseConnection } from '../support/feedClient';
import { gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';

const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';

function leafHashOf(leaf: string): string {
  return createHash('sha256').update(Buffer.from([0])).update(leaf, 'utf8').digest('hex');
}

describeEachAdapter('the pull feed over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  let scopedReader: string;
  let scopedAppender: string;
  let groupId: string;
  let allLines: Record<string, unknown>[] = [];

  const record = async (token: string, inputs: Record<string, unknown>[]): Promise<number[]> =>
    (await gqlOk<{ recordEvents: { leafIndex: number }[] }>(server.url, RECORD_MANY, { i: inputs }, token)).recordEvents.map((r) => r.leafIndex);

  beforeAll(async () => {
    le = await ledgerEnv('feed', { LEDGER_RECORD_READS: 'true' }, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
    groupId = (await gqlOk<{ createGroup: { id: string } }>(server.url, 'mutation { createGroup(input: { name: "team-a" }) { id } }', {}, keys.admin)).createGroup.id;
    const key = async (name: string, roles: string[]): Promise<string> =>
      (
        await gqlOk<{ createApiKey: { token: string } }>(
          server.url,
          'mutation($n: String!, $r: [Role!]!, $g: [ID!]) { createApiKey(input: { name: $n, roles: $r, groupIds: $g }) { token } }',
          { n: name, r: roles, g: [groupId] },
          keys.admin,
        )
      ).createApiKey.token;
    scopedReader = await key('team-a-reader', ['READER']);
    scopedAppender = await key('team-a-svc', ['APPENDER']);
  });
  afterAll(async () => {
    await server?.stop();
    await le?.dispose();
  });

  it('streams every signed event as NDJSON in leaf order, each leaf hashing to its leaf hash, and records one read', async () => {
    await record(
      keys.appender,
      Array.from({ length: 1200 }, (_, i) => ({ action: i % 3 === 0 ? 'invoice.refund' : 'document.read', actor: { id: `u-${i % 5}`, type: 'USER' } })),
    );
    const reads = async (): Promise<number> => (await feedGet(server.url, keys.auditor, '?action=ledger.events.read')).lines.length;
    const readsBefore = await reads();
    const { checkpoint } = await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }');
    const all = await feedGet(server.url, keys.auditor, '');
    expect(all.status).toBe(200);
    expect(all.type).toMatch(/^application\/x-ndjson/);
    // Everything signed when the feed began (and possibly the feed's own read, recorded first).
    expect(all.lines.length).toBeGreaterThanOrEqual(checkpoint.treeSize);
    expect(all.lines.map((l) => l.leafIndex)).toEqual(Array.from({ length: all.lines.length }, (_, i) => i));
    for (const line of all.lines) {
      expect(line.schema).toBe('audit-ledger.event.v1');
      expect(leafHashOf(line.leaf as string)).toBe(line.leafHash);
      expect(JSON.parse(line.leaf as string)).toMatchObject({ id: line.id, action: line.action });
    }
    allLines = all.lines;
    // One read recorded per connection (the counting reads record themselves too: +2), not one per event.
    expect(await reads()).toBe(readsBefore + 2);
  });

  it('filters, resumes after a leaf index, and maps to CloudEvents on request', async () => {
    const refunds = await feedGet(server.url, keys.auditor, '?action=invoice.refund&after=600');
    const expected = allLines.filter((l) => l.action === 'invoice.refund' && (l.leafIndex as number) > 600).map((l) => l.leafIndex);
    expect(expected.length).toBeGreaterThan(100);
    expect(refunds.lines.map((l) => l.leafIndex)).toEqual(expected);
    const cloud = await feedGet(server.url, keys.auditor, `?actorId=u-1&format=cloudevents&after=${allLines.length - 30}`);
    expect(cloud.lines.length).toBeGreaterThan(0);
    for (const ce of cloud.lines) {
      expect(ce).toMatchObject({ specversion: '1.0', type: `audit-ledger.${(ce.data as { action: string }).action}`, datacontenttype: 'application/json' });
      expect(ce.id).toBe((ce.data as { id: string }).id);
      expect(ce.leafindex).toBe((ce.data as { leafIndex: number }).leafIndex);
    }
  });

  it('pushes new events live over server-sent events, and resumes from Last-Event-ID', async () => {
    const { checkpoint } = await gqlOk<{ checkpoint: { treeSize: number } }>(server.url, '{ checkpoint { treeSize } }');
    const sse = new SseConnection(server.url, keys.auditor, `?action=deploy.start&after=${checkpoint.treeSize - 1}`);
    await sse.opened;
    expect(sse.status).toBe(200);
    const first = await record(keys.appender, [{ action: 'deploy.start', actor: { id: 'ci', type: 'SERVICE' } }]);
    const [m1] = await sse.waitFor(1);
    expect(m1!.id).toBe(String(first[0]));
    expect(m1!.event).toBe('ledger.event');
    expect(m1!.data.leafIndex).toBe(first[0]);
    const more = await record(keys.appender, [1, 2, 3].map((n) => ({ action: 'deploy.start', actor: { id: `ci-${n}`, type: 'SERVICE' } })));
    const got = await sse.waitFor(4);
    expect(got.map((m) => Number(m.id))).toEqual([...first, ...more]);
    sse.close();

    // A reconnecting EventSource sends the same URL and the last id it saw.
    const resumed = new SseConnection(server.url, keys.auditor, `?action=deploy.start&after=${checkpoint.treeSize - 1}`, String(more[0]));
    await resumed.opened;
    const again = await resumed.waitFor(2);
    expect(again.map((m) => Number(m.id))).toEqual(more.slice(1));
    resumed.close();
  });

  it("limits a READER to its groups and refuses groups outside them (FORBIDDEN, recorded)", async () => {
    const mine = await record(scopedAppender, [{ action: 'team.thing', actor: { id: 'a', type: 'USER' }, groups: [groupId] }]);
    const scoped = await feedGet(server.url, scopedReader, '?action=team.thing');
    expect(scoped.lines.map((l) => l.leafIndex)).toEqual(mine);
    expect((await feedGet(server.url, scopedReader, '?action=document.read')).lines).toEqual([]);
    const outside = await feedGet(server.url, scopedReader, '?groupIds=someone-else');
    expect(outside.status).toBe(403);
    expect(JSON.parse(outside.body)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    const denied = await feedGet(server.url, keys.auditor, '?action=ledger.access.denied');
    expect(denied.lines.some((l) => (l.metadata as { operation?: string }).operation === 'feed')).toBe(true);
  });

  it.each([
    ['no key', undefined, '', 401, 'UNAUTHENTICATED'],
    ['an APPENDER key', 'appender', '', 403, 'FORBIDDEN'],
    ['an unknown parameter', 'auditor', '?colour=red', 400, 'BAD_USER_INPUT'],
    ['a bad leaf index', 'auditor', '?after=-3', 400, 'BAD_USER_INPUT'],
    ['a bad outcome', 'auditor', '?outcome=MAYBE', 400, 'BAD_USER_INPUT'],
    ['a bad date', 'auditor', '?from=yesterday', 400, 'BAD_USER_INPUT'],
    ['a bad format', 'auditor', '?format=xml', 400, 'BAD_USER_INPUT'],
  ] as const)('answers %s with a clear code', async (_what, who, params, status, code) => {
    const res = await feedGet(server.url, who === undefined ? undefined : keys[who], params);
    expect(res.status).toBe(status);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code } });
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('refuses a bad Last-Event-ID', async () => {
    const res = await feedGet(server.url, keys.auditor, '', { 'last-event-id': 'abc', accept: 'text/event-stream' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.message).toMatch(/Last-Event-ID/);
  });

  it('ends live feeds when the server stops, so the stop does not wait for them', async () => {
    const live = new SseConnection(server.url, keys.auditor, '?action=never.recorded');
    await live.opened;
    expect(live.status).toBe(200);
    expect(await server.stop()).toBe(0);
  });
});
