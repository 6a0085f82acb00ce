/**
 * Option parsers shared by the verification commands (commander turns their
 * InvalidArgumentError into a usage error), and the exit-code discipline of `audit` and
 * `monitor`: there exit code 2 means the log was caught rewriting history, so a mistyped
 * option must not produce it; their usage errors exit 1 instead.
 */
import { type Command, type CommanderError, InvalidArgumentError } from 'commander';
import { CliError } from './cliError';
import { DurationError, parseDuration } from './duration';

export function portOption(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 65535) throw new InvalidArgumentError('expected a port number 0-65535');
  return Number(value);
}

export function durationOption(value: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    if (err instanceof DurationError) throw new InvalidArgumentError(err.message);
    throw err;
  }
}

export function urlOption(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL');
  return value.replace(/\/+$/, '');
}

export function positiveIntOption(value: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('expected a whole number above zero');
  return Number(value);
}

export function wholeNumberOption(value: string): number {
  if (!/^(0|[1-9]\d{0,3})$/.test(value)) throw new InvalidArgumentError('expected a whole number (0 or more)');
  return Number(value);
}

/** For variadic `<indices...>`: each value may also be a comma-separated list. */
export function leafIndicesOption(value: string, previous: number[] | undefined): number[] {
  const out = [...(previous ?? [])];
  for (const part of value.split(',')) {
    if (!/^\d{1,15}$/.test(part)) throw new InvalidArgumentError(`${JSON.stringify(part)} is not a leaf index`);
    out.push(Number(part));
  }
  return out;
}

/** Makes the command's usage errors exit 1 (as one `audit-ledger: …` line), keeping 2 for evidence. */
export function usageErrorsExitOne(command: Command): Command {
  return command.configureOutput({ outputError: () => undefined }).exitOverride((err: CommanderError) => {
    if (err.exitCode === 0) throw err;
    throw new CliError(`${command.name()}: ${err.message.replace(/^error: /, '')}`, 1);
  });
}
