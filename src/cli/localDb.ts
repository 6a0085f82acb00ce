import path from 'node:path';
import { engineCacheDir } from '../config';
import { startEmbeddedEngine } from '../engine/embeddedEngine';
import { shutdownSignal } from './shutdownSignal';

export async function runLocalDb(opts: { dataDir: string; port?: number }): Promise<number> {
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
