import { ConfigError, loadConfig } from '../config';
import { createLogger, type Logger } from '../logger';
import { type LedgerServer, startLedgerServer } from '../server/ledgerServer';
import { logProcessFailures } from '../server/processFailures';
import { CliError } from './cliError';
import { limitHeapGrowth } from './heapGrowth';
import { shutdownSignal } from './shutdownSignal';

/** Shutdown ran out of time, or gave up work because the database did not answer. */
export const SHUTDOWN_INCOMPLETE_EXIT = 1;

export async function runServe(): Promise<number> {
  let config;
  try {
    // Before the server allocates: the first full collection already sizes the heap by it.
    limitHeapGrowth();
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message, 2);
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Whatever the server creates (data folder, key file, the engine's files) is for its own user only.
  process.umask(0o077);
  const server = await startLedgerServer(config, logger);
  logProcessFailures(logger, () => server.stop(), config.shutdownTimeoutMs);
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
    if ((await stopWithin(server, config.shutdownTimeoutMs, logger)) === 'late') process.exit(1);
    throw new CliError(outcome.err instanceof Error ? outcome.err.message : String(outcome.err));
  }
  logger.info({ signal: outcome.s, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
  const stop = await stopWithin(server, config.shutdownTimeoutMs, logger);
  // Whatever is still waiting holds handles (sockets, timers) that would keep the process alive.
  if (stop === 'late') process.exit(SHUTDOWN_INCOMPLETE_EXIT);
  if (stop === 'failed') return SHUTDOWN_INCOMPLETE_EXIT;
  const undone = server.undone();
  if (undone.length > 0) {
    logger.error({ undone }, 'stopped, but the database did not answer: work was given up (acknowledged events are all stored)');
    return SHUTDOWN_INCOMPLETE_EXIT;
  }
  logger.info('stopped');
  return 0;
}

/** Stops the server, or after `timeoutMs` logs what it was still waiting on ('late'). */
async function stopWithin(server: LedgerServer, timeoutMs: number, logger: Logger): Promise<'stopped' | 'failed' | 'late'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), timeoutMs);
  });
  const stopped = server.stop().then(
    () => 'stopped' as const,
    (err: unknown) => {
      logger.error({ err }, 'shutdown failed');
      return 'failed' as const;
    },
  );
  try {
    const finished = await Promise.race([stopped, late]);
    if (finished === 'late') {
      logger.error(
        { pending: server.pending(), undone: server.undone(), timeoutMs },
        'shutdown did not finish within LEDGER_SHUTDOWN_TIMEOUT_MS (the database does not answer?); exiting with work pending',
      );
    }
    return finished;
  } finally {
    clearTimeout(timer);
  }
}
