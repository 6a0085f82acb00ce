/**
 * `bootstrap-admin`: creates the first ADMIN key, only while none exists. The key's fixed id
 * makes two concurrent bootstraps safe: the unique `_id` lets exactly one of them succeed.
 */
import { API_KEYS_COLLECTION, ApiKeyStore } from '../auth/apiKeyStore';
import { loadConfig } from '../config';
import { ensureCollection } from '../db/collections';
import { openDatabase } from '../db/database';
import { CliError } from './cliError';

export const BOOTSTRAP_ADMIN_ID = 'bootstrap-admin';

export async function runBootstrapAdmin(opts: { name: string }): Promise<number> {
  const name = opts.name.trim();
  if (name.length === 0 || name.length > 128) throw new CliError('--name must be 1-128 characters', 2);
  const config = loadConfig();
  const database = await openDatabase(config, (line) => process.stderr.write(`${line}\n`), { shareRunningEngine: true });
  try {
    await ensureCollection(database.db, API_KEYS_COLLECTION);
    const keys = new ApiKeyStore(database.db.collection(API_KEYS_COLLECTION.name));
    if ((await keys.countActiveAdmins()) > 0) {
      throw new CliError('an ADMIN key already exists; ask an admin to create keys with createApiKey', 1);
    }
    const created = await keys.createWithId(BOOTSTRAP_ADMIN_ID, name, ['ADMIN']).catch((err: unknown) => {
      if ((err as { code?: number }).code === 11000) throw new CliError('an ADMIN key was bootstrapped already', 1);
      throw err;
    });
    process.stderr.write(`created ADMIN key ${created.doc._id} (${name}); the token below is shown only once\n`);
    process.stdout.write(`${created.token}\n`);
    return 0;
  } finally {
    await database.close();
  }
}
