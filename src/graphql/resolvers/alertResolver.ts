import { Arg, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { changeEvent } from '../../ledger/selfEvent';
import type { AlertKind } from '../../stream/alertRules';
import { AlertRules, ruleMetadata, type StoredRule } from '../../stream/alerts';
import { actorOf, authorizeKey, guard, type LedgerContext } from '../context';
import { type AlertKindEnum, AlertRuleInput, AlertRuleView } from '../types/alert';

@Resolver()
export class AlertResolver {
  @Mutation(() => AlertRuleView, { description: 'Creates or replaces an anomaly alert rule (AUDITOR). Recorded as ledger.alertrule.set.' })
  setAlertRule(@Ctx() ctx: LedgerContext, @Arg('input', () => AlertRuleInput) input: AlertRuleInput): Promise<AlertRuleView> {
    return guard(ctx, 'setAlertRule', async () => {
      const auditor = authorizeKey(ctx, 'manageAlerts');
      const rules = new AlertRules(ctx.ledger.storage.streams, (events) => ctx.ledger.recordSelf(events));
      const hours = input.hoursStart != null || input.hoursEnd != null ? { start: input.hoursStart ?? 0, end: input.hoursEnd ?? 24 } : undefined;
      const stored = await rules.set(
        {
          name: input.name,
          kind: input.kind as AlertKind,
          ...(input.enabled != null && { enabled: input.enabled }),
          ...(input.threshold != null && { threshold: input.threshold }),
          ...(input.windowSeconds != null && { windowSeconds: input.windowSeconds }),
          ...(input.cooldownSeconds != null && { cooldownSeconds: input.cooldownSeconds }),
          ...(input.maxPerHour != null && { maxPerHour: input.maxPerHour }),
          ...(input.actions != null && { actions: input.actions }),
          ...(input.groupIds != null && { groupIds: input.groupIds }),
          ...(hours && { hours }),
          ...(input.days != null && { days: input.days }),
          ...(input.timezone != null && { timezone: input.timezone }),
        },
        auditor.keyId,
        (rule) => changeEvent('ledger.alertrule.set', actorOf(auditor), { type: 'alertrule', id: rule.name }, ruleMetadata(rule), ctx.source),
      );
      ctx.alerts?.changed();
      return ruleView(stored);
    });
  }

  @Query(() => [AlertRuleView], { description: 'The anomaly alert rules, disabled ones included (AUDITOR or ADMIN).' })
  alertRules(@Ctx() ctx: LedgerContext): Promise<AlertRuleView[]> {
    return guard(ctx, 'alertRules', async () => {
      authorizeKey(ctx, 'readAlerts');
      return (await new AlertRules(ctx.ledger.storage.streams, async () => undefined).list()).map(ruleView);
    });
  }
}

function ruleView(s: StoredRule): AlertRuleView {
  const r = s.rule;
  return {
    name: r.name,
    action: `ledger.alert.${r.name}`,
    kind: r.kind as AlertKindEnum,
    enabled: r.enabled,
    threshold: r.threshold,
    windowSeconds: r.windowSeconds,
    cooldownSeconds: r.cooldownSeconds,
    maxPerHour: r.maxPerHour,
    actions: [...r.actions],
    groupIds: [...r.groupIds],
    hoursStart: r.hours.start,
    hoursEnd: r.hours.end,
    days: [...r.days],
    timezone: r.timezone,
    updatedAt: new Date(s.updatedAt),
    updatedBy: s.updatedBy,
  };
}
