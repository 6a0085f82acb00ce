/**
 * Creates a collection with its `$jsonSchema` validator and indexes, on either engine.
 * FerretDB v1 does not implement validators (code 238); there the validator is enforced in
 * process only (see jsonSchema.ts), and `engineEnforced` says so. FerretDB v1 (SQLite) also
 * never uses a secondary index to answer a query, so there only unique indexes are created:
 * they still enforce uniqueness, while the others would only slow every insert down.
 */
import { type CreateIndexesOptions, type Db, type IndexSpecification, MongoServerError } from 'mongodb';
import type { JsonSchema } from './jsonSchema';

const NOT_IMPLEMENTED = 238;
const NAMESPACE_EXISTS = 48;

export interface IndexDefinition {
  readonly key: IndexSpecification;
  readonly options?: CreateIndexesOptions;
}

export interface CollectionDefinition {
  readonly name: string;
  readonly schema: JsonSchema;
  readonly indexes: readonly IndexDefinition[];
}

export interface EnsuredCollection {
  readonly name: string;
  /** False when the engine refused the validator and only in-process checks apply. */
  readonly engineEnforced: boolean;
}

export async function ensureCollection(db: Db, def: CollectionDefinition): Promise<EnsuredCollection> {
  const validator = { $jsonSchema: def.schema };
  let engineEnforced = true;
  try {
    await db.createCollection(def.name, { validator, validationLevel: 'strict', validationAction: 'error' });
  } catch (err) {
    if (!(err instanceof MongoServerError)) throw err;
    if (err.code === NOT_IMPLEMENTED) {
      engineEnforced = false;
      await db.createCollection(def.name).catch(ignoreCode(NAMESPACE_EXISTS));
    } else if (err.code === NAMESPACE_EXISTS) {
      // Keep the validator current on engines that have them.
      await db.command({ collMod: def.name, validator }).catch((e: unknown) => {
        if (e instanceof MongoServerError && e.code === NOT_IMPLEMENTED) engineEnforced = false;
        else throw e;
      });
    } else {
      throw err;
    }
  }
  const queryIndexesHelp = !(await isFerretDb(db));
  for (const index of def.indexes) {
    if (index.options?.unique || queryIndexesHelp) await db.collection(def.name).createIndex(index.key, index.options ?? {});
  }
  return { name: def.name, engineEnforced };
}

const ferretDbByClient = new WeakMap<object, Promise<boolean>>();

/** Whether the server is FerretDB (its buildInfo names its own version). */
export function isFerretDb(db: Db): Promise<boolean> {
  const client = db.client;
  let known = ferretDbByClient.get(client);
  if (!known) {
    known = db
      .admin()
      .command({ buildInfo: 1 })
      .then((info) => typeof info.ferretdbVersion === 'string');
    ferretDbByClient.set(client, known);
  }
  return known;
}

function ignoreCode(code: number) {
  return (err: unknown): void => {
    if (!(err instanceof MongoServerError && err.code === code)) throw err;
  };
}
