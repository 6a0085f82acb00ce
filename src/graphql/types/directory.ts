import { GraphQLDateTimeISO } from 'graphql-scalars';
import { Field, ID, InputType, ObjectType, registerEnumType } from 'type-graphql';

export enum UserTypeEnum {
  HUMAN = 'HUMAN',
  SERVICE = 'SERVICE',
}
registerEnumType(UserTypeEnum, { name: 'UserType' });

export enum UserStatusEnum {
  ACTIVE = 'ACTIVE',
  DISABLED = 'DISABLED',
}
registerEnumType(UserStatusEnum, { name: 'UserStatus' });

@ObjectType({ description: 'A person or service that holds API keys. Users are disabled, never deleted.' })
export class User {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;

  @Field(() => UserTypeEnum)
  type!: UserTypeEnum;

  @Field(() => String, { nullable: true, description: 'The identity in an external directory (IdP), if any.' })
  externalId!: string | null;

  @Field(() => UserStatusEnum, { description: "DISABLED stops all the user's keys at once." })
  status!: UserStatusEnum;

  @Field(() => GraphQLDateTimeISO)
  createdAt!: Date;

  @Field(() => GraphQLDateTimeISO)
  updatedAt!: Date;

  // `groups` is a field resolver (see directoryResolver.ts).
}

@ObjectType({ description: 'A named set of users; events are stamped with their actor\'s groups.' })
export class Group {
  @Field(() => ID)
  id!: string;

  @Field(() => String, { description: 'Unique, compared case-insensitively.' })
  name!: string;

  @Field(() => String, { nullable: true })
  description!: string | null;

  @Field(() => GraphQLDateTimeISO)
  createdAt!: Date;

  /** Resolved into `members` by a field resolver. */
  memberIds!: string[];
}

@InputType()
export class CreateUserInput {
  @Field(() => String)
  name!: string;

  @Field(() => UserTypeEnum)
  type!: UserTypeEnum;

  @Field(() => String, { nullable: true })
  externalId?: string | null;
}

@InputType({ description: 'Only the fields given change.' })
export class UpdateUserInput {
  @Field(() => String, { nullable: true })
  name?: string | null;

  @Field(() => UserStatusEnum, { nullable: true })
  status?: UserStatusEnum | null;
}

@InputType()
export class CreateGroupInput {
  @Field(() => String)
  name!: string;

  @Field(() => String, { nullable: true })
  description?: string | null;
}
