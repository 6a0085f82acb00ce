import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ApiKeyResolver } from './resolvers/apiKeyResolver';
import { GroupResolver, UserResolver } from './resolvers/directoryResolver';
import { EventResolver } from './resolvers/eventResolver';
import { LifecycleResolver } from './resolvers/lifecycleResolver';
import { LogResolver } from './resolvers/logResolver';
import { WebhookResolver } from './resolvers/webhookResolver';
import { AlertResolver } from './resolvers/alertResolver';
import { ServerInfoResolver } from './serverInfoResolver';
import { ViewerResolver } from './resolvers/viewerResolver';

/** Builds the executable schema; `npm run schema` prints it to schema/schema.graphql. */
export async function buildLedgerSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ServerInfoResolver, LogResolver, EventResolver, ApiKeyResolver, UserResolver, GroupResolver, LifecycleResolver, WebhookResolver, AlertResolver, ViewerResolver],
    validate: false,
  });
}
