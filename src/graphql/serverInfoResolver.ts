import { Field, ObjectType, Query, Resolver } from 'type-graphql';
import { VERSION } from '../version';

@ObjectType({ description: 'What this server is.' })
export class ServerInfo {
  @Field(() => String)
  name!: string;

  @Field(() => String)
  version!: string;
}

@Resolver()
export class ServerInfoResolver {
  @Query(() => ServerInfo, { description: 'The server name and version.' })
  serverInfo(): ServerInfo {
    return { name: 'audit-ledger', version: VERSION };
  }
}
