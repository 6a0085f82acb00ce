import { readFileSync } from 'node:fs';
import path from 'node:path';
import { printSchema } from 'graphql';
import { buildLedgerSchema } from '../../src/graphql/schema';

describe('schema/schema.graphql', () => {
  it('is the SDL the code builds (regenerate with `npm run schema`)', async () => {
    const file = readFileSync(path.join(__dirname, '..', '..', 'schema', 'schema.graphql'), 'utf8');
    expect(file).toBe(`${printSchema(await buildLedgerSchema())}\n`);
  });
});
