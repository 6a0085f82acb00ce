import 'reflect-metadata';
import { getIntrospectionQuery, type GraphQLSchema, parse, specifiedRules, validate } from 'graphql';
import { costLimitRules, DEFAULT_COST_LIMITS, documentShapeProblem, QUERY_TOO_COMPLEX, type ShapeLimits, ShapeVerdicts, withLimitCode } from '../../src/graphql/costLimits';
import { HTTP_DEFAULTS } from '../../src/config';
import { buildLedgerSchema } from '../../src/graphql/schema';

const EVENT_FIELDS =
  'leafIndex leafHash leaf id action actor { id type name } target { type id name } outcome reason occurredAt recordedAt ' +
  'source { ip userAgent requestId } metadata groups salt';
const RECEIPT = 'eventId leafIndex leafHash inclusionProof { leafIndex treeSize leafHash hashes checkpoint { origin treeSize rootHash note } }';
const INLINE_EVENT =
  '{ action: "invoice.refund", actor: { id: "u-42", type: USER, name: "Ann" }, target: { type: "invoice", id: "inv-7" }, outcome: SUCCESS, ' +
  'source: { ip: "10.0.0.7", requestId: "req-1" }, metadata: { amount: 120, currency: "EUR" }, idempotencyKey: "refund-inv-7" }';

/** Every shape of query our own clients (audit CLI, tests, README) send. */
const LEGITIMATE: Record<string, string> = {
  introspection: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }),
  auditProofs: `query($t: SafeInt!) { ${Array.from({ length: 100 }, (_, k) => `p${k}: inclusionProof(leafIndex: ${1_000_000 + k}, treeSize: $t) { leafIndex leafHash hashes }`).join(' ')} }`,
  eventsPage: `query($after: String, $first: Int) { events(after: $after, first: $first) { edges { node { ${EVENT_FIELDS} } cursor } pageInfo { endCursor hasNextPage } } }`,
  fullPage: `{ events(first: 500, order: NEWEST_FIRST) { edges { node { ${EVENT_FIELDS} } cursor } pageInfo { endCursor hasNextPage } } }`,
  oneEvent: `query($i: SafeInt) { event(leafIndex: $i) { ${EVENT_FIELDS} } }`,
  consistency: 'query($f: SafeInt!, $t: SafeInt) { consistencyProof(fromSize: $f, toSize: $t) { hashes checkpoint { note } } }',
  recordEvents: `mutation($i: [EventInput!]!) { recordEvents(inputs: $i) { ${RECEIPT} } }`,
  recordEventsInline: `mutation { recordEvents(inputs: [${Array(10_000).fill(INLINE_EVENT).join(',')}]) { ${RECEIPT} } }`,
  usersWithGroups: '{ users { id name status groups { id name } } }',
  groupMembersGroups: 'query($g: ID!) { group(id: $g) { members { id groups { id name } } } }',
  counts: '{ eventCounts(groupBy: ACTION) { key count } }',
};

function check(schema: GraphQLSchema, query: string): { code?: string; limit?: string; message: string }[] {
  return validate(schema, parse(query, { maxTokens: DEFAULT_COST_LIMITS.maxTokens }), [...specifiedRules, ...costLimitRules()]).map((e) => {
    const formatted = withLimitCode({ message: e.message, extensions: { ...e.extensions, code: 'GRAPHQL_VALIDATION_FAILED' } });
    return { message: formatted.message, code: formatted.extensions?.code as string, limit: formatted.extensions?.limit as string };
  });
}

describe('GraphQL cost limits', () => {
  let schema: GraphQLSchema;
  beforeAll(async () => {
    schema = await buildLedgerSchema();
  });

  it.each(Object.keys(LEGITIMATE))('let the legitimate %s query through', (name) => {
    expect(check(schema, LEGITIMATE[name]!)).toEqual([]);
  });

  const shape = (maxTokens: number): ShapeLimits => ({ ...DEFAULT_COST_LIMITS, maxTokens });

  it.each(Object.keys(LEGITIMATE))('let the legitimate %s query through the pre-parse count', (name) => {
    expect(documentShapeProblem(LEGITIMATE[name]!, shape(DEFAULT_COST_LIMITS.maxTokens))).toBeUndefined();
  });

  it('keep the largest legitimate inline batch well under the token limit, and anonymous documents under theirs', () => {
    expect(documentShapeProblem(LEGITIMATE.recordEventsInline!, shape(DEFAULT_COST_LIMITS.maxTokens / 1.5))).toBeUndefined();
    expect(documentShapeProblem(LEGITIMATE.auditProofs!, shape(DEFAULT_COST_LIMITS.maxAnonymousTokens / 4))).toBeUndefined();
    expect(documentShapeProblem(LEGITIMATE.introspection!, shape(DEFAULT_COST_LIMITS.maxAnonymousTokens / 4))).toBeUndefined();
  });

  it('fit the largest legal batch, 10,000 events as variables, with 3x headroom under the body limit', () => {
    const event = {
      action: 'invoice.refund',
      actor: { id: 'u-42', type: 'USER', name: 'Ann' },
      target: { type: 'invoice', id: 'inv-7' },
      source: { ip: '10.0.0.7', userAgent: 'billing/1.0', requestId: 'req-1' },
      metadata: { amount: 120, currency: 'EUR', note: 'x'.repeat(200) },
      idempotencyKey: 'refund-inv-7',
    };
    const body = JSON.stringify({ query: LEGITIMATE.recordEvents, variables: { i: Array(10_000).fill(event) } });
    expect(Buffer.byteLength(body)).toBeLessThan(HTTP_DEFAULTS.maxBodyBytes / 3);
  });

  it('are remembered per document and token limit, bounded, and agree with a fresh count', () => {
    const verdicts = new ShapeVerdicts({ maxAliases: 2, maxDepth: 2, maxFields: 3 }, 2, 40);
    const fresh = (source: string, maxTokens: number) => documentShapeProblem(source, { maxTokens, maxAliases: 2, maxDepth: 2, maxFields: 3 });
    // The same text under two token limits (with and without a key) gets two verdicts.
    expect(verdicts.problem('{ a b c d e }', 4)?.limit).toBe('tokens');
    expect(verdicts.problem('{ a b c d e }', 100)?.limit).toBe('fields');
    expect(verdicts.problem('{ a b c d e }', 4)?.limit).toBe('tokens');
    // Past two documents the oldest is forgotten; answers stay the same; long documents are never kept.
    const documents = ['{ a }', '{ x: a y: b z: c }', '{ a { b { c } } }', '{ a b }', `{ ${'a '.repeat(30)}}`];
    for (let round = 0; round < 3; round++) {
      for (const d of documents) expect(verdicts.problem(d, 100)).toEqual(fresh(d, 100));
    }
  });

  it('count before parsing and stop at the first limit broken', () => {
    const limits = { maxTokens: 5, maxAliases: 2, maxDepth: 2, maxFields: 3 };
    expect(documentShapeProblem('{ a b c }', limits)).toBeUndefined();
    expect(documentShapeProblem('{ a b c d e }', { ...limits, maxFields: 100 })?.limit).toBe('tokens');
    expect(documentShapeProblem('{ x: a y: b z: c }', { ...limits, maxTokens: 100 })?.limit).toBe('aliases');
    expect(documentShapeProblem('{ a { b { c } } }', { ...limits, maxTokens: 100 })?.limit).toBe('depth');
    expect(documentShapeProblem('{ a b c d }', { ...limits, maxTokens: 100 })?.limit).toBe('fields');
    // Arguments, variables, fragment names, type conditions and directives are not fields or aliases.
    const notFields = 'query($v: [In!] = [{ a: 1, b: { c: 2 } }]) { f(x: { y: 1, z: 2 }, w: $v) @include(if: true) { ...F ... on T { g } } }';
    expect(documentShapeProblem(notFields, { maxTokens: 1000, maxAliases: 0, maxDepth: 3, maxFields: 2 })).toBeUndefined();
    // Unterminated string: a lexing error is left to the parser to report.
    expect(documentShapeProblem('{ a(x: "', limits)).toBeUndefined();
  });

  it('refuse the alias bomb', () => {
    const bomb = `{ ${Array.from({ length: 20_000 }, (_, i) => `a${i}: inclusionProof(leafIndex: ${i}) { hashes }`).join(' ')} }`;
    const errors = check(schema, bomb);
    expect(errors.map((e) => e.limit)).toContain('aliases');
    expect(errors.every((e) => e.code === QUERY_TOO_COMPLEX || e.limit === undefined)).toBe(true);
  });

  it('refuse lists nested three deep, also through fragments', () => {
    expect(check(schema, '{ users { groups { members { groups { members { id } } } } } }')).toEqual([
      expect.objectContaining({ code: QUERY_TOO_COMPLEX, limit: 'listNesting' }),
    ]);
    const viaFragments = 'query { users { ...U } } fragment U on User { groups { ...G } } fragment G on Group { members { id } }';
    expect(check(schema, viaFragments).map((e) => e.limit)).toEqual(['listNesting']);
  });

  it('refuse deep documents and many directives', () => {
    const deep = `{ users { ${'groups { members { '.repeat(6)}id${' } }'.repeat(6)} } }`;
    expect(check(schema, deep).map((e) => e.limit)).toEqual(expect.arrayContaining(['depth', 'listNesting']));
    const directives = `{ serverInfo { name ${'@include(if: true) '.repeat(30)} } }`;
    expect(check(schema, directives).map((e) => e.limit)).toContain('directives');
  });

  it("give graphql-js's own token limit the same code", () => {
    const formatted = withLimitCode({
      message: 'Syntax Error: Document contains more that 1000 tokens. Parsing aborted.',
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    });
    expect(formatted.extensions).toEqual({ code: QUERY_TOO_COMPLEX, limit: 'tokens' });
  });
});
