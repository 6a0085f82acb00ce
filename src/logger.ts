import pino, { type Logger } from 'pino';
import type { LogLevel } from './config';

export type { Logger };

/** Structured JSON logs on stderr, so stdout stays free for CLI output such as URIs and tokens. */
export function createLogger(level: LogLevel): Logger {
  return pino({ level, base: { service: 'audit-ledger' } }, pino.destination(2));
}
