/**
 * Creates a collection with its `$jsonSchema` validator and indexes, on either engine.
 * FerretDB v1 does not implement validators (code 238); there the validator is enforced in
 * process only (see jsonSchema.ts), and `engineEnforced` says so.
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
  for (const index of def.indexes) await db.collection(def.name).createIndex(index.key, index.options ?? {});
  return { name: def.name, engineEnforced };
}

function ignoreCode(code: number) {
  return (err: unknown): void => {
    if (!(err instanceof MongoServerError && err.code === code)) throw err;
  };
}
