/**
 * Stream records in one `streams` collection, `_id` = `<kind>:<id>` (every read, listing and
 * update is served by the primary key on every engine, FerretDB v1 included), with a
 * `version` field for compare-and-set.
 *
 * A conditional `updateOne({ _id, version })` is atomic on MongoDB, but FerretDB v1 reads and
 * then writes, so two writers of one version both "match". The unique `_id` is atomic on
 * both, so an update first claims its new version by inserting `claim:<kind>:<id>:<n>`: of
 * two writers from the same version, one insert fails. The winner then moves the record and
 * deletes its claim (a later writer from an older version finds the record's version moved
 * and fails at the update), so claims do not accumulate. A claim left by a writer that died
 * between its two steps would block every later writer of that version, so a claim names
 * when it was made, and one older than STALE_CLAIM_MS is taken over (deleted, then claimed
 * afresh: of two writers doing so, one insert still fails).
 */
import type { Collection, Db } from 'mongodb';
import type { StreamKind, StreamStore, VersionedRecord } from '../port';
import { STREAMS_COLLECTION, type StreamDoc } from './documents';
import { onlyDuplicateKeys } from './driverErrors';
import { assertFieldsMatchSchema, assertMatchesSchema } from './jsonSchema';

const WRITE = { writeConcern: { w: 'majority' as const, j: true } };
/** No live writer holds a claim this long (its update is one round trip); as long as a lease lasts. */
export const STALE_CLAIM_MS = 10_000;

export class MongoStreamStore implements StreamStore {
  private readonly docs: Collection<StreamDoc>;

  constructor(db: Db) {
    this.docs = db.collection<StreamDoc>(STREAMS_COLLECTION.name);
  }

  async insert(kind: StreamKind, id: string, value: string): Promise<boolean> {
    const doc: StreamDoc = { _id: key(kind, id), kind, value, version: 1 };
    assertMatchesSchema(STREAMS_COLLECTION.name, STREAMS_COLLECTION.schema, doc);
    try {
      await this.docs.insertOne(doc, WRITE);
      return true;
    } catch (err) {
      if (onlyDuplicateKeys(err)) return false;
      throw err;
    }
  }

  async get(kind: StreamKind, id: string): Promise<VersionedRecord | undefined> {
    const doc = await this.docs.findOne({ _id: key(kind, id) });
    return doc ? { id, value: doc.value, version: doc.version } : undefined;
  }

  async list(kind: StreamKind, options: { readonly after?: string; readonly limit: number }): Promise<VersionedRecord[]> {
    // `;` sorts right after `:`, so [kind:after, kind;) is exactly this kind's ids above `after`.
    const found = await this.docs
      .find({ _id: { $gt: key(kind, options.after ?? ''), $lt: `${kind};` } })
      .sort({ _id: 1 })
      .limit(options.limit)
      .toArray();
    return found.map((doc) => ({ id: doc._id.slice(kind.length + 1), value: doc.value, version: doc.version }));
  }

  /** Inserts the claim (its value: when it was made); false when it is already held. */
  private async claim(claim: string, version: number): Promise<boolean> {
    try {
      await this.docs.insertOne({ _id: claim, kind: 'claim', value: new Date().toISOString(), version }, WRITE);
      return true;
    } catch (err) {
      if (onlyDuplicateKeys(err)) return false;
      throw err;
    }
  }

  async update(kind: StreamKind, id: string, version: number, value: string): Promise<boolean> {
    assertFieldsMatchSchema(STREAMS_COLLECTION.name, STREAMS_COLLECTION.schema, { value, version: version + 1 });
    const claim = claimKey(kind, id, version + 1);
    if (!(await this.claim(claim, version + 1))) {
      const held = await this.docs.findOne({ _id: claim });
      if (!held || Date.now() - Date.parse(held.value) <= STALE_CLAIM_MS) return false;
      await this.docs.deleteOne({ _id: claim, value: held.value }, WRITE);
      if (!(await this.claim(claim, version + 1))) return false;
    }
    try {
      const result = await this.docs.updateOne({ _id: key(kind, id), version }, { $set: { value, version: version + 1 } }, WRITE);
      return result.matchedCount === 1;
    } finally {
      await this.docs.deleteOne({ _id: claim }, WRITE);
    }
  }
}

export function claimKey(kind: StreamKind, id: string, version: number): string {
  return `claim:${key(kind, id)}:${version}`;
}

function key(kind: StreamKind, id: string): string {
  return `${kind}:${id}`;
}
