/**
 * The `audit-ledger` command line. Each subcommand lives in its own module; this file only
 * parses arguments and maps failures to exit codes (0 ok, 1 error, 2 usage or, for `audit`,
 * evidence of a rewritten log).
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { VERSION } from '../version';
import { CliError } from './cliError';
import { ConfigError, engineCacheDir } from '../config';
import { EngineUnavailableError, ensureFerretdbBinary } from '../engine/ferretdbBinary';
import { runBootstrapAdmin } from './bootstrapAdmin';
import { runLocalDb } from './localDb';
import { runServe } from './serve';

export function parsePortOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return Number(value);
}

export async function main(argv: readonly string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('audit-ledger')
    .description('A GraphQL audit ledger with Merkle transparency proofs')
    .version(VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command('serve')
    .description('run the server (HTTP on PORT, GraphQL at /graphql)')
    .action(async () => {
      exitCode = await runServe();
    });

  program
    .command('local-db')
    .description('run the embedded MongoDB-compatible engine in the foreground and print its URI')
    .option('--data-dir <dir>', 'data folder (the engine keeps its files in <dir>/db)', process.env.LEDGER_DATA_DIR || './data')
    .option('--port <n>', 'loopback port (default: a free one)', parsePortOption)
    .action(async (opts: { dataDir: string; port?: number }) => {
      exitCode = await runLocalDb(opts);
    });

  program
    .command('bootstrap-admin')
    .description('create the first ADMIN API key (only while none exists); prints its token as the last line')
    .requiredOption('--name <name>', 'a name for the key, e.g. the person holding it')
    .action(async (opts: { name: string }) => {
      exitCode = await runBootstrapAdmin(opts);
    });

  program
    .command('install-engine')
    .description('provision the embedded FerretDB engine binary (from the cache, else built with Go) and print its path')
    .action(async () => {
      const binary = await ensureFerretdbBinary({
        cacheDir: engineCacheDir(),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${binary}\n`);
    });

  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`audit-ledger: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof EngineUnavailableError || err instanceof ConfigError) {
      process.stderr.write(`audit-ledger: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  return exitCode;
}
