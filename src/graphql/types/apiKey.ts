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
}

@ObjectType({ description: 'A newly created key: the token is shown this once and never stored.' })
export class CreatedApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  token!: string;
}

@ObjectType()
export class ApiKey {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => [RoleEnum])
  roles!: RoleEnum[];

  @Field(() => GraphQLDateTimeISO)
  createdAt!: Date;

  @Field(() => GraphQLDateTimeISO, { nullable: true })
  revokedAt!: Date | null;
}
