import 'reflect-metadata';
import type { GraphQLSchema } from 'graphql';
import { buildSchema } from 'type-graphql';
import { ServerInfoResolver } from './serverInfoResolver';

/** Builds the executable schema; `scripts/emit-schema.ts` prints it to schema/schema.graphql. */
export async function buildLedgerSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [ServerInfoResolver],
    validate: false,
  });
}
