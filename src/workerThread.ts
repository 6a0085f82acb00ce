import { existsSync } from 'node:fs';
import { type ResourceLimits, Worker } from 'node:worker_threads';

/**
 * Starts the worker thread whose module is `entry` (a path without its extension, beside the
 * caller): the compiled `.js` in a build, or, running from the sources (tests, ts-node), the
 * `.ts` through ts-node, which a worker thread does not inherit from its parent.
 */
export function startWorkerThread(entry: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const compiled = `${entry}.js`;
  const limits = resourceLimits && { resourceLimits };
  if (existsSync(compiled)) return new Worker(compiled, { workerData, ...limits });
  return new Worker(`${entry}.ts`, { workerData, ...limits, execArgv: ['--require', require.resolve('ts-node/register/transpile-only')] });
}
