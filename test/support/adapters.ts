/**
 * The storage adapters a suite runs on. SQLite (the embedded default) always; MongoDB when
 * the run has a MongoDB-wire engine (globalSetup.ts). Without one, the mongodb suites are
 * skipped with a message naming what to install, and under CI=true that is a failure: CI
 * must exercise both adapters.
 */
import type { StorageKind } from '../../src/storage/port';

export type AdapterName = StorageKind;

export const ADAPTERS: readonly AdapterName[] = ['sqlite', 'mongodb'];

export function mongoUnavailable(): string | undefined {
  if (process.env.MONGODB_URI) return undefined;
  return process.env.LEDGER_TEST_MONGODB_UNAVAILABLE ?? 'no MongoDB-wire engine was started';
}

/** `describe` once per adapter; a missing mongodb engine skips (fails under CI=true) with a reason. */
export function describeEachAdapter(title: string, body: (adapter: AdapterName) => void, only: readonly AdapterName[] = ADAPTERS): void {
  for (const adapter of only) {
    const missing = adapter === 'mongodb' ? mongoUnavailable() : undefined;
    if (!missing) {
      describe(`${title} [${adapter}]`, () => body(adapter));
      continue;
    }
    const why = `the mongodb adapter's suite needs its test engine: ${missing}. Install Go (e.g. at /usr/local/go) so FerretDB can be built through the Go module proxy, or set LEDGER_TEST_MONGODB_URI to a MongoDB.`;
    if (process.env.CI === 'true') {
      describe(`${title} [${adapter}]`, () => {
        it('has its test engine (required under CI=true)', () => {
          throw new Error(why);
        });
      });
    } else {
      describe.skip(`${title} [${adapter}] (skipped: ${why})`, () => body(adapter));
    }
  }
}
