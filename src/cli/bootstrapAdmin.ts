/**
 * `bootstrap-admin`: creates the first ADMIN user and key, only while no ADMIN key exists. The
 * fixed ids make two concurrent bootstraps safe: the unique `_id` lets exactly one key in, and
 * a user left by a bootstrap that died before its key is reused. It is an operator action
 * outside the API, before anyone could be an actor, so it is not recorded in the log (the
 * admin's later actions are).
 */
import { API_KEYS_COLLECTION, ApiKeyStore } from '../auth/apiKeyStore';
import { loadConfig } from '../config';
import { ensureCollection } from '../db/collections';
import { openDatabase } from '../db/database';
import { Directory } from '../directory/directory';
import { CliError } from './cliError';

export const BOOTSTRAP_ADMIN_ID = 'bootstrap-admin';

export async function runBootstrapAdmin(opts: { name: string }): Promise<number> {
  const name = opts.name.trim();
  if (name.length === 0 || name.length > 128) throw new CliError('--name must be 1-128 characters', 2);
  const config = loadConfig();
  const database = await openDatabase(config, (line) => process.stderr.write(`${line}\n`), { shareRunningEngine: true });
  try {
    await ensureCollection(database.db, API_KEYS_COLLECTION);
    await Directory.ensureCollections(database.db);
    const directory = new Directory(database.db);
    const keys = new ApiKeyStore(database.db.collection(API_KEYS_COLLECTION.name));
    if ((await keys.countActiveAdmins()) > 0) {
      throw new CliError('an ADMIN key already exists; ask an admin to create keys with createApiKey', 1);
    }
    const user =
      (await directory.users.byId(BOOTSTRAP_ADMIN_ID)) ??
      (await directory.createUser({ name, type: 'HUMAN' }, BOOTSTRAP_ADMIN_ID).catch(async (err: unknown) => {
        if ((err as { code?: number }).code === 11000) return (await directory.users.byId(BOOTSTRAP_ADMIN_ID))!;
        throw err;
      }));
    const created = await keys.createWithId(BOOTSTRAP_ADMIN_ID, { name, roles: ['ADMIN'], userId: user._id, groupIds: [], createdBy: null }).catch((err: unknown) => {
      if ((err as { code?: number }).code === 11000) throw new CliError('an ADMIN key was bootstrapped already', 1);
      throw err;
    });
    process.stderr.write(`created ADMIN user ${user._id} and key ${created.doc._id} (${name}); the token below is shown only once\n`);
    process.stdout.write(`${created.token}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
