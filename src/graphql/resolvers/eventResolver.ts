import { GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { validateEventInput } from '../../event/eventInput';
import type { JsonObject } from '../../event/eventRecord';
import type { EventDoc } from '../../log/eventStore';
import type { AppendResult } from '../../log/sequencer';
import { authorize, badInput, checkpointView, type LedgerContext, mapErrors, toHex } from '../context';
import {
  type ActorTypeEnum,
  Event,
  EventConnection,
  EventFilter,
  EventInput,
  EventOrder,
  MAX_PAGE,
  type OutcomeEnum,
} from '../types/event';
import { Receipt } from '../types/log';

export const MAX_BATCH = 10_000;

@Resolver()
export class EventResolver {
  @Mutation(() => Receipt, { description: 'Records one event; answers once it is stored and covered by a signed checkpoint.' })
  async recordEvent(@Ctx() ctx: LedgerContext, @Arg('input', () => EventInput) input: EventInput): Promise<Receipt> {
    const [receipt] = await this.record(ctx, [input]);
    return receipt!;
  }

  @Mutation(() => [Receipt], { description: `Records up to ${MAX_BATCH} events in order, as one batch.` })
  async recordEvents(@Ctx() ctx: LedgerContext, @Arg('inputs', () => [EventInput]) inputs: EventInput[]): Promise<Receipt[]> {
    return this.record(ctx, inputs);
  }

  @Query(() => Event, { nullable: true, description: 'One event, by leaf index or id.' })
  event(
    @Ctx() ctx: LedgerContext,
    @Arg('leafIndex', () => GraphQLSafeInt, { nullable: true }) leafIndex?: number,
    @Arg('id', () => ID, { nullable: true }) id?: string,
  ): Promise<Event | null> {
    authorize(ctx, 'readEvents');
    return mapErrors(async () => {
      if ((leafIndex ?? undefined) === undefined && (id ?? undefined) === undefined) throw badInput('give leafIndex or id');
      const doc = leafIndex != null ? await ctx.ledger.eventByLeafIndex(leafIndex) : await ctx.ledger.eventById(id!);
      if (doc && id != null && doc.id !== id) return null;
      return doc ? eventView(doc) : null;
    });
  }

  @Query(() => EventConnection, { description: 'Events matching the filter, oldest first unless order is NEWEST_FIRST.' })
  events(
    @Ctx() ctx: LedgerContext,
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
    @Arg('order', () => EventOrder, { nullable: true, defaultValue: EventOrder.OLDEST_FIRST }) order?: EventOrder,
  ): Promise<EventConnection> {
    authorize(ctx, 'readEvents');
    return mapErrors(async () => {
      const limit = first ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw badInput(`first must be 1-${MAX_PAGE}`, 'first');
      const afterLeafIndex = after != null ? decodeCursor(after) : undefined;
      const docs = await ctx.ledger.queryEvents({
        ...(filter?.actorId != null && { actorId: filter.actorId }),
        ...(filter?.action != null && { action: filter.action }),
        ...(filter?.targetType != null && { targetType: filter.targetType }),
        ...(filter?.targetId != null && { targetId: filter.targetId }),
        ...(filter?.outcome != null && { outcome: filter.outcome }),
        ...(filter?.from != null && { from: filter.from }),
        ...(filter?.to != null && { to: filter.to }),
        ...(afterLeafIndex !== undefined && { afterLeafIndex }),
        newestFirst: order === EventOrder.NEWEST_FIRST,
        limit: limit + 1,
      });
      const page = docs.slice(0, limit);
      const edges = page.map((d) => ({ node: eventView(d), cursor: encodeCursor(d._id) }));
      return { edges, pageInfo: { hasNextPage: docs.length > limit, endCursor: edges.at(-1)?.cursor ?? null } };
    });
  }

  private async record(ctx: LedgerContext, inputs: EventInput[]): Promise<Receipt[]> {
    const principal = authorize(ctx, 'appendEvents')!;
    return mapErrors(async () => {
      if (inputs.length === 0) throw badInput('inputs must not be empty', 'inputs');
      if (inputs.length > MAX_BATCH) throw badInput(`at most ${MAX_BATCH} events per call`, 'inputs');
      // Validate the whole batch before writing anything: one bad event fails the call.
      const valid = inputs.map((input, i) => validateEventInput(input, inputs.length === 1 ? 'input' : `inputs[${i}]`));
      const results = await ctx.ledger.record(
        valid.map((v) => ({
          content: { ...v.content, groups: v.explicitGroups },
          credentialId: principal.keyId,
          ...(v.idempotencyKey !== undefined && { idempotencyKey: v.idempotencyKey }),
        })),
      );
      return results.map((r) => receiptView(ctx, r));
    });
  }
}

function receiptView(ctx: LedgerContext, r: AppendResult): Receipt {
  const leafHash = toHex(r.event.leafHash.buffer);
  return {
    eventId: r.event.id,
    leafIndex: r.event._id,
    leafHash,
    inclusionProof: {
      leafIndex: r.event._id,
      treeSize: r.checkpoint._id,
      leafHash,
      hashes: r.proof.map(toHex),
      checkpoint: checkpointView(ctx.ledger, r.checkpoint),
    },
  };
}

export function eventView(d: EventDoc): Event {
  return {
    id: d.id,
    leafIndex: d._id,
    leafHash: toHex(d.leafHash.buffer),
    leaf: d.leaf,
    action: d.action,
    actor: { id: d.actor.id, type: d.actor.type as ActorTypeEnum, ...(d.actor.name !== undefined && { name: d.actor.name }) },
    ...(d.target && { target: d.target }),
    outcome: d.outcome as OutcomeEnum,
    ...(d.reason !== undefined && { reason: d.reason }),
    ...(d.occurredAt && { occurredAt: d.occurredAt }),
    recordedAt: d.recordedAt,
    ...(d.source && { source: d.source }),
    ...(d.metadata !== undefined && { metadata: JSON.parse(d.metadata) as JsonObject }),
    groups: d.groups,
    salt: d.salt,
  };
}

function encodeCursor(leafIndex: number): string {
  return Buffer.from(`leaf:${leafIndex}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^leaf:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const n = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(n)) throw badInput('after is not a cursor from this API', 'after');
  return n;
}
