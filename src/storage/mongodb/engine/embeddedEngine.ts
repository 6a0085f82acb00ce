/**
 * Runs FerretDB (SQLite backend) as a child process on a free loopback port: the embedded
 * MongoDB-wire engine used when no MONGODB_URI is configured. Telemetry, the debug HTTP
 * listener and every other outbound channel are switched off: nothing leaves the machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { EngineUnavailableError, ensureFerretdbBinary } from './ferretdbBinary';

export interface EmbeddedEngineOptions {
  /** Data lives in `<dataDir>/db`; the engine's own log in `<dataDir>/ferretdb.log`. */
  readonly dataDir: string;
  readonly cacheDir: string;
  /** 0 or absent: pick a free loopback port. */
  readonly port?: number;
  readonly onProgress?: (line: string) => void;
  readonly startTimeoutMs?: number;
}

export interface EmbeddedEngine {
  readonly uri: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export async function startEmbeddedEngine(options: EmbeddedEngineOptions): Promise<EmbeddedEngine> {
  const binary = await ensureFerretdbBinary({ cacheDir: options.cacheDir, onProgress: options.onProgress });
  const dbDir = path.join(path.resolve(options.dataDir), 'db');
  await mkdir(dbDir, { recursive: true, mode: 0o700 });
  const port = options.port && options.port > 0 ? options.port : await freeLoopbackPort();
  const logFile = createWriteStream(path.join(path.resolve(options.dataDir), 'ferretdb.log'), { flags: 'a', mode: 0o600 });
  const child = spawn(
    binary,
    [
      '--handler=sqlite',
      `--sqlite-url=file:${dbDir}/`,
      `--state-dir=${dbDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      '--telemetry=disable',
      '--debug-addr=-',
      '--log-level=WARN',
    ],
    { env: { ...process.env, DO_NOT_TRACK: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.pipe(logFile);
  child.stderr?.pipe(logFile);
  const uri = `mongodb://127.0.0.1:${port}/`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    await waitForPing(uri, child, exited, options.startTimeoutMs ?? 30_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Lets other commands (bootstrap-admin, verify-db) share this engine instead of starting a
  // second one on the same files.
  const marker = path.join(path.resolve(options.dataDir), ENGINE_MARKER);
  await writeFile(marker, JSON.stringify({ uri, pid: child.pid }), { mode: 0o600 });
  let stopping: Promise<void> | undefined;
  return {
    uri,
    port,
    pid: child.pid ?? -1,
    stop: () => (stopping ??= stopChild(child, exited).finally(() => {
      logFile.end();
      return rm(marker, { force: true });
    })),
  };
}

async function waitForPing(
  uri: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new EngineUnavailableError(`FerretDB exited during start-up (code ${exitCode}); see its log file`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500, connectTimeoutMS: 500 });
    try {
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => undefined);
    }
  }
  throw new EngineUnavailableError(`FerretDB (pid ${child.pid}) did not answer ping within ${timeoutMs} ms: ${lastError}`);
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const ENGINE_MARKER = 'engine.json';

/** The URI of an embedded engine already serving `dataDir`, if one answers. */
export async function runningEngineUri(dataDir: string): Promise<string | undefined> {
  let marker: { uri?: string; pid?: number };
  try {
    marker = JSON.parse(await readFile(path.join(path.resolve(dataDir), ENGINE_MARKER), 'utf8')) as typeof marker;
  } catch {
    return undefined;
  }
  if (!marker.uri || !marker.pid) return undefined;
  try {
    process.kill(marker.pid, 0);
  } catch {
    return undefined;
  }
  const client = new MongoClient(marker.uri, { serverSelectionTimeoutMS: 1000 });
  try {
    await client.db('admin').command({ ping: 1 });
    return marker.uri;
  } catch {
    return undefined;
  } finally {
    await client.close().catch(() => undefined);
  }
}

export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
