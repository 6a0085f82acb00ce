/**
 * The alert rules on scripted event sequences: each fires on its scenario, with evidence that
 * names the leaves, the count and the window, and stays quiet on normal traffic; cooldowns and
 * the hourly cap keep a sustained attack from flooding the log; the state survives a JSON
 * round trip (the evaluator resumes from it).
 */
import { AlertEvaluator, type AlertFiring, type AlertRule, AlertRuleInputError, makeRule, usualTime } from '../../src/stream/alertRules';
import type { StoredEvent } from '../../src/storage/port';
import { makeEvent } from '../storage/contract';

/** 2026-01-05 is a Monday. */
const MONDAY_10H = Date.UTC(2026, 0, 5, 10, 0, 0);
let leaf = 0;

function at(ms: number, spec: Parameters<typeof makeEvent>[1] = {}): StoredEvent {
  return makeEvent(leaf++, { recordedAt: new Date(ms), ...spec });
}

function run(rules: readonly AlertRule[], events: readonly StoredEvent[]): AlertFiring[] {
  const evaluator = new AlertEvaluator(rules);
  return events.flatMap((e) => evaluator.observe(e));
}

/** Ordinary traffic over a working day: logins, reads, documents, one role change an hour per team. */
function normalDay(): StoredEvent[] {
  const out: StoredEvent[] = [];
  for (let minute = 0; minute < 8 * 60; minute += 2) {
    const t = MONDAY_10H - 2 * 3600_000 + minute * 60_000; // 08:00 to 16:00
    out.push(at(t, { action: 'user.login', actor: { id: `u-${minute % 13}`, type: 'USER' }, groups: ['team-a'] }));
    out.push(at(t + 1000, { action: 'document.read', actor: { id: `u-${minute % 7}`, type: 'USER' }, groups: ['team-b'] }));
    if (minute % 60 === 0) out.push(at(t + 2000, { action: 'user.role.grant', actor: { id: 'admin-1', type: 'USER' }, groups: [minute % 120 === 0 ? 'team-a' : 'team-b'] }));
    if (minute % 30 === 0) out.push(at(t + 3000, { action: 'ledger.events.read', actor: { id: 'auditor', type: 'USER' }, metadata: '{"operation":"events","results":50}' }));
    if (minute % 45 === 0) out.push(at(t + 4000, { action: 'document.open', outcome: 'DENIED', actor: { id: `u-${minute % 5}`, type: 'USER' }, groups: ['team-b'] }));
  }
  return out;
}

const rules = {
  burst: makeRule({ name: 'role-burst', kind: 'PERMISSION_BURST' }),
  bulk: makeRule({ name: 'bulk-read', kind: 'BULK_READ' }),
  failed: makeRule({ name: 'failed-access', kind: 'FAILED_ACCESS' }),
  offHours: makeRule({ name: 'off-hours', kind: 'OFF_HOURS', groupIds: ['team-a', 'team-b'] }),
};
const all = Object.values(rules);

describe('alert rules', () => {
  it('stay quiet on a normal working day', () => {
    expect(run(all, normalDay())).toEqual([]);
  });

  it('PERMISSION_BURST fires on role grants by one team within the window, naming the leaves', () => {
    const burst = Array.from({ length: 5 }, (_, i) =>
      at(MONDAY_10H + i * 30_000, { action: i % 2 ? 'team.permission.change' : 'user.role.grant', actor: { id: 'mallory', type: 'USER' }, groups: ['team-x'] }),
    );
    const firings = run(all, [...normalDay(), ...burst]);
    expect(firings).toHaveLength(1);
    expect(firings[0]).toMatchObject({ rule: 'role-burst', kind: 'PERMISSION_BURST', subject: { type: 'group', id: 'team-x' }, leafIndex: burst[4]!.leafIndex });
    expect(firings[0]!.evidence).toMatchObject({
      count: 5,
      threshold: 5,
      leafIndices: burst.map((e) => e.leafIndex),
      window: { seconds: 600, from: burst[0]!.recordedAt.toISOString(), to: burst[4]!.recordedAt.toISOString() },
    });
    // The same five spread over more than the window: quiet.
    const slow = Array.from({ length: 5 }, (_, i) => at(MONDAY_10H + i * 200_000, { action: 'user.role.grant', groups: ['team-y'] }));
    expect(run([rules.burst], slow)).toEqual([]);
  });

  it('BULK_READ fires when one reader reads more events than the threshold within the window', () => {
    const reads = [4000, 4000, 2500].map((n, i) => at(MONDAY_10H + i * 60_000, { action: 'ledger.events.read', actor: { id: 'svc-exfil', type: 'SERVICE' }, metadata: `{"operation":"events","results":${n}}` }));
    const firings = run(all, [...normalDay(), ...reads]);
    expect(firings.map((f) => [f.rule, f.subject.id, f.evidence.count])).toEqual([['bulk-read', 'svc-exfil', 10_500]]);
  });

  it('FAILED_ACCESS fires on repeated refusals of one principal, counting aggregated refusals, and per address for anonymous callers', () => {
    const denied = Array.from({ length: 3 }, (_, i) =>
      at(MONDAY_10H + i * 10_000, { action: 'ledger.access.denied', outcome: 'DENIED', actor: { id: 'u-9', type: 'USER' }, metadata: `{"operation":"events","count":${i === 2 ? 8 : 1}}` }),
    );
    const anonymous = Array.from({ length: 10 }, (_, i) =>
      at(MONDAY_10H + 60_000 + i * 1000, { action: 'ledger.access.denied', outcome: 'DENIED', actor: { id: 'anonymous', type: 'SYSTEM' }, source: { ip: '203.0.113.9' } }),
    );
    const firings = run(all, [...normalDay(), ...denied, ...anonymous]);
    expect(firings.map((f) => [f.rule, f.subject])).toEqual([
      ['failed-access', { type: 'actor', id: 'u-9' }],
      ['failed-access', { type: 'address', id: '203.0.113.9' }],
    ]);
    expect(firings[0]!.evidence.count).toBe(10);
  });

  it("OFF_HOURS fires on a group's activity outside its hours, in the rule's time zone", () => {
    const night = at(Date.UTC(2026, 0, 6, 2, 30), { action: 'document.delete', groups: ['team-a'] });
    const saturday = at(Date.UTC(2026, 0, 10, 11, 0), { action: 'document.read', groups: ['team-b'] });
    const firings = run(all, [...normalDay(), night, saturday]);
    expect(firings.map((f) => [f.rule, f.subject.id, f.leafIndex])).toEqual([
      ['off-hours', 'team-a', night.leafIndex],
      ['off-hours', 'team-b', saturday.leafIndex],
    ]);
    const berlin = makeRule({ name: 'berlin', kind: 'OFF_HOURS', timezone: 'Europe/Berlin' });
    // 07:30 UTC is 08:30 in Berlin in January: usual there, not in UTC.
    expect(usualTime(berlin, new Date(Date.UTC(2026, 0, 5, 7, 30)))).toBe(true);
    expect(usualTime(rules.offHours, new Date(Date.UTC(2026, 0, 5, 7, 30)))).toBe(false);
  });

  it('is rate-limited: a cooldown per subject and a cap per hour, holding back what it does not fire', () => {
    const rule = makeRule({ name: 'burst', kind: 'PERMISSION_BURST', threshold: 2, cooldownSeconds: 600, maxPerHour: 3 });
    const flood = Array.from({ length: 200 }, (_, i) => at(MONDAY_10H + i * 1000, { action: 'user.role.grant', groups: [`g-${i % 10}`] }));
    const firings = run([rule], flood);
    // 10 groups each reach the threshold, but only 3 alerts an hour; one group never fires twice within its cooldown.
    expect(firings).toHaveLength(3);
    expect(new Set(firings.map((f) => f.subject.id)).size).toBe(3);
    const later = at(MONDAY_10H + 3700_000, { action: 'user.role.grant', groups: ['g-1'] });
    const again = at(MONDAY_10H + 3701_000, { action: 'user.role.grant', groups: ['g-1'] });
    const evaluator = new AlertEvaluator([rule]);
    [...flood, later].forEach((e) => evaluator.observe(e));
    const next = evaluator.observe(again);
    expect(next).toHaveLength(1);
    expect(next[0]!.evidence.suppressedBefore).toBeGreaterThan(0);
  });

  it('resumes from its saved state as if it had never stopped', () => {
    const events = [...normalDay(), ...Array.from({ length: 5 }, (_, i) => at(MONDAY_10H + i * 1000, { action: 'user.role.grant', groups: ['team-z'] }))];
    const straight = run(all, events);
    const first = new AlertEvaluator(all);
    const half = Math.floor(events.length - 3);
    const before = events.slice(0, half).flatMap((e) => first.observe(e));
    const resumed = new AlertEvaluator(all, JSON.parse(JSON.stringify(first.snapshot())));
    const after = events.slice(half).flatMap((e) => resumed.observe(e));
    expect([...before, ...after]).toEqual(straight);
    expect(straight).toHaveLength(1);
  });

  it('ignores its own alerts', () => {
    const alerts = Array.from({ length: 20 }, (_, i) => at(MONDAY_10H + i, { action: 'ledger.alert.role-burst', outcome: 'FAILURE', groups: ['team-a'] }));
    expect(run(all, alerts)).toEqual([]);
  });

  it.each([
    [{ name: 'Bad Name', kind: 'OFF_HOURS' }, 'name'],
    [{ name: 'x', kind: 'NOPE' }, 'kind'],
    [{ name: 'x', kind: 'BULK_READ', threshold: 0 }, 'threshold'],
    [{ name: 'x', kind: 'OFF_HOURS', hours: { start: 20, end: 6 } }, 'hours'],
    [{ name: 'x', kind: 'OFF_HOURS', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ name: 'x', kind: 'OFF_HOURS', days: [0] }, 'days'],
    [{ name: 'x', kind: 'PERMISSION_BURST', actions: ['User.Role'] }, 'actions'],
  ])('refuses %j (field %s)', (input, field) => {
    expect(() => makeRule(input as Parameters<typeof makeRule>[0])).toThrow(AlertRuleInputError);
    try {
      makeRule(input as Parameters<typeof makeRule>[0]);
    } catch (err) {
      expect((err as AlertRuleInputError).field).toBe(field);
    }
  });
});
