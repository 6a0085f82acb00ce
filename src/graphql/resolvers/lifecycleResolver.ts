import { GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { type HoldScope, lifecycleOf } from '../../ledger/lifecycle';
import { selfActor } from '../../ledger/selfEvent';
import type { HoldDoc, RetentionDoc } from '../../lifecycle/records';
import { actorOf, authorizeKey, guard, type LedgerContext } from '../context';
import { HoldScopeInput, LegalHold, RetentionPolicy, RetentionPolicyInput, RetentionRun, ShredResult } from '../types/lifecycle';

@Resolver()
export class LifecycleResolver {
  @Mutation(() => ShredResult, { description: "Destroys one event's content (ADMIN): its skeleton, leaf hash and every proof stay. LEGAL_HOLD if a hold covers it." })
  redactEvent(@Ctx() ctx: LedgerContext, @Arg('leafIndex', () => GraphQLSafeInt) leafIndex: number, @Arg('reason', () => String) reason: string): Promise<ShredResult> {
    return guard(ctx, 'redactEvent', async () => {
      const admin = authorizeKey(ctx, 'redactEvents');
      return shredView(await lifecycleOf(ctx.ledger).redactEvent(leafIndex, reason, selfActor(actorOf(admin))));
    });
  }

  @Mutation(() => ShredResult, { description: 'An erasure request (ADMIN): destroys the content of every event of the actor that no legal hold covers.' })
  eraseActor(@Ctx() ctx: LedgerContext, @Arg('actorId', () => String) actorId: string, @Arg('reason', () => String) reason: string): Promise<ShredResult> {
    return guard(ctx, 'eraseActor', async () => {
      const admin = authorizeKey(ctx, 'redactEvents');
      return shredView(await lifecycleOf(ctx.ledger).eraseActor(actorId, reason, selfActor(actorOf(admin))));
    });
  }

  @Mutation(() => LegalHold, { description: 'Places a legal hold (AUDITOR): covered events are never shredded until it is released.' })
  placeLegalHold(@Ctx() ctx: LedgerContext, @Arg('scope', () => HoldScopeInput) scope: HoldScopeInput, @Arg('reason', () => String) reason: string): Promise<LegalHold> {
    return guard(ctx, 'placeLegalHold', async () => {
      const auditor = authorizeKey(ctx, 'manageHolds');
      const s: HoldScope = {
        ...(scope.groupIds != null && { groupIds: scope.groupIds }),
        ...(scope.actorIds != null && { actorIds: scope.actorIds }),
        ...(scope.from != null && { from: scope.from }),
        ...(scope.to != null && { to: scope.to }),
      };
      return holdView(await lifecycleOf(ctx.ledger).placeHold(s, reason, selfActor(actorOf(auditor))));
    });
  }

  @Mutation(() => LegalHold, { description: 'Releases a legal hold (AUDITOR).' })
  releaseLegalHold(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string, @Arg('reason', () => String) reason: string): Promise<LegalHold> {
    return guard(ctx, 'releaseLegalHold', async () => {
      const auditor = authorizeKey(ctx, 'manageHolds');
      return holdView(await lifecycleOf(ctx.ledger).releaseHold(id, reason, selfActor(actorOf(auditor))));
    });
  }

  @Query(() => [LegalHold], { description: 'Legal holds, placed and released (AUDITOR or ADMIN).' })
  legalHolds(@Ctx() ctx: LedgerContext): Promise<LegalHold[]> {
    return guard(ctx, 'legalHolds', async () => {
      authorizeKey(ctx, 'readDirectory');
      return (await lifecycleOf(ctx.ledger).holdList()).map(holdView);
    });
  }

  @Query(() => [RetentionPolicy], { description: 'Retention policies (ADMIN).' })
  retentionPolicies(@Ctx() ctx: LedgerContext): Promise<RetentionPolicy[]> {
    return guard(ctx, 'retentionPolicies', async () => {
      authorizeKey(ctx, 'manageRetention');
      return (await lifecycleOf(ctx.ledger).retentionPolicies()).map(policyView);
    });
  }

  @Mutation(() => RetentionPolicy, { description: 'Creates or replaces a retention policy (ADMIN).' })
  setRetentionPolicy(@Ctx() ctx: LedgerContext, @Arg('input', () => RetentionPolicyInput) input: RetentionPolicyInput): Promise<RetentionPolicy> {
    return guard(ctx, 'setRetentionPolicy', async () => {
      const admin = authorizeKey(ctx, 'manageRetention');
      const doc = await lifecycleOf(ctx.ledger).setRetentionPolicy(
        { ...(input.id != null && { id: input.id }), groupIds: input.groupIds ?? [], actionPrefix: input.actionPrefix ?? '', keepDays: input.keepDays },
        selfActor(actorOf(admin)),
      );
      return policyView(doc);
    });
  }

  @Mutation(() => RetentionRun, { description: 'Runs the retention job now (ADMIN); the server also runs it every LEDGER_RETENTION_INTERVAL.' })
  applyRetention(@Ctx() ctx: LedgerContext): Promise<RetentionRun> {
    return guard(ctx, 'applyRetention', async () => {
      authorizeKey(ctx, 'manageRetention');
      return lifecycleOf(ctx.ledger).applyRetention();
    });
  }
}

function shredView(r: { recordedAt: number | undefined; redacted: readonly number[]; held: readonly number[] }): ShredResult {
  return { recordedAt: r.recordedAt ?? null, redacted: [...r.redacted], held: [...r.held] };
}

function holdView(h: HoldDoc): LegalHold {
  return {
    id: h.id,
    reason: h.reason,
    groupIds: [...(h.groupIds ?? [])],
    actorCount: h.actors?.length ?? 0,
    from: h.from ? new Date(h.from) : null,
    to: h.to ? new Date(h.to) : null,
    placedBy: h.placedBy,
    releasedBy: h.releasedBy ?? null,
  };
}

function policyView(p: RetentionDoc): RetentionPolicy {
  return { id: p.id, groupIds: [...p.groupIds], actionPrefix: p.actionPrefix, keepDays: p.keepDays };
}
