/**
 * Server configuration, read once from environment variables and validated before anything
 * starts, so that a typo fails loudly at start-up rather than silently at the first request.
 */
import path from 'node:path';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  readonly port: number;
  readonly host: string;
  /** Absent: the embedded SQLite database in `dataDir`. */
  readonly mongodbUri: string | undefined;
  readonly dbName: string;
  readonly dataDir: string;
  /** Where the FerretDB test engine (for the mongodb adapter) is cached. */
  readonly engineCacheDir: string;
  readonly signingKeyFile: string;
  /** Absent: generated with the signing key on first start. */
  readonly origin: string | undefined;
  /** Whether logInfo, checkpoints and proofs may be read without an API key. */
  readonly publicProofs: boolean;
  /** Whether event reads by READER and AUDITOR keys are recorded as `ledger.events.read`. */
  readonly recordReads: boolean;
  readonly logLevel: LogLevel;
  /** Encryption at rest (src/lifecycle/): how the key-encryption key is found. */
  readonly kek: KekConfig;
  /** How often the retention job runs (ms; 0: never in the background). */
  readonly retentionIntervalMs: number;
}

export interface KekConfig {
  /** LEDGER_ENCRYPTION=on, or a KEK named explicitly: seal new events (create the key file if the ledger has no keys yet). */
  readonly enabled: boolean;
  /** LEDGER_KEK_FILE, default `$LEDGER_DATA_DIR/kek.key`. */
  readonly file: string;
  /** LEDGER_KEK: the key itself (base64 of 32 bytes), instead of a file. */
  readonly inline: string | undefined;
}

/** The project root: both `src/` and `dist/` sit directly below it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const port = parsePort(env.PORT, 4000, 'PORT', problems);
  const dataDir = path.resolve(env.LEDGER_DATA_DIR || './data');
  const mongodbUri = env.MONGODB_URI || undefined;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    problems.push(`MONGODB_URI must start with mongodb:// or mongodb+srv:// (got ${JSON.stringify(mongodbUri)})`);
  }
  const dbName = env.LEDGER_DB_NAME || 'audit_ledger';
  if (!/^[A-Za-z0-9_-]{1,63}$/.test(dbName)) {
    problems.push(`LEDGER_DB_NAME must be 1-63 letters, digits, '_' or '-' (got ${JSON.stringify(dbName)})`);
  }
  const origin = env.LEDGER_ORIGIN || undefined;
  if (origin !== undefined && !/^[\x21-\x2a\x2c-\x7e]+$/.test(origin)) {
    problems.push('LEDGER_ORIGIN must be printable ASCII without spaces or "+" (it names the log and its key)');
  }
  const logLevel = (env.LOG_LEVEL || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  const publicProofs = parseBoolean(env.LEDGER_PUBLIC_PROOFS, true, 'LEDGER_PUBLIC_PROOFS', problems);
  const recordReads = parseBoolean(env.LEDGER_RECORD_READS, true, 'LEDGER_RECORD_READS', problems);
  const retentionRaw = env.LEDGER_RETENTION_INTERVAL_MS || '3600000';
  if (!/^\d{1,10}$/.test(retentionRaw)) problems.push(`LEDGER_RETENTION_INTERVAL_MS must be a number of milliseconds (got ${JSON.stringify(retentionRaw)})`);
  const encryption = parseBoolean(env.LEDGER_ENCRYPTION, false, 'LEDGER_ENCRYPTION', problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    port,
    host: env.HOST || '127.0.0.1',
    mongodbUri,
    dbName,
    dataDir,
    engineCacheDir: engineCacheDir(env),
    signingKeyFile: path.resolve(env.LEDGER_SIGNING_KEY_FILE || path.join(dataDir, 'signing.key')),
    origin,
    publicProofs,
    recordReads,
    logLevel,
    retentionIntervalMs: Number(retentionRaw),
    kek: {
      enabled: encryption || Boolean(env.LEDGER_KEK_FILE) || Boolean(env.LEDGER_KEK),
      file: path.resolve(env.LEDGER_KEK_FILE || path.join(dataDir, 'kek.key')),
      inline: env.LEDGER_KEK || undefined,
    },
  };
}

function parsePort(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) > 65535) {
    problems.push(`${name} must be a port number 0-65535 (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return Number(raw);
}

function parseBoolean(raw: string | undefined, fallback: boolean, name: string, problems: string[]): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(raw)) return true;
  if (/^(0|false|no|off)$/i.test(raw)) return false;
  problems.push(`${name} must be true or false (got ${JSON.stringify(raw)})`);
  return fallback;
}

/** Where the embedded engine's binary is cached: LEDGER_ENGINE_CACHE, else `.cache/` in the project. */
export function engineCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LEDGER_ENGINE_CACHE || path.join(PROJECT_ROOT, '.cache'));
}
