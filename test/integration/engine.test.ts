import { MongoServerError } from 'mongodb';
import { ensureCollection, isFerretDb } from '../../src/storage/mongodb/collections';
import { assertMatchesSchema, DocumentValidationError, type JsonSchema } from '../../src/storage/mongodb/jsonSchema';
import { openTestDatabase, type TestDatabase } from '../support/testDatabase';

describe('the database engine, over the wire', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase('engine');
  });
  afterAll(async () => t.dispose());

  it('answers ping', async () => {
    expect(await t.db.command({ ping: 1 })).toMatchObject({ ok: 1 });
  });

  it('inserts and finds with sort and limit', async () => {
    const col = t.db.collection<{ _id: number; name: string }>('sorted');
    await col.insertMany([3, 1, 4, 5, 2].map((n) => ({ _id: n, name: `n${n}` })));
    const top = await col.find({}).sort({ _id: -1 }).limit(2).toArray();
    expect(top.map((d) => d._id)).toEqual([5, 4]);
    const filtered = await col.find({ _id: { $gte: 2 } }).sort({ _id: 1 }).toArray();
    expect(filtered.map((d) => d.name)).toEqual(['n2', 'n3', 'n4', 'n5']);
  });

  it('surfaces a unique index violation as code 11000', async () => {
    const col = t.db.collection('unique');
    await col.createIndex({ key: 1 }, { unique: true });
    await col.insertOne({ key: 'a' });
    const err = await col.insertOne({ key: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(11000);
    expect(await col.countDocuments({ key: 'a' })).toBe(1);
  });

  it('rejects a document that fails a $jsonSchema validator, in the engine or (FerretDB v1) in process', async () => {
    const schema: JsonSchema = {
      bsonType: 'object',
      required: ['name'],
      properties: { name: { bsonType: 'string', minLength: 1 } },
    };
    const ensured = await ensureCollection(t.db, { name: 'validated', schema, indexes: [{ key: { name: 1 } }] });
    const col = t.db.collection('validated');
    const guardedInsert = async (doc: Record<string, unknown>): Promise<void> => {
      assertMatchesSchema('validated', schema, doc);
      await col.insertOne(doc);
    };
    await guardedInsert({ name: 'ok' });
    await expect(guardedInsert({ name: 42 })).rejects.toBeInstanceOf(DocumentValidationError);
    if (ensured.engineEnforced) {
      // Real MongoDB: the engine itself refuses the document (DocumentValidationFailure).
      const err = await col.insertOne({ name: 42 }).catch((e: unknown) => e);
      expect((err as MongoServerError).code).toBe(121);
    } else {
      // FerretDB v1 answers NotImplemented to validators; this pins that fact down.
      const err = await t.db
        .createCollection('validated2', { validator: { $jsonSchema: schema } })
        .catch((e: unknown) => e);
      expect((err as MongoServerError).code).toBe(238);
    }
    expect(await col.countDocuments()).toBe(1);
  });

  it('creates unique indexes everywhere, and query indexes only where the engine uses them', async () => {
    const schema: JsonSchema = { bsonType: 'object' };
    await ensureCollection(t.db, {
      name: 'indexed',
      schema,
      indexes: [{ key: { a: 1 }, options: { unique: true, name: 'a_unique' } }, { key: { b: 1 }, options: { name: 'b_query' } }],
    });
    const names = (await t.db.collection('indexed').listIndexes().toArray()).map((i) => i.name as string);
    expect(names).toContain('a_unique');
    expect(names.includes('b_query')).toBe(!(await isFerretDb(t.db)));
    const col = t.db.collection('indexed');
    await col.insertOne({ a: 1 });
    expect(((await col.insertOne({ a: 1 }).catch((e: unknown) => e)) as MongoServerError).code).toBe(11000);
  });
});
