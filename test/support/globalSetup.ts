import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineCacheDir } from '../../src/config';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../src/storage/mongodb/engine/embeddedEngine';
import { EngineUnavailableError } from '../../src/storage/mongodb/engine/ferretdbBinary';

declare global {
  var __LEDGER_TEST_ENGINE__: EmbeddedEngine | undefined;
}

/**
 * One MongoDB-wire engine per test run for the `mongodb` adapter's suites (each test file
 * then works in databases of its own): `LEDGER_TEST_MONGODB_URI` when it names a real
 * MongoDB, else the embedded FerretDB test engine. Without Go to build FerretDB the
 * mongodb suites are skipped (see support/adapters.ts), and under CI=true they fail.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.LEDGER_TEST_MONGODB_URI) {
    process.env.MONGODB_URI = process.env.LEDGER_TEST_MONGODB_URI;
    return;
  }
  delete process.env.MONGODB_URI;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-test-'));
  process.env.LEDGER_TEST_DATA_DIR = dataDir;
  try {
    const engine = await startEmbeddedEngine({
      dataDir,
      cacheDir: engineCacheDir(),
      onProgress: (line) => process.stderr.write(`${line}\n`),
    });
    globalThis.__LEDGER_TEST_ENGINE__ = engine;
    process.env.MONGODB_URI = engine.uri;
  } catch (err) {
    if (!(err instanceof EngineUnavailableError)) throw err;
    process.env.LEDGER_TEST_MONGODB_UNAVAILABLE = err.message;
  }
}
