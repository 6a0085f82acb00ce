import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { startLedgerServer } from '../server/ledgerServer';
import { logProcessFailures } from '../server/processFailures';
import { CliError } from './cliError';
import { shutdownSignal } from './shutdownSignal';

export async function runServe(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Whatever the server creates (data folder, key file, the engine's files) is for its own user only.
  process.umask(0o077);
  const server = await startLedgerServer(config, logger);
  logProcessFailures(logger, () => server.stop());
  const signal = shutdownSignal();
  const outcome = await Promise.race([
    signal.then((s) => ({ kind: 'signal' as const, s })),
    server.ready.then(
      () => new Promise<never>(() => undefined),
      (err: unknown) => ({ kind: 'failed' as const, err }),
    ),
  ]);
  if (outcome.kind === 'failed') {
    logger.fatal({ err: outcome.err }, 'could not open the database');
    await server.stop();
    throw new CliError(outcome.err instanceof Error ? outcome.err.message : String(outcome.err));
  }
  logger.info({ signal: outcome.s }, 'shutting down');
  await server.stop();
  logger.info('stopped');
  return 0;
}
