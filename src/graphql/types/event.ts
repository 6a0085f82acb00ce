import { GraphQLDateTimeISO, GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Redaction } from './lifecycle';

export enum ActorTypeEnum {
  USER = 'USER',
  SERVICE = 'SERVICE',
  SYSTEM = 'SYSTEM',
}
registerEnumType(ActorTypeEnum, { name: 'ActorType' });

export enum OutcomeEnum {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  DENIED = 'DENIED',
}
registerEnumType(OutcomeEnum, { name: 'Outcome' });

export enum EventOrder {
  OLDEST_FIRST = 'OLDEST_FIRST',
  NEWEST_FIRST = 'NEWEST_FIRST',
}
registerEnumType(EventOrder, { name: 'EventOrder' });

@InputType()
export class ActorInput {
  @Field(() => String)
  id!: string;

  @Field(() => ActorTypeEnum)
  type!: ActorTypeEnum;

  @Field(() => String, { nullable: true })
  name?: string;
}

@InputType()
export class TargetInput {
  @Field(() => String)
  type!: string;

  @Field(() => String)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string;
}

@InputType()
export class SourceInput {
  @Field(() => String, { nullable: true })
  ip?: string;

  @Field(() => String, { nullable: true })
  userAgent?: string;

  @Field(() => String, { nullable: true })
  requestId?: string;
}

@InputType({ description: 'An audit event to record.' })
export class EventInput {
  @Field(() => String, { description: 'Dotted verb, e.g. user.role.grant.' })
  action!: string;

  @Field(() => ActorInput)
  actor!: ActorInput;

  @Field(() => TargetInput, { nullable: true })
  target?: TargetInput;

  @Field(() => OutcomeEnum, { nullable: true, defaultValue: OutcomeEnum.SUCCESS })
  outcome?: OutcomeEnum;

  @Field(() => String, { nullable: true })
  reason?: string;

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'Client time of the event.' })
  occurredAt?: Date;

  @Field(() => SourceInput, { nullable: true })
  source?: SourceInput;

  @Field(() => GraphQLJSONObject, { nullable: true, description: 'A JSON object, at most 16 KiB as canonical JSON.' })
  metadata?: Record<string, unknown>;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the original receipt.' })
  idempotencyKey?: string;

  @Field(() => [ID], { nullable: true, description: "Groups to add to the actor's; only within the key's groupIds." })
  groups?: string[];
}

@ObjectType()
export class Actor {
  @Field(() => String)
  id!: string;

  @Field(() => ActorTypeEnum)
  type!: ActorTypeEnum;

  @Field(() => String, { nullable: true })
  name?: string;
}

@ObjectType()
export class Target {
  @Field(() => String)
  type!: string;

  @Field(() => String)
  id!: string;

  @Field(() => String, { nullable: true })
  name?: string;
}

@ObjectType()
export class Source {
  @Field(() => String, { nullable: true })
  ip?: string;

  @Field(() => String, { nullable: true })
  userAgent?: string;

  @Field(() => String, { nullable: true })
  requestId?: string;
}

@ObjectType({ description: 'Provenance: which API key, of which directory user, submitted an event. Part of the leaf.' })
export class Submitter {
  @Field(() => ID)
  keyId!: string;

  @Field(() => ID)
  userId!: string;
}

@ObjectType({ description: 'A recorded audit event and its place in the log.' })
export class Event {
  @Field(() => ID)
  id!: string;

  @Field(() => GraphQLSafeInt)
  leafIndex!: number;

  @Field(() => String, { description: 'RFC 6962 leaf hash of `leaf`, lowercase hex.' })
  leafHash!: string;

  @Field(() => String, { nullable: true, description: 'The exact RFC 8785 canonical JSON that was hashed (null once the event is redacted).' })
  leaf!: string | null;

  @Field(() => Boolean, { description: "Whether the event's content was destroyed (crypto-shredded): only its skeleton and leaf hash remain." })
  redacted!: boolean;

  @Field(() => Redaction, { nullable: true })
  redaction?: Redaction;

  @Field(() => String)
  action!: string;

  @Field(() => Actor)
  actor!: Actor;

  @Field(() => Target, { nullable: true })
  target?: Target;

  @Field(() => OutcomeEnum)
  outcome!: OutcomeEnum;

  @Field(() => String, { nullable: true })
  reason?: string;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  occurredAt?: Date;

  @Field(() => GraphQLDateTimeISO)
  recordedAt!: Date;

  @Field(() => Source, { nullable: true })
  source?: Source;

  @Field(() => GraphQLJSONObject, { nullable: true })
  metadata?: Record<string, unknown>;

  @Field(() => [String], { description: "The actor's group ids when the event was recorded." })
  groups!: string[];

  @Field(() => String, { nullable: true, description: '128 random bits, lowercase hex (null once redacted).' })
  salt!: string | null;

  @Field(() => Submitter, { nullable: true, description: 'The API key and user that submitted the event (absent on the ledger\'s own events).' })
  submitter?: Submitter;
}

@InputType()
export class EventFilter {
  @Field(() => String, { nullable: true })
  actorId?: string;

  @Field(() => String, { nullable: true, description: 'Exact action.' })
  action?: string;

  @Field(() => String, { nullable: true, description: 'Action prefix: "user.role." matches user.role.grant and user.role.revoke.' })
  actionPrefix?: string;

  @Field(() => String, { nullable: true })
  targetType?: string;

  @Field(() => String, { nullable: true })
  targetId?: string;

  @Field(() => OutcomeEnum, { nullable: true })
  outcome?: OutcomeEnum;

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'recordedAt >= from' })
  from?: Date;

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'recordedAt < to' })
  to?: Date;

  @Field(() => [ID], { nullable: true, description: 'Events in any of these groups.' })
  groupIds?: string[];
}

export enum EventCountGroupBy {
  GROUP = 'GROUP',
  ACTION = 'ACTION',
  ACTOR = 'ACTOR',
  OUTCOME = 'OUTCOME',
}
registerEnumType(EventCountGroupBy, { name: 'EventCountGroupBy' });

@ObjectType({ description: 'How many events share one key (an event counts once under each of its groups).' })
export class EventCount {
  @Field(() => String)
  key!: string;

  @Field(() => Int)
  count!: number;
}

/** Buckets one `eventCountsOverTime` may ask for: a day in half hours, a month in days and a half. */
export const MAX_TIME_BUCKETS = 48;

@ObjectType({ description: 'The counts of one period [from, to) of `eventCountsOverTime`.' })
export class EventCountBucket {
  @Field(() => GraphQLDateTimeISO, { description: 'recordedAt >= from' })
  from!: Date;

  @Field(() => GraphQLDateTimeISO, { description: 'recordedAt < to' })
  to!: Date;

  @Field(() => [EventCount], { description: 'Counts in this period, most frequent first.' })
  counts!: EventCount[];
}

@ObjectType()
export class EventEdge {
  @Field(() => Event)
  node!: Event;

  @Field(() => String)
  cursor!: string;
}

@ObjectType()
export class PageInfo {
  @Field(() => Boolean)
  hasNextPage!: boolean;

  @Field(() => String, { nullable: true })
  endCursor!: string | null;
}

@ObjectType()
export class EventConnection {
  @Field(() => [EventEdge])
  edges!: EventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

export const MAX_PAGE = 500;
export { Int };
