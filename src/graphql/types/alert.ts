import { GraphQLDateTimeISO } from 'graphql-scalars';
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from 'type-graphql';

export enum AlertKindEnum {
  PERMISSION_BURST = 'PERMISSION_BURST',
  BULK_READ = 'BULK_READ',
  FAILED_ACCESS = 'FAILED_ACCESS',
  OFF_HOURS = 'OFF_HOURS',
}
registerEnumType(AlertKindEnum, {
  name: 'AlertKind',
  description:
    'PERMISSION_BURST: permission changes by one group; BULK_READ: events read or exported by one key; FAILED_ACCESS: denied or failed attempts of one principal; OFF_HOURS: a group active outside its usual hours.',
});

@InputType({ description: 'An alert rule; omitted fields take the kind\'s defaults (README, "Anomaly alerts").' })
export class AlertRuleInput {
  @Field(() => String, { description: 'Lowercase letters, digits, "-", "_": firings are recorded as ledger.alert.<name>. Setting an existing name replaces that rule.' })
  name!: string;

  @Field(() => AlertKindEnum)
  kind!: AlertKindEnum;

  @Field(() => Boolean, { nullable: true, description: 'false: kept but not evaluated (rules are never deleted).' })
  enabled?: boolean;

  @Field(() => Int, { nullable: true, description: 'Fires when the count (BULK_READ: events read) within the window reaches this.' })
  threshold?: number;

  @Field(() => Int, { nullable: true })
  windowSeconds?: number;

  @Field(() => Int, { nullable: true, description: 'After firing for a subject, quiet for it this long.' })
  cooldownSeconds?: number;

  @Field(() => Int, { nullable: true, description: 'Firings per hour at most, all subjects together.' })
  maxPerHour?: number;

  @Field(() => [String], { nullable: true, description: 'Action patterns counted; "*" matches any run of name characters.' })
  actions?: string[];

  @Field(() => [ID], { nullable: true, description: 'Only events carrying one of these groups.' })
  groupIds?: string[];

  @Field(() => Int, { nullable: true, description: 'OFF_HOURS: usual hours start (0-23).' })
  hoursStart?: number;

  @Field(() => Int, { nullable: true, description: 'OFF_HOURS: usual hours end, exclusive (1-24).' })
  hoursEnd?: number;

  @Field(() => [Int], { nullable: true, description: 'OFF_HOURS: usual days, 1 = Monday … 7 = Sunday.' })
  days?: number[];

  @Field(() => String, { nullable: true, description: 'OFF_HOURS: IANA time zone of the usual hours.' })
  timezone?: string;
}

@ObjectType()
export class AlertRuleView {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: 'The action its firings are recorded under.' })
  action!: string;

  @Field(() => AlertKindEnum)
  kind!: AlertKindEnum;

  @Field(() => Boolean)
  enabled!: boolean;

  @Field(() => Int)
  threshold!: number;

  @Field(() => Int)
  windowSeconds!: number;

  @Field(() => Int)
  cooldownSeconds!: number;

  @Field(() => Int)
  maxPerHour!: number;

  @Field(() => [String])
  actions!: string[];

  @Field(() => [ID])
  groupIds!: string[];

  @Field(() => Int)
  hoursStart!: number;

  @Field(() => Int)
  hoursEnd!: number;

  @Field(() => [Int])
  days!: number[];

  @Field(() => String)
  timezone!: string;

  @Field(() => GraphQLDateTimeISO)
  updatedAt!: Date;

  @Field(() => ID, { description: 'The API key that set it.' })
  updatedBy!: string;
}
