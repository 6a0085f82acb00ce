import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose module is `entry` (a path without its extension, beside the
 * caller): the compiled `.js` in a build, or, running from the sources (tests, ts-node), the
 * `.ts` through ts-node, which a worker thread does not inherit from its parent.
 */
export function startWorkerThread(entry: string, workerData: unknown): Worker {
  const compiled = `${entry}.js`;
  if (existsSync(compiled)) return new Worker(compiled, { workerData });
  return new Worker(`${entry}.ts`, { workerData, execArgv: ['--require', require.resolve('ts-node/register/transpile-only')] });
}
