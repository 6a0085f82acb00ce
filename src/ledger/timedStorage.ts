/**
 * The storage port with every call timed for the database-latency metric: a decorator over
 * each repository, so neither the adapters nor their callers know about metrics. Only calls
 * that return a promise are timed (the integrity reader's streams and plain properties pass
 * through untouched).
 */
import type { LedgerMetrics } from '../log/metrics';
import type { LedgerStorage } from '../storage/port';

const REPOSITORIES = ['events', 'tiles', 'checkpoints', 'head', 'cosignatures', 'idempotency', 'lease', 'users', 'groups', 'apiKeys', 'integrity', 'lifecycle', 'streams'] as const;

export function timedStorage(storage: LedgerStorage, metrics: LedgerMetrics): LedgerStorage {
  const timed: Record<string, unknown> = {};
  for (const name of REPOSITORIES) timed[name] = timedRepository(name, storage[name], metrics);
  return { ...storage, ...timed, ping: timedCall('storage.ping', () => storage.ping(), metrics) };
}

function timedRepository<T extends object>(name: string, repository: T, metrics: LedgerMetrics): T {
  return new Proxy(repository, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string') return value;
      const operation = `${name}.${property}`;
      return (...args: unknown[]): unknown => {
        const started = performance.now();
        const result: unknown = Reflect.apply(value, target, args);
        if (!(result instanceof Promise)) return result;
        return result.then(
          (v: unknown) => {
            metrics.databaseCall(operation, (performance.now() - started) / 1000, false);
            return v;
          },
          (err: unknown) => {
            metrics.databaseCall(operation, (performance.now() - started) / 1000, true);
            throw err;
          },
        );
      };
    },
  });
}

function timedCall(operation: string, call: () => Promise<void>, metrics: LedgerMetrics): () => Promise<void> {
  return async () => {
    const started = performance.now();
    let failed = false;
    try {
      await call();
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      metrics.databaseCall(operation, (performance.now() - started) / 1000, failed);
    }
  };
}
