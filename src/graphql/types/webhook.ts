import { GraphQLDateTimeISO, GraphQLJSONObject, GraphQLSafeInt } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';
import { EventFilter } from './event';

export enum WebhookStateEnum {
  ACTIVE = 'ACTIVE',
  PAUSED = 'PAUSED',
  DEAD_LETTER = 'DEAD_LETTER',
  DELETED = 'DELETED',
}
registerEnumType(WebhookStateEnum, {
  name: 'WebhookState',
  description: 'ACTIVE: delivering; PAUSED: by an ADMIN; DEAD_LETTER: given up after repeated failures (see lastError) until resumed; DELETED: soft-deleted, kept for the record.',
});

@InputType()
export class WebhookInput {
  @Field(() => String, { description: 'Where batches are POSTed: an http:// or https:// URL without credentials.' })
  url!: string;

  @Field(() => EventFilter, { nullable: true, description: 'Which events to deliver (the events filter; actionPrefix "ledger.alert." for alerts).' })
  filter?: EventFilter;

  @Field(() => String, { nullable: true, description: 'The HMAC-SHA256 key (24-256 printable characters); omitted: one is generated and answered once.' })
  secret?: string;

  @Field(() => GraphQLSafeInt, { nullable: true, description: 'First leaf to consider (default: the signed size now, i.e. events from now on).' })
  fromLeafIndex?: number;
}

@ObjectType({ description: 'A webhook subscription and its delivery state. The secret is never answered after creation.' })
export class Webhook {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  url!: string;

  @Field(() => GraphQLJSONObject, { description: 'The filter, as JSON (the events filter fields).' })
  filter!: Record<string, unknown>;

  @Field(() => WebhookStateEnum)
  state!: WebhookStateEnum;

  @Field(() => GraphQLSafeInt, { description: 'Every leaf below this was delivered or did not match: where delivery resumes.' })
  cursor!: number;

  @Field(() => GraphQLSafeInt, { description: 'Events delivered so far (with at-least-once, a redelivered batch counts again).' })
  deliveredEvents!: number;

  @Field(() => Int, { description: 'Failed attempts at the current batch (0 after a success).' })
  attempts!: number;

  @Field(() => String, { nullable: true, description: 'The last failure: an HTTP status or a network error.' })
  lastError!: string | null;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  lastErrorAt!: Date | null;

  @Field(() => GraphQLDateTimeISO, { nullable: true, description: 'When the next attempt is due (while backing off).' })
  nextAttemptAt!: Date | null;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  deadLetteredAt!: Date | null;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  lastDeliveredAt!: Date | null;

  @Field(() => GraphQLDateTimeISO)
  createdAt!: Date;

  @Field(() => ID, { description: 'The API key that created it.' })
  createdBy!: string;
}

@ObjectType()
export class CreatedWebhook {
  @Field(() => Webhook)
  webhook!: Webhook;

  @Field(() => String, { description: 'The signing secret: shown this once (the one given, or the generated one).' })
  secret!: string;
}
