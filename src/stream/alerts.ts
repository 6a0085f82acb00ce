/**
 * Alert rules as stored (the port's stream store, kind `alertRule`, id = the rule's name) and
 * the evaluator's runner: one per database (the `alerts` lease), reading the whole signed log
 * in leaf order from a persisted cursor, feeding each event to the pure AlertEvaluator, and
 * recording each firing as `ledger.alert.<rule>` under an idempotency key made of the rule,
 * the leaf that tipped it and its subject. The cursor and the evaluator's state are saved
 * after the firings of a page are recorded: a crash in between replays the page from the
 * saved state, which sets off the same firings, which the idempotency keys turn into the
 * first recordings. Alerts are thus recorded exactly once, and in log order.
 */
import { createHash } from 'node:crypto';
import type { JsonObject } from '../event/eventRecord';
import { LedgerError } from '../errors';
import type { Logger } from '../logger';
import { type SelfEvent, systemEvent } from '../ledger/selfEvent';
import type { StreamStore } from '../storage/port';
import { AlertEvaluator, type AlertFiring, type AlertRule, type AlertRuleInput, emptyState, type EvaluatorState, makeRule } from './alertRules';
import { type LogSource, scanPage } from './logReader';
import type { LogWatcher } from './logWatcher';
import { LeasedRounds, type NextRound } from './leasedRounds';
import { StreamLease } from './streamLease';

export interface StoredRule {
  readonly rule: AlertRule;
  readonly updatedAt: string;
  /** The API key that set it. */
  readonly updatedBy: string;
}

const LIST_PAGE = 500;

export class AlertRules {
  constructor(
    private readonly store: StreamStore,
    private readonly record: (events: readonly SelfEvent[]) => Promise<void>,
  ) {}

  async list(): Promise<StoredRule[]> {
    const out: StoredRule[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.store.list('alertRule', { ...(after !== undefined && { after }), limit: LIST_PAGE });
      out.push(...page.map((r) => JSON.parse(r.value) as StoredRule));
      if (page.length < LIST_PAGE) return out;
      after = page.at(-1)!.id;
    }
  }

  /** Creates or replaces a rule: checked, recorded (`event`), then stored. */
  async set(input: AlertRuleInput, updatedBy: string, event: (rule: AlertRule) => SelfEvent): Promise<StoredRule> {
    const rule = makeRule(input);
    const stored: StoredRule = { rule, updatedAt: new Date().toISOString(), updatedBy };
    await this.record([event(rule)]);
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.store.get('alertRule', rule.name);
      const written = current
        ? await this.store.update('alertRule', rule.name, current.version, JSON.stringify(stored))
        : await this.store.insert('alertRule', rule.name, JSON.stringify(stored));
      if (written) return stored;
    }
    throw new LedgerError('UNAVAILABLE', `alert rule ${rule.name} is being changed too often to update`);
  }
}

/** What is recorded about a rule change. */
export function ruleMetadata(rule: AlertRule): JsonObject {
  return JSON.parse(JSON.stringify(rule)) as JsonObject;
}

/** The event a firing becomes. */
export function alertEvent(firing: AlertFiring): SelfEvent {
  return systemEvent(`ledger.alert.${firing.rule}`, { type: firing.subject.type, id: firing.subject.id }, firing.evidence);
}

/** The firing's idempotency key: the same firing, replayed, is the same key. */
export function alertKey(firing: AlertFiring): string {
  const subject = createHash('sha256').update(`${firing.subject.type}:${firing.subject.id}`).digest('hex').slice(0, 16);
  return `alert:${firing.rule}:${firing.leafIndex}:${subject}`;
}

interface CursorDoc {
  /** Every leaf below this has been evaluated. */
  readonly cursor: number;
  readonly state: EvaluatorState;
  /** The rules the state was built with (by name): a changed rule starts afresh. */
  readonly rules: Record<string, string>;
}

export interface AlertRunnerDeps {
  readonly store: StreamStore;
  readonly source: LogSource;
  readonly watcher: LogWatcher;
  /** Records firings, each under its key. */
  readonly record: (firings: readonly { readonly event: SelfEvent; readonly key: string }[]) => Promise<void>;
  readonly logger: Logger;
  readonly owner: string;
  readonly pageSize?: number;
  readonly leaseTtlMs?: number;
}

const PAGES_PER_ROUND = 20;

export class AlertRunner {
  private readonly rounds: LeasedRounds;

  constructor(private readonly deps: AlertRunnerDeps) {
    this.rounds = new LeasedRounds({
      lease: new StreamLease(deps.store, 'alerts', deps.owner, deps.leaseTtlMs ?? 10_000),
      watcher: deps.watcher,
      round: () => this.round(),
      failed: (err) => {
        deps.logger.warn({ err }, 'alert evaluation round failed; retrying');
        return {};
      },
    });
  }

  start(): void {
    this.rounds.start();
  }

  /** A rule changed: evaluate with it now. */
  kick(): void {
    this.rounds.kick();
  }

  stop(): Promise<void> {
    return this.rounds.stop();
  }

  /** No `caughtUpTo`: nothing to wait for in the log (no rule enabled). */
  private async round(): Promise<NextRound> {
    const { store, source } = this.deps;
    const rules = (await new AlertRules(store, async () => undefined).list()).map((s) => s.rule).filter((r) => r.enabled);
    const size = await source.signedSize();
    this.deps.watcher.observe(size);
    let record = await store.get('cursor', 'alerts');
    if (!record) {
      // A new ledger's evaluator starts at the present: rules are about what happens from now on.
      await store.insert('cursor', 'alerts', JSON.stringify({ cursor: size, state: emptyState(), rules: {} } satisfies CursorDoc));
      record = (await store.get('cursor', 'alerts'))!;
    }
    let version = record.version;
    const saved = JSON.parse(record.value) as CursorDoc;
    const signatures = Object.fromEntries(rules.map((r) => [r.name, JSON.stringify(r)]));
    const state = keepUnchanged(saved.state, saved.rules, signatures);
    let cursor = saved.cursor;
    if (rules.length === 0) {
      // Nothing to evaluate: stay at the present without reading the log.
      // Nor is it woken by the log's growth (which would keep the watcher reading the head): a
      // rule change wakes it, else the lease renewal.
      if (size > cursor) await this.save(version, { cursor: size, state: emptyState(), rules: {} });
      return {};
    }
    const evaluator = new AlertEvaluator(rules, state);
    for (let n = 0; n < PAGES_PER_ROUND && cursor < size && !this.rounds.stopped; n++) {
      const page = await scanPage(source, {}, cursor, this.deps.pageSize ?? 500, size);
      const firings = page.events.flatMap((e) => evaluator.observe(e));
      if (firings.length > 0) await this.deps.record(firings.map((f) => ({ event: alertEvent(f), key: alertKey(f) })));
      cursor = page.scannedTo;
      const next = await this.save(version, { cursor, state: evaluator.snapshot(), rules: signatures });
      if (next === undefined) throw new LedgerError('UNAVAILABLE', 'the alert cursor was moved by another evaluator; re-reading it');
      version = next;
    }
    return { caughtUpTo: cursor, again: cursor < size };
  }

  private async save(version: number, doc: CursorDoc): Promise<number | undefined> {
    return (await this.deps.store.update('cursor', 'alerts', version, JSON.stringify(doc))) ? version + 1 : undefined;
  }
}

/** The saved state of the rules that are unchanged; a new or changed rule starts empty. */
function keepUnchanged(state: EvaluatorState, before: Record<string, string>, now: Record<string, string>): EvaluatorState {
  const keep = (name: string): boolean => before[name] !== undefined && before[name] === now[name];
  const pick = <T>(m: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(m).filter(([name]) => keep(name)));
  return { windows: pick(state.windows), quietUntil: pick(state.quietUntil), fired: pick(state.fired) };
}
