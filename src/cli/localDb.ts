import path from 'node:path';
import { engineCacheDir } from '../config';
import { runningEngineUri, startEmbeddedEngine } from '../storage/mongodb/engine/embeddedEngine';
import { CliError } from './cliError';
import { shutdownSignal } from './shutdownSignal';

/**
 * `local-db`: the embedded FerretDB engine in the foreground, the MongoDB-wire test engine
 * for the `mongodb` adapter (and a way to look at a MongoDB-shaped ledger with mongosh).
 */
export async function runLocalDb(opts: { dataDir: string; port?: number }): Promise<number> {
  const running = await runningEngineUri(opts.dataDir);
  if (running) {
    throw new CliError(`an engine already serves ${path.resolve(opts.dataDir, 'db')} at ${running}; two engines must not share one data folder`, 1);
  }
  const engine = await startEmbeddedEngine({
    dataDir: opts.dataDir,
    port: opts.port,
    cacheDir: engineCacheDir(),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stderr.write(`FerretDB (pid ${engine.pid}) serving ${path.resolve(opts.dataDir, 'db')}; Ctrl-C stops it\n`);
  process.stdout.write(`${engine.uri}\n`);
  await shutdownSignal();
  await engine.stop();
  return 0;
}
