import { GraphQLDateTimeISO } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';

export enum RoleEnum {
  ADMIN = 'ADMIN',
  APPENDER = 'APPENDER',
  AUDITOR = 'AUDITOR',
  READER = 'READER',
}
registerEnumType(RoleEnum, { name: 'Role' });

@InputType()
export class ApiKeyInput {
  @Field(() => String)
  name!: string;

  @Field(() => [RoleEnum])
  roles!: RoleEnum[];

  @Field(() => ID, { nullable: true, description: 'The user the key acts as; omitted: a new SERVICE user named after the key.' })
  userId?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Groups scoping a READER key\'s reads and an APPENDER key\'s explicit event groups.' })
  groupIds?: string[] | null;
}

@ObjectType({ description: 'A newly created key: the token is shown this once and never stored.' })
export class CreatedApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  token!: string;

  @Field(() => ID, { description: 'The user the key acts as.' })
  userId!: string;
}

@ObjectType()
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [RoleEnum])
  roles!: RoleEnum[];

  @Field(() => ID)
  userId!: string;

  @Field(() => [ID])
  groupIds!: string[];

  @Field(() => GraphQLDateTimeISO)
  createdAt!: Date;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  revokedAt!: Date | null;
}
