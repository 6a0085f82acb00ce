import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { engineCacheDir } from '../../src/config';
import { type EmbeddedEngine, startEmbeddedEngine } from '../../src/engine/embeddedEngine';

declare global {
  var __LEDGER_TEST_ENGINE__: EmbeddedEngine | undefined;
}

/** One engine per test run; each test file then works in a database of its own. */
export default async function globalSetup(): Promise<void> {
  if (process.env.MONGODB_URI) return;
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'audit-ledger-test-'));
  const engine = await startEmbeddedEngine({
    dataDir,
    cacheDir: engineCacheDir(),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  globalThis.__LEDGER_TEST_ENGINE__ = engine;
  process.env.MONGODB_URI = engine.uri;
  process.env.LEDGER_TEST_DATA_DIR = dataDir;
}
