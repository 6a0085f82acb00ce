import { Field, ID, ObjectType } from 'type-graphql';
import { RoleEnum } from './apiKey';

@ObjectType({ description: "A group the calling key is scoped to: its name only, not its members (a READER may not read the directory)." })
export class ViewerGroup {
  @Field(() => ID)
  id!: string;

  @Field(() => String)
  name!: string;
}

@ObjectType({ description: 'The API key making this request: what a dashboard needs to show what it may do.' })
export class Viewer {
  @Field(() => ID)
  keyId!: string;

  @Field(() => String, { description: "The key's name." })
  name!: string;

  @Field(() => [RoleEnum])
  roles!: RoleEnum[];

  @Field(() => ID)
  userId!: string;

  @Field(() => String)
  userName!: string;

  @Field(() => [ViewerGroup], { description: "The groups the key is scoped to (empty: none, or all for ADMIN and AUDITOR)." })
  groups!: ViewerGroup[];
}
