/**
 * Lifecycle records in one `lifecycle` collection, `_id` = `<kind>:<id>` so that every read,
 * listing and delete is served by the primary key on every engine (FerretDB v1 included).
 *
 * What a delete guarantees on MongoDB: the document is gone from the collection at once, but
 * WiredTiger reuses the freed space lazily, and its journal, the oplog (on a replica set) and
 * any snapshot keep the old bytes until they are overwritten or expire; `compact` reclaims
 * space but does not promise zeroing. A destroyed data key is therefore only unreadable from
 * the live database, not erased from the media, until the oplog window has passed. That is
 * why the data keys are wrapped: the operator rotates the KEK after an erasure and destroys the
 * old one, which makes every older copy of the wrapped key (oplog, journal, backups) useless.
 */
import type { Collection, Db } from 'mongodb';
import type { LifecycleKind, LifecycleRecord, LifecycleSnapshot, LifecycleStore } from '../port';
import { LIFECYCLE_COLLECTION, type LifecycleDoc } from './documents';
import { onlyDuplicateKeys } from './driverErrors';

const WRITE = { writeConcern: { w: 'majority' as const, j: true } };

export class MongoLifecycleStore implements LifecycleStore {
  private readonly docs: Collection<LifecycleDoc>;

  constructor(db: Db) {
    this.docs = db.collection<LifecycleDoc>(LIFECYCLE_COLLECTION.name);
  }

  async put(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.docs.bulkWrite(
      records.map((r) => ({ replaceOne: { filter: { _id: key(kind, r.id) }, replacement: { kind, value: r.value }, upsert: true } })),
      { ordered: true, ...WRITE },
    );
    await this.counted(kind);
  }

  async insertNew(kind: LifecycleKind, records: readonly LifecycleRecord[]): Promise<boolean> {
    if (records.length === 0) return true;
    try {
      await this.docs.insertMany(records.map((r) => ({ _id: key(kind, r.id), kind, value: r.value })), { ordered: true, ...WRITE });
      return true;
    } catch (err) {
      if (onlyDuplicateKeys(err)) return false;
      throw err;
    }
  }

  async get(kind: LifecycleKind, ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (ids.length === 0) return out;
    const found = await this.docs.find({ _id: { $in: ids.map((id) => key(kind, id)) } }).toArray();
    for (const doc of found) out.set(doc._id.slice(kind.length + 1), doc.value);
    return out;
  }

  async delete(kind: LifecycleKind, ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.docs.deleteMany({ _id: { $in: ids.map((id) => key(kind, id)) } }, WRITE);
    if (result.deletedCount > 0) await this.counted(kind);
    return result.deletedCount;
  }

  async snapshot(kind: LifecycleKind, ids: readonly string[]): Promise<LifecycleSnapshot> {
    const counter = key(CHANGES, kind);
    const found = await this.docs.find({ _id: { $in: [...ids.map((id) => key(kind, id)), counter] } }).toArray();
    const records = new Map<string, string>();
    let changeCount = 0;
    for (const doc of found) {
      if (doc._id === counter) changeCount = doc.n ?? 0;
      else records.set(doc._id.slice(kind.length + 1), doc.value);
    }
    return { records, changeCount };
  }


  /**
   * Counts a change after it is made (MongoDB has no transaction here): a reader that sees the
   * old count meanwhile reads as if it had come just before the change, and once the call
   * that changed the records returns, every reader sees the new count.
   */
  private async counted(kind: LifecycleKind): Promise<void> {
    await this.docs.updateOne({ _id: key(CHANGES, kind) }, { $inc: { n: 1 }, $setOnInsert: { kind: CHANGES, value: '' } }, { upsert: true, ...WRITE });
  }

  async list(kind: LifecycleKind, options: { readonly after?: string; readonly limit: number }): Promise<LifecycleRecord[]> {
    // `;` sorts right after `:`, so [kind:after, kind;) is exactly this kind's ids above `after`.
    const found = await this.docs
      .find({ _id: { $gt: key(kind, options.after ?? ''), $lt: `${kind};` } })
      .sort({ _id: 1 })
      .limit(options.limit)
      .toArray();
    return found.map((doc) => ({ id: doc._id.slice(kind.length + 1), value: doc.value }));
  }
}

/** The `_id` prefix of the documents that count changes per kind (`changes:<kind>`, field `n`). */
const CHANGES = 'changes';

function key(kind: LifecycleKind | typeof CHANGES, id: string): string {
  return `${kind}:${id}`;
}
