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

export const SERVER_HEAP_GROWING_PERCENT = 50;

const FLAG = '--heap-growing-percent';

/**
 * Sets the server's heap growing factor, unless the operator chose one on the node command
 * line (`node --heap-growing-percent=0 bin/audit-ledger.js serve` gives V8's own back; Node
 * refuses the flag in NODE_OPTIONS). Returns the flag set, or undefined when the operator's
 * choice stands.
 */
export function limitHeapGrowth(
  execArgv: readonly string[] = process.execArgv,
  setFlags: (flags: string) => void = (flags) => v8.setFlagsFromString(flags),
): string | undefined {
  const given = execArgv.some((arg) => arg === FLAG || arg.startsWith(`${FLAG}=`) || arg.startsWith('--heap_growing_percent'));
  if (given) return undefined;
  const flag = `${FLAG}=${SERVER_HEAP_GROWING_PERCENT}`;
  setFlags(flag);
  return flag;
}
