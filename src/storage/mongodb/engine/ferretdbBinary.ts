/**
 * Locates, or builds once, the FerretDB binary that serves as the embedded MongoDB-wire engine.
 *
 * Why not plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: the module zip
 * served by the Go module proxy lacks `build/version/version.txt` (FerretDB generates it at
 * release time), and a binary built from it panics at start-up. So we fetch the very same
 * module version from the proxy with `go mod download`, copy it into our cache, write the
 * version file, and `go build ./cmd/ferretdb` there. The result is cached per version, so only
 * the first start of a machine pays the build (about a minute here).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export const FERRETDB_VERSION = 'v1.24.2';
const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';

export class EngineUnavailableError extends Error {
  override readonly name = 'EngineUnavailableError';
}

export interface BinaryOptions {
  /** Folder that holds `ferretdb-<version>/ferretdb`. */
  readonly cacheDir: string;
  /** Called with human-readable progress lines while building. */
  readonly onProgress?: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Where to look for `go` besides PATH. */
  readonly goFallbackDirs?: readonly string[];
}

export function cachedBinaryPath(cacheDir: string): string {
  return path.join(cacheDir, `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

/** Finds a `go` executable: on PATH, else the standard /usr/local/go install. */
export function findGo(
  env: NodeJS.ProcessEnv = process.env,
  fallbackDirs: readonly string[] = ['/usr/local/go/bin'],
): string | undefined {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...fallbackDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'go');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function ensureFerretdbBinary(options: BinaryOptions): Promise<string> {
  const binary = cachedBinaryPath(options.cacheDir);
  if (existsSync(binary)) return binary;
  const go = findGo(options.env ?? process.env, options.goFallbackDirs);
  if (!go) {
    throw new EngineUnavailableError(
      'No database configured: MONGODB_URI is unset, no cached FerretDB binary exists at ' +
        `${binary}, and Go is not installed. Either set MONGODB_URI to a MongoDB ` +
        '(replica set) URI, or install Go 1.22+ (https://go.dev/doc/install, or `apt-get install golang`) ' +
        'so that the embedded FerretDB engine can be built.',
    );
  }
  await buildFerretdb(go, binary, options);
  return binary;
}

async function buildFerretdb(go: string, binary: string, options: BinaryOptions): Promise<void> {
  const progress = options.onProgress ?? (() => undefined);
  const started = Date.now();
  const env = { ...process.env, ...options.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  progress(`building FerretDB ${FERRETDB_VERSION} from the Go module proxy (first time only, about a minute)…`);
  const ticker = setInterval(
    () => progress(`  still building FerretDB… ${Math.round((Date.now() - started) / 1000)} s`),
    10_000,
  );
  try {
    const downloaded = await run(go, ['mod', 'download', '-json', `${FERRETDB_MODULE}@${FERRETDB_VERSION}`], {
      env,
      cwd: options.cacheDir,
    });
    const moduleDir = (JSON.parse(downloaded) as { Dir?: string }).Dir;
    if (!moduleDir) throw new EngineUnavailableError(`go mod download gave no directory for ${FERRETDB_MODULE}`);
    const workDir = path.join(options.cacheDir, `ferretdb-${FERRETDB_VERSION}.src-${process.pid}`);
    await rm(workDir, { recursive: true, force: true });
    await cp(moduleDir, workDir, { recursive: true });
    await chmod(path.join(workDir, 'build', 'version'), 0o755);
    await writeFile(path.join(workDir, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
    const tmpBinary = `${binary}.tmp-${process.pid}`;
    await mkdir(path.dirname(binary), { recursive: true });
    let compiled = 0;
    await run(go, ['build', '-v', '-buildvcs=false', '-trimpath', '-o', tmpBinary, './cmd/ferretdb'], {
      env,
      cwd: workDir,
      onStderrLine: () => {
        compiled += 1;
        if (compiled % 50 === 0) progress(`  compiled ${compiled} packages…`);
      },
    });
    await rename(tmpBinary, binary);
    await rm(workDir, { recursive: true, force: true });
    progress(`built FerretDB ${FERRETDB_VERSION} in ${Math.round((Date.now() - started) / 1000)} s: ${binary}`);
  } finally {
    clearInterval(ticker);
  }
}

interface RunOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly onStderrLine?: (line: string) => void;
}

async function run(cmd: string, args: string[], options: RunOptions): Promise<string> {
  await mkdir(options.cwd, { recursive: true });
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderrTail = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderrTail = (stderrTail + chunk).slice(-4000);
      for (const line of chunk.split('\n')) if (line) options.onStderrLine?.(line);
    });
    child.on('error', (err) => reject(new EngineUnavailableError(`could not run ${cmd}: ${err.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(stdout);
      else reject(new EngineUnavailableError(`${cmd} ${args.join(' ')} failed (exit ${code}):\n${stderrTail}`));
    });
  });
}
