/**
 * How far the server's V8 heap may grow past what it holds live before the next full
 * collection. Node sizes its heap from the machine's memory (about 4 GB on a 24 GB machine),
 * and with that much room V8 lets the old generation grow to up to four times what survived
 * the last full collection: a serving process whose live heap is 30 to 80 MB sat at 110 to
 * 150 MB of committed heap, most of it garbage, which was a third of its resident memory.
 *
 * A fixed growing factor of 1.5 (V8's `--heap-growing-percent`, which V8 reads at every
 * full collection, so it takes effect when set at run time, unlike `--max-old-space-size`,
 * which V8 reads only at start-up) keeps that slack to half the live heap. It sets no limit:
 * a burst of large batches still has the whole heap Node gave the process, so it cannot
 * run the server out of memory; it only costs a full collection more often.
 */
import v8 from 'node:v8';
import { ConfigError } from '../config';

export const SERVER_HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/** LEDGER_HEAP_GROWING_PERCENT is not a whole number from 0 to 1000: a configuration error like any other. */
function settingError(raw: string): ConfigError {
  return new ConfigError([`LEDGER_HEAP_GROWING_PERCENT must be a whole number from 0 to 1000 (0: V8's own heuristics; default ${SERVER_HEAP_GROWING_PERCENT}), got ${JSON.stringify(raw)}`]);
}

/**
 * Sets the server's heap growing factor: LEDGER_HEAP_GROWING_PERCENT (default 50; 0 leaves
 * V8's own heuristics, for an operator who fills in bulk and would rather spend memory than
 * CPU), unless the operator chose one on the node command line, which wins (Node refuses the
 * flag in NODE_OPTIONS). Returns the flag set, or undefined when none was.
 */
export function limitHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = (flags) => v8.setFlagsFromString(flags),
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const raw = env.LEDGER_HEAP_GROWING_PERCENT ?? '';
  if (raw !== '' && !/^\d{1,4}$/.test(raw)) throw settingError(raw);
  const percent = raw === '' ? SERVER_HEAP_GROWING_PERCENT : Number(raw);
  if (percent > 1000) throw settingError(raw);
  const given = execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`) || arg.startsWith('--heap_growing_percent'));
  if (given || percent === 0) return undefined;
  const flag = `${FLAG}=${percent}`;
  setFlags(flag);
  return flag;
}
