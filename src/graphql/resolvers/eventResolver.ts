import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { explicitGroupsDecision, mayReadEvent, type Principal, readScope } from '../../auth/role';
import { validateEventInput } from '../../event/eventInput';
import type { JsonObject } from '../../event/eventRecord';
import { readEvent } from '../../ledger/selfEvent';
import type { RecordedEvent } from '../../ledger/ledger';
import type { EventCountKey, StoredEvent } from '../../storage/port';
import { actorOf, authorizeKey, badInput, checkpointView, enforce, guard, type LedgerContext } from '../context';
import { filterMetadata, scopedQuery } from '../eventScope';
import { witnessedReceipts } from '../../witness/witnessedReceipts';
import {
  type ActorTypeEnum,
  Event,
  EventConnection,
  EventCount,
  EventCountBucket,
  EventCountGroupBy,
  EventFilter,
  EventInput,
  EventOrder,
  MAX_PAGE,
  MAX_TIME_BUCKETS,
  type OutcomeEnum,
} from '../types/event';
import { Receipt } from '../types/log';
import { bytesToHex } from '../../verify';

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
    return guard(ctx, 'event', async () => {
      const principal = authorizeKey(ctx, 'readEvents');
      if ((leafIndex ?? undefined) === undefined && (id ?? undefined) === undefined) throw badInput('give leafIndex or id');
      let doc = leafIndex != null ? await ctx.ledger.eventByLeafIndex(leafIndex) : await ctx.ledger.eventById(id!);
      if (doc && id != null && doc.id !== id) doc = undefined;
      // Out of scope reads as absent, so a reader cannot probe which events exist elsewhere.
      if (doc && !mayReadEvent(readScope(principal), doc.groups)) doc = undefined;
      await recordRead(ctx, principal, 'event', { ...(leafIndex != null && { leafIndex }), ...(id != null && { id }) }, doc ? 1 : 0);
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
    return guard(ctx, 'events', async () => {
      const principal = authorizeKey(ctx, 'readEvents');
      const limit = first ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw badInput(`first must be 1-${MAX_PAGE}`, 'first');
      const afterLeafIndex = after != null ? decodeCursor(after) : undefined;
      const page = await ctx.ledger.queryEvents({
        ...scopedQuery(principal, filter),
        ...(afterLeafIndex !== undefined && { afterLeafIndex }),
        newestFirst: order === EventOrder.NEWEST_FIRST,
        limit,
      });
      await recordRead(ctx, principal, 'events', filterMetadata(filter), page.events.length);
      const edges = page.events.map((d) => ({ node: eventView(d), cursor: encodeCursor(d.leafIndex) }));
      return { edges, pageInfo: { hasNextPage: page.hasMore, endCursor: edges.at(-1)?.cursor ?? null } };
    });
  }

  @Query(() => [EventCount], { description: 'Event counts by group, action, actor or outcome, most frequent first.' })
  eventCounts(
    @Ctx() ctx: LedgerContext,
    @Arg('groupBy', () => EventCountGroupBy) groupBy: EventCountGroupBy,
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter,
  ): Promise<EventCount[]> {
    return guard(ctx, 'eventCounts', async () => {
      const principal = authorizeKey(ctx, 'readEvents');
      const counts = await ctx.ledger.countEvents(COUNT_KEYS[groupBy], scopedQuery(principal, filter));
      await recordRead(ctx, principal, 'eventCounts', { groupBy, ...filterMetadata(filter) }, counts.reduce((n, c) => n + c.count, 0));
      return counts;
    });
  }

  @Query(() => [EventCountBucket], {
    description:
      `Event counts by group, action, actor or outcome in consecutive periods: boundaries t0 < t1 < … < tn give the buckets [t0, t1), …, [tn-1, tn), at most ${MAX_TIME_BUCKETS}. ` +
      'All buckets count the same signed tree, and the whole series is one recorded read. The filter may not hold from or to: the boundaries are the time range.',
  })
  eventCountsOverTime(
    @Ctx() ctx: LedgerContext,
    @Arg('groupBy', () => EventCountGroupBy) groupBy: EventCountGroupBy,
    @Arg('boundaries', () => [GraphQLDateTimeISO]) boundaries: Date[],
    @Arg('filter', () => EventFilter, { nullable: true }) filter?: EventFilter,
  ): Promise<EventCountBucket[]> {
    return guard(ctx, 'eventCountsOverTime', async () => {
      const principal = authorizeKey(ctx, 'readEvents');
      if (boundaries.length < 2 || boundaries.length > MAX_TIME_BUCKETS + 1) throw badInput(`boundaries must hold 2-${MAX_TIME_BUCKETS + 1} times (1-${MAX_TIME_BUCKETS} buckets)`, 'boundaries');
      for (let i = 1; i < boundaries.length; i++) {
        if (boundaries[i]!.getTime() <= boundaries[i - 1]!.getTime()) throw badInput(`boundaries must increase strictly: boundaries[${i}] is not after boundaries[${i - 1}]`, 'boundaries');
      }
      if (filter?.from != null || filter?.to != null) throw badInput('filter.from and filter.to cannot be combined with boundaries, which give the time range', 'filter');
      const scoped = scopedQuery(principal, filter);
      const periods = boundaries.slice(1).map((to, i) => ({ from: boundaries[i]!, to }));
      const counts = await ctx.ledger.countEventsOverTime(COUNT_KEYS[groupBy], scoped, periods);
      const total = counts.reduce((n, bucket) => bucket.reduce((m, c) => m + c.count, n), 0);
      const metadata = { groupBy, ...filterMetadata(filter), from: boundaries[0]!.toISOString(), to: boundaries.at(-1)!.toISOString(), buckets: periods.length };
      await recordRead(ctx, principal, 'eventCountsOverTime', metadata, total);
      return periods.map((period, i) => ({ ...period, counts: counts[i]! }));
    });
  }

  private record(ctx: LedgerContext, inputs: EventInput[]): Promise<Receipt[]> {
    return guard(ctx, inputs.length === 1 ? 'recordEvent' : 'recordEvents', async () => {
      const principal = authorizeKey(ctx, 'appendEvents');
      if (inputs.length === 0) throw badInput('inputs must not be empty', 'inputs');
      if (inputs.length > MAX_BATCH) throw badInput(`at most ${MAX_BATCH} events per call`, 'inputs');
      // Validate the whole batch before writing anything: one bad event fails the call.
      const valid = inputs.map((input, i) => validateEventInput(input, inputs.length === 1 ? 'input' : `inputs[${i}]`));
      for (const v of valid) enforce(explicitGroupsDecision(principal, v.explicitGroups));
      const results = await ctx.ledger.record(
        valid.map((v) => ({
          content: { ...v.content, explicitGroups: v.explicitGroups },
          ...(v.idempotencyKey !== undefined && { idempotencyKey: v.idempotencyKey }),
        })),
        { keyId: principal.keyId, userId: principal.userId, groupIds: principal.groupIds },
      );
      const receipts = ctx.witnessing?.receiptsWait ? await witnessedReceipts(ctx.ledger, ctx.witnessing, results) : results;
      return receipts.map((r) => receiptView(ctx, r));
    });
  }
}

const COUNT_KEYS: Record<EventCountGroupBy, EventCountKey> = {
  [EventCountGroupBy.GROUP]: 'groups',
  [EventCountGroupBy.ACTION]: 'action',
  [EventCountGroupBy.ACTOR]: 'actor.id',
  [EventCountGroupBy.OUTCOME]: 'outcome',
};

/** Reads by READER and AUDITOR keys are themselves audit events. */
async function recordRead(ctx: LedgerContext, principal: Principal, operation: string, metadata: JsonObject, results: number): Promise<void> {
  if (!ctx.recordReads) return;
  if (!principal.roles.includes('READER') && !principal.roles.includes('AUDITOR')) return;
  await ctx.ledger.recordSelf([readEvent(actorOf(principal), operation, metadata, results, ctx.source)]);
}

/**
 * The receipts of one batch hold the same proof nodes (the same Uint8Array objects, see
 * inclusionProofs): each node's hex is computed once, not once per receipt.
 */
const proofHex = new WeakMap<Uint8Array, string>();
function nodeHex(node: Uint8Array): string {
  let text = proofHex.get(node);
  if (text === undefined) {
    text = bytesToHex(node);
    proofHex.set(node, text);
  }
  return text;
}

function receiptView(ctx: LedgerContext, r: RecordedEvent): Receipt {
  const leafHash = bytesToHex(r.leafHash);
  return {
    eventId: r.eventId,
    leafIndex: r.leafIndex,
    leafHash,
    leaf: r.leaf,
    // Built when asked for: a service that keeps only the leaf index pays nothing for it.
    get inclusionProof() {
      return {
        leafIndex: r.leafIndex,
        treeSize: r.checkpoint.treeSize,
        leafHash,
        hashes: r.proof.map(nodeHex),
        checkpoint: checkpointView(ctx.ledger, r.checkpoint),
      };
    },
  };
}

export function eventView(d: StoredEvent): Event {
  if (d.redaction) {
    return {
      id: d.id,
      leafIndex: d.leafIndex,
      leafHash: bytesToHex(d.leafHash),
      leaf: null,
      redacted: true,
      redaction: { leafIndex: d.redaction.leafIndex ?? null, reason: d.redaction.reason },
      action: d.action,
      actor: { id: '[redacted]', type: d.actor.type as ActorTypeEnum },
      outcome: d.outcome as OutcomeEnum,
      recordedAt: d.recordedAt,
      groups: [...d.groups],
      salt: null,
    };
  }
  return {
    redacted: false,
    id: d.id,
    leafIndex: d.leafIndex,
    leafHash: bytesToHex(d.leafHash),
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
    groups: [...d.groups],
    salt: d.salt,
    ...(d.submitter && { submitter: { keyId: d.submitter.keyId, userId: d.submitter.userId } }),
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
