/**
 * Driver failures said in the port's terms. A caller of the port sees LedgerErrors only:
 * UNAVAILABLE when the database cannot be reached or is changing primaries (worth a retry),
 * INTERNAL for anything else the driver reports, and the typed errors of storage/errors.ts
 * where the repositories recognise the case (duplicate keys, a taken leaf index).
 */
import {
  type Db,
  type Document,
  MongoBulkWriteError,
  MongoError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoOperationTimeoutError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from 'mongodb';
import { LedgerError } from '../../errors';
import type { CollectionDefinition } from './collections';

export const DUPLICATE_KEY = 11000;

/** Server codes meaning "this node cannot serve you right now": shutdown, stepdown, no primary. */
const TRANSIENT_SERVER_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);

export function isUnavailable(err: unknown): boolean {
  if (
    err instanceof MongoNetworkError ||
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoOperationTimeoutError
  ) {
    return true;
  }
  return err instanceof MongoServerError && ((typeof err.code === 'number' && TRANSIENT_SERVER_CODES.has(err.code)) || err.hasErrorLabel('RetryableWriteError'));
}

/** The LedgerError a failure stands for; anything not from the driver passes unchanged. */
export function translateDriverError(err: unknown): unknown {
  if (err instanceof LedgerError || !(err instanceof MongoError)) return err;
  if (isUnavailable(err)) return new LedgerError('UNAVAILABLE', `the MongoDB database is unavailable: ${err.message}`, { cause: err });
  return new LedgerError('INTERNAL', `MongoDB: ${err.message}`, { cause: err });
}

/**
 * The object with every method's failure translated. One wrapper for the whole adapter, so no
 * repository method can forget it; the methods that recognise a case themselves (duplicate
 * keys) throw LedgerErrors, which pass through untouched.
 */
export function translatingErrors<T extends object>(target: T): T {
  return new Proxy(target, {
    get(obj, property, receiver) {
      const value: unknown = Reflect.get(obj, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]): unknown => {
        let result: unknown;
        try {
          result = Reflect.apply(value, obj, args);
        } catch (err) {
          throw translateDriverError(err);
        }
        return result instanceof Promise ? result.catch((err: unknown) => Promise.reject(translateDriverError(err))) : result;
      };
    },
  });
}

export interface DuplicateKey {
  /** The first field of the unique index that refused the write (`_id` for the primary key); undefined if the engine did not say. */
  readonly field: string | undefined;
  /** The position of the refused document within an insertMany, when the engine said. */
  readonly position: number | undefined;
}

/** The duplicate key a write failed on, or undefined when it failed for another reason. */
export function duplicateKeyOf(err: unknown, collection: CollectionDefinition): DuplicateKey | undefined {
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    const first = writeErrors[0];
    if (first === undefined) return err.code === DUPLICATE_KEY ? { field: fieldOf(err, collection), position: undefined } : undefined;
    if (first.code !== DUPLICATE_KEY) return undefined;
    const raw: unknown = first.err;
    return { field: fieldOf(isDocument(raw) ? { ...raw, errmsg: first.errmsg } : { errmsg: first.errmsg }, collection), position: first.index };
  }
  if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) return { field: fieldOf(err, collection), position: undefined };
  return undefined;
}

/**
 * The field a refused document collided on. MongoDB names the index; FerretDB v1 does not
 * (its message names the collection only), so there each unique field of the document is
 * looked up in turn, the primary key first, by equality on a unique index.
 */
export async function collidingField(
  db: Db,
  definition: CollectionDefinition,
  refused: object,
  duplicate: DuplicateKey,
): Promise<string | undefined> {
  if (duplicate.field !== undefined) return duplicate.field;
  const collection = db.collection(definition.name);
  const uniqueFields = [
    '_id',
    ...definition.indexes.filter((i) => i.options?.unique).flatMap((i) => Object.keys(i.key).slice(0, 1)),
  ];
  for (const field of uniqueFields) {
    const value: unknown = (refused as Readonly<Record<string, unknown>>)[field];
    if (value !== undefined && (await collection.countDocuments({ [field]: value }, { limit: 1 })) > 0) return field;
  }
  return undefined;
}

/** Whether every failure of a (bulk) write was a duplicate key. */
export function onlyDuplicateKeys(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors];
    return writeErrors.length > 0 ? writeErrors.every((e) => e.code === DUPLICATE_KEY) : err.code === DUPLICATE_KEY;
  }
  return err instanceof MongoServerError && err.code === DUPLICATE_KEY;
}

/** The port's name for a unique field: records call their primary key `id`. */
export function portFieldName(field: string | undefined): string {
  if (field === undefined) return 'unknown';
  return field === '_id' ? 'id' : field;
}

const INDEX_IN_MESSAGE = /index: (\S+) dup key/;

/** MongoDB names the key pattern; engines that do not (FerretDB) still name the index in the message. */
function fieldOf(error: Document, collection: CollectionDefinition): string | undefined {
  const keyPattern: unknown = error.keyPattern;
  if (isDocument(keyPattern)) {
    const first = Object.keys(keyPattern)[0];
    if (first !== undefined) return first;
  }
  const message: unknown = error.errmsg ?? error.message;
  const indexName = typeof message === 'string' ? INDEX_IN_MESSAGE.exec(message)?.[1] : undefined;
  if (indexName === undefined) return undefined;
  if (indexName === '_id_') return '_id';
  const index = collection.indexes.find((i) => i.options?.name === indexName);
  return index ? Object.keys(index.key)[0] : undefined;
}

function isDocument(value: unknown): value is Document {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
