/**
 * The `audit-ledger` command line. Each subcommand lives in its own module; this file only
 * parses arguments and maps failures to exit codes (0 ok, 1 error, 2 usage or, for `audit` and
 * `monitor`, evidence of a rewritten log: their usage errors exit 1; see README).
 */
import { Command, CommanderError } from 'commander';
import { VERSION } from '../version';
import { CliError } from './cliError';
import { ConfigError, engineCacheDir } from '../config';
import { LedgerError } from '../errors';
import { EngineUnavailableError, ensureFerretdbBinary } from '../storage/mongodb/engine/ferretdbBinary';
import { runBootstrapAdmin } from './bootstrapAdmin';
import type * as LocalDb from './localDb';
import { runServe } from './serve';
import { runAuditCommand, type AuditCommandOptions } from './audit';
import { durationOption, leafIndicesOption, portOption, positiveIntOption, wholeNumberOption, urlOption, usageErrorsExitOne } from './cliOptions';
import { runMonitorCommand, type MonitorCommandOptions } from './monitor';
import { witnessKeyOption } from './witnessOptions';
import { runVerifyDb } from './verifyDb';
import { runRotateKek } from './rotateKek';
import { addLifecycleCommands } from './lifecycleCommands';
import { addExportCommand } from './exportCommand';
import { runVerifyBundle } from './verifyBundle';

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
    .description('run FerretDB, a MongoDB-compatible engine (the mongodb adapter\'s test engine), in the foreground and print its URI')
    .option('--data-dir <dir>', 'data folder (the engine keeps its files in <dir>/db)', process.env.LEDGER_DATA_DIR || './data')
    .option('--port <n>', 'loopback port (default: a free one)', portOption)
    .action(async (opts: { dataDir: string; port?: number }) => {
      // The test engine's module loads the MongoDB driver: only for this command (require,
      // not import(), for the reason in storage/open.ts).
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { runLocalDb } = require('./localDb') as typeof LocalDb;
      exitCode = await runLocalDb(opts);
    });

  program
    .command('bootstrap-admin')
    .description('create the first ADMIN API key (only while none exists); prints its token as the last line')
    .requiredOption('--name <name>', 'a name for the key, e.g. the person holding it')
    .option('--create', 'create the ledger database if the configured one holds none (default: refuse)')
    .action(async (opts: { name: string; create?: boolean }) => {
      exitCode = await runBootstrapAdmin(opts);
    });

  program
    .command('install-engine')
    .description('provision the FerretDB test engine for the mongodb adapter (from the cache, else built with Go) and print its path')
    .action(async () => {
      const binary = await ensureFerretdbBinary({
        cacheDir: engineCacheDir(),
        onProgress: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${binary}\n`);
    });

  program
    .command('verify-db')
    .description('operator check: recompute every leaf, subtree hash and checkpoint root from the database; exit 1 naming every affected leaf')
    .option('--vkey <key>', "the log's verifier key (default: derived from LEDGER_SIGNING_KEY_FILE)")
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .option('--batch-size <n>', 'events per database round trip', positiveIntOption)
    .option('--workers <n>', 'worker threads that read the events and re-derive their leaves while the main thread builds the tree (default: one per core; 0: all in the main thread)', wholeNumberOption)
    .action(async (opts: { vkey?: string; progress?: boolean; batchSize?: number; workers?: number }) => {
      exitCode = await runVerifyDb(opts);
    });

  program
    .command('rotate-kek')
    .description('re-wrap every data key and the search key under a new key-encryption key (server stopped; resumable)')
    .option('--new-key-file <file>', 'the new key file (AUDIT-LEDGER-KEK-V1+<base64>)')
    .option('--new-key-env <var>', 'an environment variable holding the new key')
    .option('--batch-size <n>', 'data keys per database round trip', positiveIntOption)
    .action(async (opts: { newKeyFile?: string; newKeyEnv?: string; batchSize?: number }) => {
      exitCode = await runRotateKek(opts);
    });

  addLifecycleCommands(program, (code) => (exitCode = code));
  addExportCommand(program, (code) => (exitCode = code));

  program
    .command('verify-bundle')
    .description('check an evidence bundle (export --format bundle) offline with the log\'s verifier key; exit 1 naming every entry that fails')
    .argument('<file>', 'the bundle')
    .requiredOption('--vkey <key>', "the log's verifier key (name+hex8+base64)")
    .action(async (file: string, opts: { vkey: string }) => {
      exitCode = await runVerifyBundle(file, opts);
    });

  usageErrorsExitOne(
    program
      .command('audit')
      .description('external auditor: verify the latest checkpoint and its consistency with the one saved in --state (exit 2 on evidence of a rewritten log, 3 when witness cosignatures are missing)')
      .requiredOption('--url <url>', 'the ledger server, e.g. http://127.0.0.1:4000', urlOption)
      .requiredOption('--vkey <key>', "the log's pinned verifier key (name+hex8+base64)")
      .requiredOption('--state <file>', 'where the last verified checkpoint is kept')
      .option('--leaf <indices...>', 'also prove the inclusion of these leaf indices', leafIndicesOption)
      .option('--all-events', 'also verify every event the API key may read (needs --token or AUDIT_LEDGER_TOKEN)')
      .option('--token <token>', 'API key (default: AUDIT_LEDGER_TOKEN)')
      .option('--witness <vkey>', 'a witness cosignature key (name+hex8+base64); repeat for each witness', witnessKeyOption)
      .option('--witness-quorum <k>', 'how many --witness keys must have cosigned (default: all)', wholeNumberOption)
      .option('--witness-policy <file>', 'a witness policy file (witness, group, quorum lines) instead of --witness'),
  ).action(async (opts: AuditCommandOptions) => {
    exitCode = await runAuditCommand(opts);
  });

  usageErrorsExitOne(
    program
      .command('monitor')
      .description('audit in a loop; exit 2 on inconsistency or a bad signature, 3 when stale or frozen (see README)')
      .requiredOption('--url <url>', 'the ledger server, e.g. http://127.0.0.1:4000', urlOption)
      .requiredOption('--vkey <key>', "the log's pinned verifier key (name+hex8+base64)")
      .requiredOption('--state <file>', 'where the last verified checkpoint is kept')
      .option('--interval <duration>', 'time between polls: 500ms, 30s, 10m, 1h', durationOption, 30_000)
      .option('--stale-after <duration>', 'alert when the checkpoint has not advanced for this long (default: off)', durationOption)
      .option('--webhook <url>', 'POST a JSON alert here', urlOption)
      .option('--max-polls <n>', 'stop after n polls', positiveIntOption)
      .option('--token <token>', 'API key (default: AUDIT_LEDGER_TOKEN)')
      .option('--witness <vkey>', 'a witness cosignature key (name+hex8+base64); repeat for each witness', witnessKeyOption)
      .option('--witness-quorum <k>', 'how many --witness keys must have cosigned (default: all)', wholeNumberOption)
      .option('--witness-policy <file>', 'a witness policy file (witness, group, quorum lines) instead of --witness')
      .option('--max-cosignature-age <duration>', 'with witnesses: alert "frozen" (exit 3) when the newest cosignature is older (default: 30m)', durationOption),
  ).action(async (opts: MonitorCommandOptions) => {
    exitCode = await runMonitorCommand(opts);
  });

  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      process.stderr.write(`audit-ledger: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof EngineUnavailableError || err instanceof ConfigError || err instanceof LedgerError) {
      process.stderr.write(`audit-ledger: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  return exitCode;
}
