/**
 * The MongoDB client the adapter works through. Every write is acknowledged by a majority and
 * journaled, and reads see only majority-committed data, because an acknowledged audit event
 * must survive a crash or a fail-over (never `w: 0`, never `w: 1`).
 */
import { MongoClient } from 'mongodb';

export { describeDatabase, mongoUriWithoutCredentials } from './mongoUri';

/** How long an operation waits for a usable server, unless the URI says otherwise. */
const SERVER_SELECTION_TIMEOUT_MS = 10_000;

export function connectClient(uri: string): MongoClient {
  // Options given here override the URI's: the durability settings always do, while the
  // wait for a server is the operator's to tune (`?serverSelectionTimeoutMS=`).
  const uriSetsSelectionTimeout = /[?&]serverSelectionTimeoutMS=/i.test(uri);
  return new MongoClient(uri, {
    writeConcern: { w: 'majority', journal: true },
    readConcern: { level: 'majority' },
    ...(!uriSetsSelectionTimeout && { serverSelectionTimeoutMS: SERVER_SELECTION_TIMEOUT_MS }),
  });
}
