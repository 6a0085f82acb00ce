import { Binary, Int32, Long } from 'mongodb';
import { assertMatchesSchema, DocumentValidationError, type JsonSchema, schemaProblems } from '../../src/storage/mongodb/jsonSchema';

const schema: JsonSchema = {
  bsonType: 'object',
  required: ['_id', 'name', 'tags'],
  additionalProperties: false,
  properties: {
    _id: { bsonType: ['long', 'int'], minimum: 0 },
    name: { bsonType: 'string', minLength: 1, maxLength: 5, pattern: '^[a-z]+$' },
    kind: { enum: ['A', 'B'] },
    tags: { bsonType: 'array', maxItems: 2, items: { bsonType: 'string' } },
    hash: { bsonType: 'binData' },
    at: { bsonType: 'date' },
  },
};

describe('$jsonSchema subset evaluator', () => {
  it('accepts a conforming document, with BSON wrapper types', () => {
    expect(schemaProblems(schema, { _id: 3, name: 'abc', tags: [] })).toEqual([]);
    expect(
      schemaProblems(schema, { _id: Long.fromNumber(7), name: 'ab', kind: 'A', tags: ['x'], hash: new Binary(Buffer.alloc(2)), at: new Date() }),
    ).toEqual([]);
    expect(schemaProblems(schema, { _id: new Int32(1), name: 'a', tags: ['x', 'y'] })).toEqual([]);
  });

  it.each([
    [{ name: 'abc', tags: [] }, '$._id is required'],
    [{ _id: -1, name: 'abc', tags: [] }, '$._id must be >= 0'],
    [{ _id: 1.5, name: 'abc', tags: [] }, '$._id must be long or int'],
    [{ _id: 1, name: '', tags: [] }, '$.name is too short'],
    [{ _id: 1, name: 'abcdef', tags: [] }, '$.name is too long'],
    [{ _id: 1, name: 'ABC', tags: [] }, '$.name does not match ^[a-z]+$'],
    [{ _id: 1, name: 'a', kind: 'C', tags: [] }, '$.kind must be one of A, B'],
    [{ _id: 1, name: 'a', tags: ['a', 'b', 'c'] }, '$.tags has too many items'],
    [{ _id: 1, name: 'a', tags: [1] }, '$.tags[0] must be string'],
    [{ _id: 1, name: 'a', tags: [], extra: true }, '$.extra is not allowed'],
    [{ _id: 1, name: 'a', tags: [], at: '2026-01-01' }, '$.at must be date'],
    [[1], '$ must be object'],
  ])('reports %j', (doc, problem) => {
    expect(schemaProblems(schema, doc)).toContain(problem);
    expect(() => assertMatchesSchema('things', schema, doc)).toThrow(DocumentValidationError);
  });
});
