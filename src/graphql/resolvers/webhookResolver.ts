import { Arg, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { changeEvent, type SelfAction } from '../../ledger/selfEvent';
import type { Ledger } from '../../ledger/ledger';
import { type SubscriptionDoc, subscriptionMetadata, Subscriptions } from '../../stream/subscriptions';
import { actorOf, authorizeKey, guard, type LedgerContext } from '../context';
import { CreatedWebhook, Webhook, WebhookInput, type WebhookStateEnum } from '../types/webhook';

export function subscriptionsOf(ledger: Ledger): Subscriptions {
  return new Subscriptions({
    store: ledger.storage.streams,
    ...(ledger.keyring && { seal: ledger.keyring }),
    signedSize: async () => (await ledger.latestCheckpoint()).treeSize,
    record: (events) => ledger.recordSelf(events),
  });
}

@Resolver()
export class WebhookResolver {
  @Mutation(() => CreatedWebhook, { description: 'Subscribes a URL to the events matching a filter (ADMIN). Recorded as ledger.webhook.created.' })
  createWebhook(@Ctx() ctx: LedgerContext, @Arg('input', () => WebhookInput) input: WebhookInput): Promise<CreatedWebhook> {
    return guard(ctx, 'createWebhook', async () => {
      const admin = authorizeKey(ctx, 'manageWebhooks');
      const { doc, secret } = await subscriptionsOf(ctx.ledger).create(
        {
          url: input.url,
          filter: { ...(input.filter ?? {}) },
          ...(input.secret != null && { secret: input.secret }),
          ...(input.fromLeafIndex != null && { fromLeafIndex: input.fromLeafIndex }),
        },
        admin.keyId,
        (d) => changeEvent('ledger.webhook.created', actorOf(admin), { type: 'webhook', id: d.id }, subscriptionMetadata(d), ctx.source),
      );
      ctx.webhooks?.changed();
      return { webhook: webhookView(doc), secret };
    });
  }

  @Query(() => [Webhook], { description: 'Webhook subscriptions, deleted ones included, with their delivery state (ADMIN).' })
  webhooks(@Ctx() ctx: LedgerContext): Promise<Webhook[]> {
    return guard(ctx, 'webhooks', async () => {
      authorizeKey(ctx, 'manageWebhooks');
      return (await subscriptionsOf(ctx.ledger).list()).map(webhookView);
    });
  }

  @Mutation(() => Webhook, { description: 'Stops delivering until resumed (ADMIN).' })
  pauseWebhook(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<Webhook> {
    return this.change(ctx, 'pauseWebhook', id, 'pause', 'ledger.webhook.paused');
  }

  @Mutation(() => Webhook, { description: 'Delivers again from the cursor (ADMIN); also restarts a dead-lettered subscription.' })
  resumeWebhook(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<Webhook> {
    return this.change(ctx, 'resumeWebhook', id, 'resume', 'ledger.webhook.resumed');
  }

  @Mutation(() => Webhook, { description: 'Stops delivering for good (ADMIN); the subscription stays listed as DELETED.' })
  deleteWebhook(@Ctx() ctx: LedgerContext, @Arg('id', () => ID) id: string): Promise<Webhook> {
    return this.change(ctx, 'deleteWebhook', id, 'delete', 'ledger.webhook.deleted');
  }

  private change(ctx: LedgerContext, operation: string, id: string, change: 'pause' | 'resume' | 'delete', action: SelfAction): Promise<Webhook> {
    return guard(ctx, operation, async () => {
      const admin = authorizeKey(ctx, 'manageWebhooks');
      const doc = await subscriptionsOf(ctx.ledger).change(id, change, (d) =>
        changeEvent(action, actorOf(admin), { type: 'webhook', id: d.id }, subscriptionMetadata(d), ctx.source),
      );
      ctx.webhooks?.changed();
      return webhookView(doc);
    });
  }
}

const dateOrNull = (iso: string | undefined): Date | null => (iso === undefined ? null : new Date(iso));

export function webhookView(d: SubscriptionDoc): Webhook {
  return {
    id: d.id,
    url: d.url,
    filter: d.filter,
    state: d.state as WebhookStateEnum,
    cursor: d.cursor,
    deliveredEvents: d.deliveredEvents,
    attempts: d.attempts,
    lastError: d.lastError ?? null,
    lastErrorAt: dateOrNull(d.lastErrorAt),
    nextAttemptAt: dateOrNull(d.nextAttemptAt),
    deadLetteredAt: dateOrNull(d.deadLetteredAt),
    lastDeliveredAt: dateOrNull(d.lastDeliveredAt),
    createdAt: new Date(d.createdAt),
    createdBy: d.createdBy,
  };
}
