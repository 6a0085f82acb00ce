/**
 * MongoDB URIs as operators and logs see them: without credentials or secret options. No
 * driver here, so naming the database costs a server on SQLite no load of the MongoDB driver.
 */
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
