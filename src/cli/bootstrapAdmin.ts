/**
 * `bootstrap-admin`: creates the first ADMIN user and key, only while no ADMIN key exists
 * (the rules live in the directory service). It is an operator action outside the API,
 * before anyone could be an actor, so it is not recorded in the log (the admin's later
 * actions are). It refuses a database that holds no ledger unless told to create one, so a
 * mistyped data folder or URI does not quietly start a second, empty ledger.
 */
import { loadConfig } from '../config';
import { DirectoryInputError, Directory } from '../directory/directory';
import { describeStorage, openStorage } from '../storage/open';
import { WrongDatabaseError } from '../storage/errors';
import { CliError } from './cliError';

export async function runBootstrapAdmin(opts: { name: string; create?: boolean }): Promise<number> {
  const name = opts.name.trim();
  if (name.length === 0 || name.length > 128) throw new CliError('--name must be 1-128 characters', 2);
  const config = loadConfig();
  process.stderr.write(`database: ${describeStorage(config)}\n`);
  const storage = await openStorage(config, { create: opts.create ?? false }).catch((err: unknown) => {
    if (err instanceof WrongDatabaseError) throw new CliError(`${err.message} (start the server once, or pass --create)`, 1);
    throw err;
  });
  try {
    const created = await new Directory(storage).bootstrapAdmin(name);
    process.stderr.write(`created ADMIN user ${created.user.id} and key ${created.key.id} (${name}); the token below is shown only once\n`);
    process.stdout.write(`${created.token}\n`);
    return 0;
  } catch (err) {
    if (err instanceof DirectoryInputError) throw new CliError(err.message, 1);
    throw err;
  } finally {
    await storage.close();
  }
}
