/**
 * Failures nobody caught are logged through pino as one JSON line (`err` serialised, stack
 * included as a string) instead of Node's multi-line stack on stderr, which broke the
 * JSON-lines log; then the server stops in order (so the embedded engine is not orphaned)
 * and the process exits 1, as Node would have.
 */
import type { Logger } from '../logger';

export function logProcessFailures(logger: Logger, shutdown: () => Promise<void>, shutdownTimeoutMs = 10_000): void {
  let failing = false;
  const fail = (err: unknown, msg: string): void => {
    logger.fatal({ err }, msg);
    if (failing) return;
    failing = true;
    const timer = setTimeout(() => process.exit(1), shutdownTimeoutMs);
    timer.unref();
    shutdown().then(
      () => process.exit(1),
      (stopErr: unknown) => {
        logger.fatal({ err: stopErr }, 'shutdown after a fatal error failed');
        process.exit(1);
      },
    );
  };
  process.on('uncaughtException', (err) => fail(err, 'uncaught exception'));
  process.on('unhandledRejection', (reason) => fail(reason, 'unhandled promise rejection'));
}
