// Prints the GraphQL SDL to schema/schema.graphql (a test keeps the file in sync).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { buildLedgerSchema } from '../src/graphql/schema';

void buildLedgerSchema().then((schema) => {
  writeFileSync(path.join(__dirname, '..', 'schema', 'schema.graphql'), `${printSchema(schema)}\n`);
});
