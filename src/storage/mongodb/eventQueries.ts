/**
 * The event queries as MongoDB filters: a page is one `find` whose filter and sort an index of
 * EVENTS_COLLECTION serves as a single range read ending in `_id` (the leaf index); a count
 * is one aggregation whose `$match` the same indexes serve. Kept apart from the repository so
 * that the explain test (test/storage/mongodbExplain.test.ts) plans exactly these queries.
 */
import type { Document, Filter, Sort } from 'mongodb';
import type { EventCountKey, EventPageQuery, EventQuery } from '../port';
import type { EventDoc } from './documents';

export interface EventFind {
  readonly filter: Filter<EventDoc>;
  readonly sort: Sort;
  readonly limit: number;
}

/** The `find` for a page; undefined when the query can match nothing (so no query is sent). */
export function pageFind(query: EventPageQuery): EventFind | undefined {
  if (query.limit <= 0 || query.treeSize <= 0) return undefined;
  const filter = eventMatch(query);
  if (!filter) return undefined;
  const after = query.afterLeafIndex;
  // `limit(0)` would mean "no limit" to MongoDB: the guard above keeps a limit of 0 at nothing.
  if (query.newestFirst) {
    const below = after === undefined ? query.treeSize : Math.min(after, query.treeSize);
    if (below <= 0) return undefined;
    filter._id = { $lt: below };
  } else {
    filter._id = after === undefined ? { $lt: query.treeSize } : { $gt: after, $lt: query.treeSize };
  }
  return { filter, sort: { _id: query.newestFirst ? -1 : 1 }, limit: query.limit };
}

/** The pipeline counting per `key`; undefined when the query can match nothing. */
export function countPipeline(key: EventCountKey, query: EventQuery, treeSize: number): Document[] | undefined {
  if (treeSize <= 0) return undefined;
  const match = eventMatch(query);
  if (!match) return undefined;
  match._id = { $lt: treeSize };
  // $match, $unwind, $group and $sort are all FerretDB v1 stages.
  const pipeline: Document[] = [{ $match: match }];
  if (key === 'groups') {
    pipeline.push({ $unwind: '$groups' });
    if (query.groupIds !== undefined) pipeline.push({ $match: { groups: { $in: [...query.groupIds] } } });
  }
  pipeline.push({ $group: { _id: `$${key}`, count: { $sum: 1 } } }, { $sort: { count: -1, _id: 1 } });
  return pipeline;
}

/** The filter of the query's conditions (without the leaf-index bounds); undefined: matches nothing. */
export function eventMatch(query: EventQuery): Filter<EventDoc> | undefined {
  const filter: Filter<EventDoc> = {};
  if (query.actorId !== undefined) filter['actor.id'] = query.actorId;
  if (query.action !== undefined) {
    if (query.actionPrefix !== undefined && !query.action.startsWith(query.actionPrefix)) return undefined;
    filter.action = query.action;
  } else if (query.actionPrefix !== undefined && query.actionPrefix !== '') {
    // Anchored and without flags, so MongoDB turns it into an index range on `action`.
    filter.action = { $regex: `^${escapeRegex(query.actionPrefix)}` };
  }
  if (query.targetType !== undefined) filter['target.type'] = query.targetType;
  if (query.targetId !== undefined) filter['target.id'] = query.targetId;
  if (query.outcome !== undefined) filter.outcome = query.outcome;
  if (query.from !== undefined || query.to !== undefined) {
    filter.recordedAt = { ...(query.from !== undefined && { $gte: query.from }), ...(query.to !== undefined && { $lt: query.to }) };
  }
  if (query.groupIds !== undefined) {
    // An empty group list means "none of the groups": a reader scoped to no group sees nothing.
    if (query.groupIds.length === 0) return undefined;
    filter.groups = { $in: [...query.groupIds] };
  }
  return filter;
}

/** The text as a regular expression matching itself literally. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
