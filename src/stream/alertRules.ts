/**
 * Anomaly alert rules, evaluated over the log in leaf order. Pure: time is the events'
 * `recordedAt` (the server's clock, never decreasing along the log), so an evaluation is a
 * function of the events and the saved state, and replaying the same events from the same
 * state gives the same alerts (which is what makes the evaluator resumable and its alerts
 * recordable exactly once under an idempotency key).
 *
 * Kinds (thresholds and defaults in RULE_DEFAULTS and README):
 * - PERMISSION_BURST: permission changes (actions matching `actions`) carrying one group,
 *   `threshold` or more within `windowSeconds` (events without a group count under their actor);
 * - BULK_READ: events read or exported by one actor (the reading key's user) within the
 *   window, summed from `metadata.results` (1 when the read does not say how many, e.g. a feed
 *   connection, or an export);
 * - FAILED_ACCESS: DENIED or FAILURE outcomes of one principal within the window (an aggregated
 *   refusal counts `metadata.count` times); callers without a key count per client address;
 * - OFF_HOURS: events of one group recorded outside its configured hours (`hours`, `days`,
 *   `timezone`): configured rather than learned, so a slowly shifted baseline cannot teach the
 *   rule that 3 a.m. is normal, and so it fires the same way in a test and in production.
 * After firing for a key, a rule is quiet for that key for `cooldownSeconds`, and fires at most
 * `maxPerHour` times an hour in all; what it held back is counted into its next alert.
 */
import type { JsonObject } from '../event/eventRecord';
import { LedgerError } from '../errors';
import type { StoredEvent } from '../storage/port';

export const ALERT_KINDS = ['PERMISSION_BURST', 'BULK_READ', 'FAILED_ACCESS', 'OFF_HOURS'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export interface AlertRule {
  /** Also the alert's action: `ledger.alert.<name>`. */
  readonly name: string;
  readonly kind: AlertKind;
  readonly enabled: boolean;
  readonly threshold: number;
  readonly windowSeconds: number;
  readonly cooldownSeconds: number;
  readonly maxPerHour: number;
  /** Action patterns (`*` matches any run of name characters, dots included). */
  readonly actions: readonly string[];
  /** Only events carrying one of these groups (empty: any). */
  readonly groupIds: readonly string[];
  /** OFF_HOURS: usual hours [start, end) in `timezone`, 0-24. */
  readonly hours: { readonly start: number; readonly end: number };
  /** OFF_HOURS: usual days, 1 = Monday … 7 = Sunday. */
  readonly days: readonly number[];
  /** OFF_HOURS: an IANA time zone, e.g. Europe/Berlin. */
  readonly timezone: string;
}

export const RULE_DEFAULTS: Record<AlertKind, Omit<AlertRule, 'name' | 'kind' | 'enabled' | 'groupIds'>> = {
  PERMISSION_BURST: {
    threshold: 5,
    windowSeconds: 600,
    cooldownSeconds: 600,
    maxPerHour: 20,
    actions: ['*.role.grant', '*.role.revoke', '*.permission.*', 'ledger.apikey.created', 'ledger.group.member.added'],
    hours: { start: 0, end: 24 },
    days: [1, 2, 3, 4, 5, 6, 7],
    timezone: 'UTC',
  },
  BULK_READ: {
    threshold: 10_000,
    windowSeconds: 600,
    cooldownSeconds: 3600,
    maxPerHour: 20,
    actions: ['ledger.events.read', 'ledger.events.exported', '*.export', '*.exported'],
    hours: { start: 0, end: 24 },
    days: [1, 2, 3, 4, 5, 6, 7],
    timezone: 'UTC',
  },
  FAILED_ACCESS: {
    threshold: 10,
    windowSeconds: 300,
    cooldownSeconds: 900,
    maxPerHour: 20,
    actions: ['*'],
    hours: { start: 0, end: 24 },
    days: [1, 2, 3, 4, 5, 6, 7],
    timezone: 'UTC',
  },
  OFF_HOURS: {
    threshold: 1,
    windowSeconds: 3600,
    cooldownSeconds: 3600,
    maxPerHour: 20,
    actions: ['*'],
    hours: { start: 8, end: 19 },
    days: [1, 2, 3, 4, 5],
    timezone: 'UTC',
  },
};

export class AlertRuleInputError extends LedgerError {
  override name = 'AlertRuleInputError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_INPUT', `${field}: ${message}`);
  }
}

export type AlertRuleInput = Partial<Omit<AlertRule, 'name' | 'kind'>> & { readonly name: string; readonly kind: AlertKind };

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const PATTERN = /^[a-z0-9_*.-]{1,256}$/;

/** A complete, checked rule from what a caller gave, the kind's defaults filling the rest. */
export function makeRule(input: AlertRuleInput): AlertRule {
  if (!NAME.test(input.name)) throw new AlertRuleInputError('name', 'must be 1-63 lowercase letters, digits, "-" or "_" (it becomes the action ledger.alert.<name>)');
  if (!ALERT_KINDS.includes(input.kind)) throw new AlertRuleInputError('kind', `must be one of ${ALERT_KINDS.join(', ')}`);
  const d = RULE_DEFAULTS[input.kind];
  const rule: AlertRule = {
    name: input.name,
    kind: input.kind,
    enabled: input.enabled ?? true,
    threshold: input.threshold ?? d.threshold,
    windowSeconds: input.windowSeconds ?? d.windowSeconds,
    cooldownSeconds: input.cooldownSeconds ?? d.cooldownSeconds,
    maxPerHour: input.maxPerHour ?? d.maxPerHour,
    actions: input.actions ?? d.actions,
    groupIds: input.groupIds ?? [],
    hours: input.hours ?? d.hours,
    days: input.days ?? d.days,
    timezone: input.timezone ?? d.timezone,
  };
  const whole = (field: string, v: number, min: number, max: number): void => {
    if (!Number.isSafeInteger(v) || v < min || v > max) throw new AlertRuleInputError(field, `must be a whole number ${min}-${max}`);
  };
  whole('threshold', rule.threshold, 1, 1_000_000_000);
  whole('windowSeconds', rule.windowSeconds, 1, 7 * 86400);
  whole('cooldownSeconds', rule.cooldownSeconds, 0, 7 * 86400);
  whole('maxPerHour', rule.maxPerHour, 1, 3600);
  if (rule.actions.length === 0 || rule.actions.length > 32 || rule.actions.some((a) => !PATTERN.test(a))) {
    throw new AlertRuleInputError('actions', 'must be 1-32 action patterns of lowercase letters, digits, ".", "-", "_" and "*"');
  }
  if (rule.groupIds.length > 64 || rule.groupIds.some((g) => g.length === 0 || g.length > 256)) throw new AlertRuleInputError('groupIds', 'must be at most 64 group ids');
  whole('hours.start', rule.hours.start, 0, 23);
  whole('hours.end', rule.hours.end, 1, 24);
  if (rule.hours.start >= rule.hours.end) throw new AlertRuleInputError('hours', 'start must be before end (hours past midnight: split into two rules)');
  if (rule.days.length === 0 || rule.days.some((day) => !Number.isInteger(day) || day < 1 || day > 7)) throw new AlertRuleInputError('days', 'must be days 1 (Monday) to 7 (Sunday)');
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: rule.timezone });
  } catch {
    throw new AlertRuleInputError('timezone', `unknown time zone ${JSON.stringify(rule.timezone)} (use an IANA name such as Europe/Berlin)`);
  }
  return rule;
}

export function actionMatcher(patterns: readonly string[]): (action: string) => boolean {
  const res = patterns.map((p) => new RegExp(`^${p.replace(/\./g, '\\.').replace(/\*/g, '[a-z0-9_.-]+')}$`));
  return (action) => res.some((r) => r.test(action));
}

/** One firing: becomes the event `ledger.alert.<rule>`. */
export interface AlertFiring {
  readonly rule: string;
  readonly kind: AlertKind;
  /** What it is about: a group, an actor, a client address. */
  readonly subject: { readonly type: 'group' | 'actor' | 'address'; readonly id: string };
  /** The leaf that tipped it over: with the rule, a unique name for this firing. */
  readonly leafIndex: number;
  readonly evidence: JsonObject;
}

/** What the evaluator remembers between events, JSON-serialisable and bounded. */
export interface EvaluatorState {
  /** Per rule: per key, recent (recordedAt ms, leaf index, weight). */
  readonly windows: Record<string, Record<string, [number, number, number][]>>;
  /** Per rule: per key, until when it is quiet (ms). */
  readonly quietUntil: Record<string, Record<string, number>>;
  /** Per rule: firing times in the last hour (ms), and how many were held back since the last firing. */
  readonly fired: Record<string, { times: number[]; suppressed: number }>;
}

/**
 * Events kept per key: older ones' weights are summed into the oldest kept (which then leaves
 * the window with it: a slight undercount, never a false alarm). With MAX_KEYS this bounds the
 * saved state to well under a megabyte per rule.
 */
const MAX_ENTRIES = 32;
/** Keys tracked per rule; the least recently seen are forgotten first. */
const MAX_KEYS = 1000;
/** The ledger's own alert events never feed the rules (an alert must not set off alerts). */
const OWN = /^ledger\.alert\./;

export function emptyState(): EvaluatorState {
  return { windows: {}, quietUntil: {}, fired: {} };
}

export class AlertEvaluator {
  private readonly matchers = new Map<string, (action: string) => boolean>();

  constructor(
    private readonly rules: readonly AlertRule[],
    private readonly state: EvaluatorState = emptyState(),
  ) {
    for (const r of rules) this.matchers.set(r.name, actionMatcher(r.actions));
  }

  /** The alerts this event sets off, in rule order. */
  observe(e: StoredEvent): AlertFiring[] {
    if (OWN.test(e.action) || e.redaction) return [];
    const out: AlertFiring[] = [];
    for (const rule of this.rules) {
      if (!rule.enabled || !this.matchers.get(rule.name)!(e.action)) continue;
      if (rule.groupIds.length > 0 && !e.groups.some((g) => rule.groupIds.includes(g))) continue;
      for (const { key, subject, weight } of contributions(rule, e)) {
        const firing = this.count(rule, e, key, subject, weight);
        if (firing) out.push(firing);
      }
    }
    return out;
  }

  snapshot(): EvaluatorState {
    return this.state;
  }

  private count(rule: AlertRule, e: StoredEvent, key: string, subject: AlertFiring['subject'], weight: number): AlertFiring | undefined {
    const now = e.recordedAt.getTime();
    const windows = (this.state.windows[rule.name] ??= {});
    let entries = windows[key];
    if (entries) delete windows[key]; // re-inserted below: insertion order is recency
    entries = (entries ?? []).filter(([t]) => t > now - rule.windowSeconds * 1000);
    entries.push([now, e.leafIndex, weight]);
    if (entries.length > MAX_ENTRIES) {
      const dropped = entries.splice(0, entries.length - MAX_ENTRIES);
      entries[0]![2] += dropped.reduce((n, [, , w]) => n + w, 0);
    }
    windows[key] = entries;
    const keys = Object.keys(windows);
    for (let i = 0; i < keys.length - MAX_KEYS; i++) delete windows[keys[i]!];

    const total = entries.reduce((n, [, , w]) => n + w, 0);
    if (total < rule.threshold) return undefined;
    const quiet = (this.state.quietUntil[rule.name] ??= {});
    for (const [k, until] of Object.entries(quiet)) if (until <= now) delete quiet[k];
    const fired = (this.state.fired[rule.name] ??= { times: [], suppressed: 0 });
    fired.times = fired.times.filter((t) => t > now - 3600_000);
    if ((quiet[key] ?? 0) > now) return undefined;
    if (fired.times.length >= rule.maxPerHour) {
      fired.suppressed++;
      quiet[key] = now + rule.cooldownSeconds * 1000;
      return undefined;
    }
    fired.times.push(now);
    quiet[key] = now + rule.cooldownSeconds * 1000;
    const suppressed = fired.suppressed;
    fired.suppressed = 0;
    // The evidence: what was counted, and where in the log it is.
    windows[key] = [];
    return {
      rule: rule.name,
      kind: rule.kind,
      subject,
      leafIndex: e.leafIndex,
      evidence: {
        rule: rule.name,
        kind: rule.kind,
        subject: { ...subject },
        count: total,
        threshold: rule.threshold,
        window: { seconds: rule.windowSeconds, from: new Date(entries[0]![0]).toISOString(), to: new Date(now).toISOString() },
        leafIndices: entries.map(([, leaf]) => leaf).slice(-32),
        firstLeafIndex: entries[0]![1],
        lastLeafIndex: e.leafIndex,
        ...(suppressed > 0 && { suppressedBefore: suppressed }),
        ...(rule.kind === 'OFF_HOURS' && { usualHours: { start: rule.hours.start, end: rule.hours.end, days: [...rule.days], timezone: rule.timezone } }),
      },
    };
  }
}

interface Contribution {
  readonly key: string;
  readonly subject: AlertFiring['subject'];
  readonly weight: number;
}

function contributions(rule: AlertRule, e: StoredEvent): Contribution[] {
  const groups = rule.groupIds.length > 0 ? e.groups.filter((g) => rule.groupIds.includes(g)) : e.groups;
  const byGroup = (): Contribution[] =>
    groups.length > 0 ? groups.map((g) => ({ key: `group:${g}`, subject: { type: 'group', id: g }, weight: 1 })) : [{ key: `actor:${e.actor.id}`, subject: { type: 'actor', id: e.actor.id }, weight: 1 }];
  switch (rule.kind) {
    case 'PERMISSION_BURST':
      return byGroup();
    case 'BULK_READ':
      return [{ key: `actor:${e.actor.id}`, subject: { type: 'actor', id: e.actor.id }, weight: metadataNumber(e, 'results') ?? 1 }];
    case 'FAILED_ACCESS': {
      if (e.outcome !== 'DENIED' && e.outcome !== 'FAILURE') return [];
      if (e.actor.type === 'SYSTEM' && e.actor.id !== 'anonymous') return [];
      const weight = metadataNumber(e, 'count') ?? 1;
      if (e.actor.id === 'anonymous') {
        const address = e.source?.ip ?? 'unknown';
        return [{ key: `address:${address}`, subject: { type: 'address', id: address }, weight }];
      }
      return [{ key: `actor:${e.actor.id}`, subject: { type: 'actor', id: e.actor.id }, weight }];
    }
    case 'OFF_HOURS':
      return usualTime(rule, e.recordedAt) || groups.length === 0 ? [] : byGroup();
  }
}

function metadataNumber(e: StoredEvent, field: string): number | undefined {
  if (e.metadata === undefined) return undefined;
  try {
    const v = (JSON.parse(e.metadata) as Record<string, unknown>)[field];
    return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
  } catch {
    return undefined;
  }
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const clocks = new Map<string, Intl.DateTimeFormat>();

/** Whether `at` falls within the rule's usual days and hours, in its time zone. */
export function usualTime(rule: Pick<AlertRule, 'hours' | 'days' | 'timezone'>, at: Date): boolean {
  let clock = clocks.get(rule.timezone);
  if (!clock) {
    clock = new Intl.DateTimeFormat('en-US', { timeZone: rule.timezone, weekday: 'short', hour: 'numeric', hourCycle: 'h23' });
    clocks.set(rule.timezone, clock);
  }
  const parts = clock.formatToParts(at);
  const day = WEEKDAYS[parts.find((p) => p.type === 'weekday')?.value ?? ''] ?? 0;
  const hour = Number(parts.find((p) => p.type === 'hour')?.value);
  return rule.days.includes(day) && hour >= rule.hours.start && hour < rule.hours.end;
}
