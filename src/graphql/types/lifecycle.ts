import { GraphQLDateTimeISO, GraphQLSafeInt } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Why and by which ledger event an event\'s content was destroyed.' })
export class Redaction {
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Leaf index of the ledger event that recorded the redaction (null: none found, which verify-db reports).' })
  leafIndex!: number | null;

  @Field(() => String)
  reason!: string;
}

@ObjectType()
export class ShredResult {
  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Leaf index of the ledger event recording this redaction (null when nothing was shredded).' })
  recordedAt!: number | null;

  @Field(() => [GraphQLSafeInt], { description: 'Leaf indices whose content was destroyed.' })
  redacted!: number[];

  @Field(() => [GraphQLSafeInt], { description: 'Leaf indices kept because a legal hold covers them.' })
  held!: number[];
}

@InputType()
export class HoldScopeInput {
  @Field(() => [ID], { nullable: true })
  groupIds?: string[];

  @Field(() => [String], { nullable: true })
  actorIds?: string[];

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'recordedAt >= from' })
  from?: Date;

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'recordedAt < to' })
  to?: Date;
}

@ObjectType()
export class LegalHold {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  reason!: string;

  @Field(() => [ID])
  groupIds!: string[];

  @Field(() => Int, { description: 'How many actors the hold names (stored as blind indexes only).' })
  actorCount!: number;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  from!: Date | null;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  to!: Date | null;

  @Field(() => GraphQLSafeInt, { description: 'Leaf index of ledger.hold.placed.' })
  placedBy!: number;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'Leaf index of ledger.hold.released.' })
  releasedBy!: number | null;
}

@InputType()
export class RetentionPolicyInput {
  @Field(() => ID, { nullable: true, description: 'Replace this policy; absent: a new one.' })
  id?: string;

  @Field(() => [ID], { nullable: true, description: 'Events in any of these groups (absent: any).' })
  groupIds?: string[];

  @Field(() => String, { nullable: true, description: 'Action prefix (absent: any action).' })
  actionPrefix?: string;

  @Field(() => Int, { description: 'Days content is kept after recordedAt; then it is shredded.' })
  keepDays!: number;
}

@ObjectType()
export class RetentionPolicy {
  @Field(() => ID)
  id!: string;

  @Field(() => [ID])
  groupIds!: string[];

  @Field(() => String)
  actionPrefix!: string;

  @Field(() => Int)
  keepDays!: number;
}

@ObjectType()
export class RetentionRun {
  @Field(() => Int)
  scanned!: number;

  @Field(() => Int)
  shredded!: number;

  @Field(() => Int)
  held!: number;

  @Field(() => GraphQLSafeInt)
  cursor!: number;
}
