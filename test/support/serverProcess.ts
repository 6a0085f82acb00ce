/**
 * Runs the real server (`bin/audit-ledger.js serve`, built into dist/) as a child process, as
 * operators do, for end-to-end tests over HTTP: crash, restart and two-process tests need a
 * real process to signal and kill.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { freeLoopbackPort } from '../../src/storage/mongodb/engine/embeddedEngine';

export interface ServerProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const BIN = path.resolve(__dirname, '..', '..', 'bin', 'audit-ledger.js');

/** `port`: to restart a server where its clients expect it; a free one otherwise. */
export async function startServerProcess(env: NodeJS.ProcessEnv, args: string[] = ['serve'], port?: number): Promise<ServerProcess> {
  port ??= await freeLoopbackPort();
  const child = spawn(process.execPath, [BIN, ...args], {
    // NODE_ENV as operators run it: Jest's NODE_ENV=test changes library defaults (Apollo's signal handling).
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info', ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url: `${env.LEDGER_TLS_CERT_FILE ? 'https' : 'http'}://127.0.0.1:${port}`,
    child,
    exited,
    output: () => out,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      return exited;
    },
  };
}

/** Polls GET /healthz until it answers 200 (or the deadline passes). */
export async function waitHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server at ${url} not healthy after ${timeoutMs} ms: ${last}`);
}
