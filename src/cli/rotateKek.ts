/**
 * `rotate-kek`: re-wraps every data key and the search key of an encrypted ledger under a new
 * key-encryption key (src/lifecycle/rotation.ts), without touching events. The current key
 * is found as the server finds it (LEDGER_KEK_FILE / LEDGER_KEK / `$LEDGER_DATA_DIR/kek.key`),
 * the new one is named by --new-key-file or --new-key-env.
 *
 * It runs with the server stopped: a running server holds the old KEK in memory. On SQLite it
 * takes the data folder's server lock (so it refuses while a server runs, and no server starts
 * during it); on MongoDB the operator stops every server first. Interrupted, it is simply run
 * again: it resumes, and no server opens the ledger until it has finished.
 *
 * Exit 0 when rotated, 1 when it could not be (wrong current key, missing new key, unfinished
 * rotation to another key, a server running), 2 for a usage mistake (the same key twice).
 */
import { loadConfig } from '../config';
import { KeyError, localKek } from '../lifecycle/envelope';
import { parseKek, readKekFile } from '../lifecycle/kekFile';
import { resolveKek } from '../lifecycle/kekSource';
import { KeyConfigurationError } from '../lifecycle/keyring';
import { RotationError, rotateKek } from '../lifecycle/rotation';
import { WrongDatabaseError } from '../storage/errors';
import { describeStorage, holdDataFolder, openStorage } from '../storage/open';
import { CliError } from './cliError';

export interface RotateKekOptions {
  readonly newKeyFile?: string;
  readonly newKeyEnv?: string;
  readonly batchSize?: number;
}

export async function runRotateKek(opts: RotateKekOptions): Promise<number> {
  if ((opts.newKeyFile === undefined) === (opts.newKeyEnv === undefined)) {
    throw new CliError('rotate-kek: give the new key with exactly one of --new-key-file FILE or --new-key-env VAR', 2);
  }
  const newKek = localKek(await newKey(opts));
  const config = loadConfig();
  const described = describeStorage(config);
  process.stderr.write(`database: ${described}\n`);
  const lock = await holdDataFolder(config).catch((err: unknown) => {
    if (err instanceof WrongDatabaseError) throw new CliError(`${err.message} (rotate-kek runs with the server stopped)`, 1);
    throw err;
  });
  try {
    const storage = await openStorage(config, { create: false }).catch((err: unknown) => {
      if (err instanceof WrongDatabaseError) throw new CliError(err.message, 1);
      throw err;
    });
    try {
      const current = await resolveKek(config.kek, storage.lifecycle).catch((err: unknown) => {
        if (err instanceof KeyConfigurationError) throw new CliError(`rotate-kek: the current key: ${err.message}`, 1);
        throw err;
      });
      if (!current.kek) throw new CliError('rotate-kek: this ledger holds no encrypted data (it has no keyring): there is nothing to rotate', 1);
      const total = await storage.events.estimatedCount();
      process.stderr.write(`rotate-kek: re-wrapping the data keys (at most one per event, ${total} events) from KEK ${current.kek.id} to ${newKek.id}\n`);
      let lastReport = 0;
      const result = await rotateKek(storage.lifecycle, current.kek, newKek, {
        ...(opts.batchSize !== undefined && { batch: opts.batchSize }),
        onProgress: (p) => {
          const done = p.rewrapped + p.already + p.derived;
          if (done - lastReport < 10_000) return;
          lastReport = done;
          process.stderr.write(`rotate-kek: ${done} data keys seen\n`);
        },
      }).catch((err: unknown) => {
        if (err instanceof RotationError) throw new CliError(`rotate-kek: ${err.message}`, err.exitCode);
        throw err;
      });
      process.stdout.write(
        [
          `rotate-kek ${described}: the ledger's keys are now wrapped under KEK ${result.to} (was ${result.from})`,
          `  data keys     ${result.rewrapped} re-wrapped${result.already > 0 ? `, ${result.already} already under the new KEK (an interrupted run resumed)` : ''}${
            result.derived > 0 ? `, ${result.derived} derived from seeds (untouched: the derivation key is re-wrapped)` : ''
          }`,
          `  search key    re-wrapped; events, blind indexes and proofs untouched`,
          `  next          start the server with the new key (LEDGER_KEK_FILE / LEDGER_KEK), back it up apart from the database,`,
          `                then destroy the old key and its copies: backups taken before now open only with it`,
        ].join('\n') + '\n',
      );
      return 0;
    } finally {
      await storage.close();
    }
  } finally {
    await lock.release();
  }
}

async function newKey(opts: RotateKekOptions): Promise<Uint8Array> {
  try {
    if (opts.newKeyFile !== undefined) return await readKekFile(opts.newKeyFile);
    const name = opts.newKeyEnv!;
    const value = process.env[name];
    if (value === undefined || value === '') throw new CliError(`rotate-kek: the environment variable ${name} (--new-key-env) is not set`, 1);
    return parseKek(value, `the environment variable ${name}`);
  } catch (err) {
    if (err instanceof KeyError) throw new CliError(`rotate-kek: the new key: ${err.message}`, 1);
    throw err;
  }
}
