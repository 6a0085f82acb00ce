/**
 * Anomaly alerts over HTTP on both adapters: an AUDITOR sets a rule, a privilege-escalation
 * burst fires it, the firing is a ledger event with its evidence and reaches a webhook
 * subscribed to alerts; the evaluator resumes from its cursor after a restart without
 * recording an alert twice; permissions and bad input answer clear codes.
 */
import { describeEachAdapter } from '../support/adapters';
import { feedGet } from '../support/feedClient';
import { errorCode, gql, gqlOk } from '../support/graphqlClient';
import { bootstrapKeys, type Keys, ledgerEnv, type LedgerEnv, startLedger } from '../support/ledgerFixture';
import type { ServerProcess } from '../support/serverProcess';
import { WebhookReceiver } from '../support/webhookReceiver';

const SET = 'mutation($i: AlertRuleInput!) { setAlertRule(input: $i) { name action kind enabled threshold windowSeconds actions } }';
const RECORD_MANY = 'mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { leafIndex } }';

describeEachAdapter('anomaly alerts over HTTP', (adapter) => {
  let le: LedgerEnv;
  let server: ServerProcess;
  let keys: Keys;
  const hook = new WebhookReceiver();

  const record = async (inputs: Record<string, unknown>[]): Promise<number[]> =>
    (await gqlOk<{ recordEvents: { leafIndex: number }[] }>(server.url, RECORD_MANY, { i: inputs }, keys.appender)).recordEvents.map((r) => r.leafIndex);
  const grant = (who: string, n: number): Record<string, unknown> => ({ action: 'user.role.grant', actor: { id: who, type: 'USER' }, target: { type: 'user', id: `victim-${n}` } });

  beforeAll(async () => {
    await hook.start();
    le = await ledgerEnv('alerts', {}, adapter);
    server = await startLedger(le.env);
    keys = await bootstrapKeys(server.url, le.env);
  });
  afterAll(async () => {
    await server?.stop();
    await hook.close();
    await le?.dispose();
  });

  it('fires on a privilege-escalation burst, records the firing with its evidence, and delivers it to a webhook subscribed to alerts', async () => {
    const set = await gqlOk<{ setAlertRule: Record<string, unknown> }>(server.url, SET, { i: { name: 'role-burst', kind: 'PERMISSION_BURST', threshold: 4, windowSeconds: 600 } }, keys.auditor);
    expect(set.setAlertRule).toMatchObject({ name: 'role-burst', action: 'ledger.alert.role-burst', enabled: true, threshold: 4, windowSeconds: 600 });
    expect(set.setAlertRule.actions).toContain('*.role.grant');
    await gqlOk(server.url, 'mutation($u: String!) { createWebhook(input: { url: $u, filter: { actionPrefix: "ledger.alert." } }) { secret } }', { u: hook.url }, keys.admin);

    // Normal traffic: grants by several people, below the threshold each.
    await record([grant('ann', 1), grant('bob', 2), { action: 'document.read', actor: { id: 'ann', type: 'USER' } }, grant('cy', 3)]);
    const burst = await record([grant('mallory', 10), grant('mallory', 11), grant('mallory', 12), grant('mallory', 13)]);
    await hook.until(() => hook.received.some((r) => r.batch.events.length > 0));

    const alerts = hook.received.flatMap((r) => r.batch.events) as unknown as { leafIndex: number; action: string; actor: { id: string }; target: { type: string; id: string }; metadata: Record<string, unknown> }[];
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.action).toBe('ledger.alert.role-burst');
    expect(alert.actor.id).toBe('audit-ledger');
    expect(alert.target).toEqual({ type: 'actor', id: 'mallory' });
    expect(alert.metadata).toMatchObject({ rule: 'role-burst', kind: 'PERMISSION_BURST', count: 4, threshold: 4, leafIndices: burst, lastLeafIndex: burst[3], window: { seconds: 600 } });
    expect(alert.leafIndex).toBeGreaterThan(burst[3]!);

    const logged = await feedGet(server.url, keys.auditor, '?actionPrefix=ledger.alert.');
    expect(logged.lines.map((l) => l.leafIndex)).toEqual([alert.leafIndex]);
    const changes = await feedGet(server.url, keys.auditor, '?action=ledger.alertrule.set');
    expect(changes.lines).toHaveLength(1);
  });

  it('resumes after a restart from its cursor: a burst across the restart fires once, earlier firings are not repeated', async () => {
    await gqlOk(server.url, SET, { i: { name: 'deny-burst', kind: 'FAILED_ACCESS', threshold: 3, windowSeconds: 600 } }, keys.auditor);
    const before = hook.received.flatMap((r) => r.batch.events).length;
    await record([{ action: 'vault.open', outcome: 'DENIED', actor: { id: 'eve', type: 'USER' } }, { action: 'vault.open', outcome: 'DENIED', actor: { id: 'eve', type: 'USER' } }]);
    expect(await server.stop()).toBe(0);
    server = await startLedger(le.env);
    const third = await record([{ action: 'vault.open', outcome: 'DENIED', actor: { id: 'eve', type: 'USER' } }]);
    await hook.until(() => hook.received.flatMap((r) => r.batch.events).length > before);
    const fired = hook.received.flatMap((r) => r.batch.events).slice(before) as unknown as { action: string; metadata: { count: number; lastLeafIndex: number } }[];
    expect(fired.map((e) => e.action)).toEqual(['ledger.alert.deny-burst']);
    expect(fired[0]!.metadata).toMatchObject({ count: 3, lastLeafIndex: third[0] });
    const logged = await feedGet(server.url, keys.auditor, '?actionPrefix=ledger.alert.');
    expect(logged.lines.map((l) => l.action)).toEqual(['ledger.alert.role-burst', 'ledger.alert.deny-burst']);
  });

  it('lets an ADMIN read the rules but not change them; others get FORBIDDEN; bad rules BAD_USER_INPUT', async () => {
    const rules = await gqlOk<{ alertRules: { name: string; kind: string }[] }>(server.url, '{ alertRules { name kind } }', {}, keys.admin);
    expect(rules.alertRules.map((r) => r.name)).toEqual(['deny-burst', 'role-burst']);
    expect(errorCode(await gql(server.url, SET, { i: { name: 'x', kind: 'BULK_READ' } }, keys.admin))).toBe('FORBIDDEN');
    expect(errorCode(await gql(server.url, SET, { i: { name: 'x', kind: 'BULK_READ' } }, keys.appender))).toBe('FORBIDDEN');
    expect(errorCode(await gql(server.url, '{ alertRules { name } }', {}, keys.reader))).toBe('FORBIDDEN');
    for (const bad of [
      { name: 'Has Spaces', kind: 'BULK_READ' },
      { name: 'x', kind: 'BULK_READ', threshold: 0 },
      { name: 'x', kind: 'OFF_HOURS', timezone: 'Nowhere/Else' },
      { name: 'x', kind: 'OFF_HOURS', hoursStart: 20, hoursEnd: 6 },
    ]) {
      const res = await gql(server.url, SET, { i: bad }, keys.auditor);
      expect(errorCode(res)).toBe('BAD_USER_INPUT');
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });
});
