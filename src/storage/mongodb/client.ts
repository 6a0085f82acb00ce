/**
 * The MongoDB client the adapter works through. Every write is acknowledged by a majority and
 * journaled, and reads see only majority-committed data, because an acknowledged audit event
 * must survive a crash or a fail-over (never `w: 0`, never `w: 1`).
 */
import { MongoClient } from 'mongodb';

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

const SCHEME = /^(mongodb(?:\+srv)?:\/\/)(.*)$/s;
/** Connection options whose values are secrets (passwords, session tokens). */
const SECRET_OPTION = /password|secret|token|authMechanismProperties/i;

/**
 * The URI with its `user:password@` removed and secret-bearing options masked, for logs and
 * operators. Password characters such as `/` or `@` ought to be percent-encoded, but a
 * half-encoded password must not leak either: everything before the last `@` ahead of the
 * options goes.
 */
export function mongoUriWithoutCredentials(uri: string): string {
  const match = SCHEME.exec(uri);
  if (!match) return '(unparsable MongoDB URI)';
  const scheme = match[1] ?? '';
  const afterScheme = match[2] ?? '';
  const queryAt = afterScheme.indexOf('?');
  let rest = queryAt === -1 ? afterScheme : afterScheme.slice(0, queryAt);
  const query = queryAt === -1 ? undefined : afterScheme.slice(queryAt + 1);
  const at = rest.lastIndexOf('@');
  if (at !== -1) rest = rest.slice(at + 1);
  if (query === undefined) return scheme + rest;
  const options = query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_OPTION.test(decodeURIComponentSafe(name)) ? `${name}=REDACTED` : pair;
    })
    .join('&');
  return `${scheme}${rest}?${options}`;
}

/** `mongodb://host1,host2/dbName`: which database this is, with neither credentials nor options. */
export function describeDatabase(uri: string, dbName: string): string {
  const bare = mongoUriWithoutCredentials(uri);
  const match = SCHEME.exec(bare);
  if (!match) return `${bare} database ${dbName}`;
  const scheme = match[1] ?? '';
  const hosts = (match[2] ?? '').split(/[/?]/, 1)[0] ?? '';
  return `${scheme}${hosts}/${dbName}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
