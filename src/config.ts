/**
 * Server configuration, read once from environment variables and validated before anything
 * starts, so that a typo fails loudly at start-up rather than silently at the first request.
 */
import { DEFAULT_SEALED_READ_CACHE_ENTRIES } from './lifecycle/sealedReadCache';
import path from 'node:path';
import type { RateLimit } from './server/rateLimit';
import type { DeliveryPolicy } from './stream/webhookDelivery';
import { parseWitnessKey } from './verify/cosignature';

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
  /** The HTTP layer's limits and switches (see README, "Hardening"). */
  readonly http: HttpConfig;
  /** Encryption at rest (src/lifecycle/): how the key-encryption key is found. */
  readonly kek: KekConfig;
  /** How often the retention job runs (ms; 0: never in the background). */
  readonly retentionIntervalMs: number;
  /** GET /metrics (Prometheus). */
  readonly metrics: MetricsConfig;
  /** Webhook delivery (src/stream/webhookDelivery.ts). */
  readonly webhooks: WebhookConfig;
  /** Witness cosigning (src/witness/): who cosigns our checkpoints, and what receipts wait for. */
  readonly witnessing: WitnessingConfig;
  /** How long `serve` may take to stop after SIGTERM/SIGINT before it exits anyway, naming what was pending. */
  readonly shutdownTimeoutMs: number;
}

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 15_000;

/** A C2SP tlog-witness the log sends its checkpoints to. */
export interface WitnessEndpoint {
  /** The witness's name: the key name of its verifier key, as its cosignature lines carry it. */
  readonly name: string;
  /** Its cosignature/v1 verifier key, `name+hex8+base64(0x04 || key)`. */
  readonly verifierKey: string;
  /** The URL prefix of its API: requests go to `<url>/add-checkpoint`. No trailing slash. */
  readonly url: string;
}

export interface WitnessingConfig {
  /** Empty: the log is not witnessed. */
  readonly witnesses: readonly WitnessEndpoint[];
  /** How many of the witnesses must cosign for the policy to be met (k of n); 0 without witnesses. */
  readonly quorum: number;
  /** Whether receipts wait for `quorum` cosignatures (and fail with WITNESS_QUORUM_NOT_MET without them). */
  readonly waitForQuorum: boolean;
  /** How long a receipt waits for the quorum. */
  readonly waitTimeoutMs: number;
  /** A quiet log re-sends its checkpoint this often so cosignature timestamps stay fresh (0: never). */
  readonly republishIntervalMs: number;
  /** One add-checkpoint request's time limit. */
  readonly requestTimeoutMs: number;
}

export const WITNESS_DEFAULTS = {
  waitTimeoutMs: 10_000,
  republishIntervalMs: 5 * 60_000,
  requestTimeoutMs: 10_000,
} as const;

/** More witnesses than this would crowd a note towards its 100 signature lines. */
export const MAX_WITNESSES = 32;

/** The webhook settings are the delivery policy itself (stream/webhookDelivery.ts). */
export type WebhookConfig = DeliveryPolicy;

export const WEBHOOK_DEFAULTS: WebhookConfig = {
  batchSize: 100,
  maxAttempts: 15,
  maxAgeMs: 24 * 3600_000,
  retryBaseMs: 1000,
  retryMaxMs: 10 * 60_000,
  timeoutMs: 10_000,
};

/**
 * `off`: no /metrics route (404); `on`: anyone who can reach the port may scrape; `token`:
 * scrapes must send `Authorization: Bearer <LEDGER_METRICS_TOKEN>`.
 */
export type MetricsConfig = { readonly mode: 'off' | 'on' } | { readonly mode: 'token'; readonly token: string };

/** A scrape token shorter than this is guessable. */
export const MIN_METRICS_TOKEN_LENGTH = 24;

export interface KekConfig {
  /** LEDGER_ENCRYPTION=on, or a KEK named explicitly: seal new events (create the key file if the ledger has no keys yet). */
  readonly enabled: boolean;
  /** LEDGER_KEK_FILE, default `$LEDGER_DATA_DIR/kek.key`. */
  readonly file: string;
  /** LEDGER_KEK: the key itself (base64 of 32 bytes), instead of a file. */
  readonly inline: string | undefined;
  /** LEDGER_SEALED_READ_CACHE: sealed events kept opened in memory (sealedReadCache.ts); 0 for none. */
  readonly readCacheEntries: number;
}

export interface HttpConfig {
  /** HTTPS with these PEM files; absent: plain HTTP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | undefined;
  /** Origins allowed to call from a browser (CORS); empty: none. */
  readonly corsOrigins: readonly string[];
  /** Express `trust proxy`: whose X-Forwarded-For to believe for the client address. */
  readonly trustProxy: boolean | number | string;
  readonly introspection: boolean;
  /** The bundled GraphiQL at GET /graphql/explorer. */
  readonly explorer: boolean;
  /** The web dashboard at GET / (LEDGER_DASHBOARD). */
  readonly dashboard: boolean;
  /** Request body limit for callers with a valid API key: fits a 10,000-event batch. */
  readonly maxBodyBytes: number;
  /** Request body limit for everyone else: public reads are small. */
  readonly maxAnonymousBodyBytes: number;
  /** Request body bytes read and worked on at once (server/bodyBudget.ts). */
  readonly maxBodyBytesInFlight: number;
  /** How long a request waits for room in that budget before 503 UNAVAILABLE. */
  readonly bodyWaitMs: number;
  readonly rateLimitPerKey: RateLimit;
  readonly rateLimitAnonymous: RateLimit;
  /** Refusals by one caller for one operation within this window are recorded as one event and a count. */
  readonly denialWindowMs: number;
  /** Distinct callers whose refusals open a window per window; the rest are counted together. */
  readonly denialMaxCallers: number;
}

export const HTTP_DEFAULTS = {
  maxBodyBytes: 16 * 1024 * 1024,
  maxAnonymousBodyBytes: 64 * 1024,
  // Two of the largest batches at once (each takes many times its size in memory while it is
  // worked on), or dozens of ordinary ones.
  maxBodyBytesInFlight: 32 * 1024 * 1024,
  bodyWaitMs: 10_000,
  rateLimitPerKey: { ratePerSecond: 10_000, burst: 20_000 },
  rateLimitAnonymous: { ratePerSecond: 20, burst: 100 },
  denialWindowMs: 60_000,
  denialMaxCallers: 100,
} as const;

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
  const http = loadHttpConfig(env, problems);
  const retentionRaw = env.LEDGER_RETENTION_INTERVAL_MS || '3600000';
  if (!/^\d{1,10}$/.test(retentionRaw)) problems.push(`LEDGER_RETENTION_INTERVAL_MS must be a number of milliseconds (got ${JSON.stringify(retentionRaw)})`);
  const encryption = parseBoolean(env.LEDGER_ENCRYPTION, false, 'LEDGER_ENCRYPTION', problems);
  const readCacheRaw = env.LEDGER_SEALED_READ_CACHE || String(DEFAULT_SEALED_READ_CACHE_ENTRIES);
  if (!/^\d{1,7}$/.test(readCacheRaw)) problems.push(`LEDGER_SEALED_READ_CACHE must be a number of events, 0 for none (got ${JSON.stringify(readCacheRaw)})`);
  const metrics = parseMetrics(env, problems);
  const webhooks = parseWebhooks(env, problems);
  const witnessing = parseWitnessing(env, problems);
  const shutdownTimeoutMs = parsePositiveInt(env.LEDGER_SHUTDOWN_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, 'LEDGER_SHUTDOWN_TIMEOUT_MS', problems);
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
    http,
    retentionIntervalMs: Number(retentionRaw),
    metrics,
    webhooks,
    witnessing,
    shutdownTimeoutMs,
    kek: {
      enabled: encryption || Boolean(env.LEDGER_KEK_FILE) || Boolean(env.LEDGER_KEK),
      file: path.resolve(env.LEDGER_KEK_FILE || path.join(dataDir, 'kek.key')),
      inline: env.LEDGER_KEK || undefined,
      readCacheEntries: Number(readCacheRaw),
    },
  };
}

function loadHttpConfig(env: NodeJS.ProcessEnv, problems: string[]): HttpConfig {
  const certFile = env.LEDGER_TLS_CERT_FILE || undefined;
  const keyFile = env.LEDGER_TLS_KEY_FILE || undefined;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    problems.push('LEDGER_TLS_CERT_FILE and LEDGER_TLS_KEY_FILE must be set together (or neither)');
  }
  const corsOrigins = (env.LEDGER_CORS_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`LEDGER_CORS_ORIGINS must list origins such as https://app.example (got ${JSON.stringify(origin)})`);
  }
  // Off in production unless asked for: the schema is no secret, but there is no need to hand it out.
  const development = env.NODE_ENV !== 'production';
  const introspection = parseBoolean(env.LEDGER_GRAPHQL_INTROSPECTION, development, 'LEDGER_GRAPHQL_INTROSPECTION', problems);
  const explorer = parseBoolean(env.LEDGER_GRAPHQL_EXPLORER, introspection, 'LEDGER_GRAPHQL_EXPLORER', problems);
  if (explorer && !introspection) problems.push('LEDGER_GRAPHQL_EXPLORER needs LEDGER_GRAPHQL_INTROSPECTION (the explorer reads the schema through it)');
  const dashboard = parseBoolean(env.LEDGER_DASHBOARD, true, 'LEDGER_DASHBOARD', problems);
  return {
    tls: certFile && keyFile ? { certFile: path.resolve(certFile), keyFile: path.resolve(keyFile) } : undefined,
    corsOrigins,
    trustProxy: parseTrustProxy(env.LEDGER_TRUST_PROXY),
    introspection,
    explorer,
    dashboard,
    maxBodyBytes: parsePositiveInt(env.LEDGER_MAX_BODY_BYTES, HTTP_DEFAULTS.maxBodyBytes, 'LEDGER_MAX_BODY_BYTES', problems),
    maxAnonymousBodyBytes: parsePositiveInt(env.LEDGER_MAX_ANONYMOUS_BODY_BYTES, HTTP_DEFAULTS.maxAnonymousBodyBytes, 'LEDGER_MAX_ANONYMOUS_BODY_BYTES', problems),
    maxBodyBytesInFlight: parsePositiveInt(env.LEDGER_MAX_BODY_BYTES_IN_FLIGHT, HTTP_DEFAULTS.maxBodyBytesInFlight, 'LEDGER_MAX_BODY_BYTES_IN_FLIGHT', problems),
    bodyWaitMs: parsePositiveInt(env.LEDGER_BODY_WAIT_MS, HTTP_DEFAULTS.bodyWaitMs, 'LEDGER_BODY_WAIT_MS', problems),
    rateLimitPerKey: parseRate(env.LEDGER_RATE_LIMIT_PER_KEY, HTTP_DEFAULTS.rateLimitPerKey, 'LEDGER_RATE_LIMIT_PER_KEY', problems),
    rateLimitAnonymous: parseRate(env.LEDGER_RATE_LIMIT_ANONYMOUS, HTTP_DEFAULTS.rateLimitAnonymous, 'LEDGER_RATE_LIMIT_ANONYMOUS', problems),
    denialWindowMs: 1000 * parsePositiveInt(env.LEDGER_DENIAL_WINDOW_SECONDS, HTTP_DEFAULTS.denialWindowMs / 1000, 'LEDGER_DENIAL_WINDOW_SECONDS', problems),
    denialMaxCallers: parsePositiveInt(env.LEDGER_DENIAL_MAX_CALLERS, HTTP_DEFAULTS.denialMaxCallers, 'LEDGER_DENIAL_MAX_CALLERS', problems),
  };
}

function parseMetrics(env: NodeJS.ProcessEnv, problems: string[]): MetricsConfig {
  const mode = (env.LEDGER_METRICS || 'off').toLowerCase();
  const token = env.LEDGER_METRICS_TOKEN || undefined;
  if (mode === 'off' || mode === 'on') {
    if (token !== undefined) problems.push(`LEDGER_METRICS_TOKEN is set but LEDGER_METRICS is ${mode} (set LEDGER_METRICS=token to require it)`);
    return { mode };
  }
  if (mode !== 'token') {
    problems.push(`LEDGER_METRICS must be off, on or token (got ${JSON.stringify(env.LEDGER_METRICS)})`);
    return { mode: 'off' };
  }
  if (token === undefined || token.length < MIN_METRICS_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    problems.push(`LEDGER_METRICS=token needs LEDGER_METRICS_TOKEN: at least ${MIN_METRICS_TOKEN_LENGTH} printable characters without spaces (e.g. openssl rand -hex 32)`);
    return { mode: 'off' };
  }
  return { mode, token };
}

function parseWebhooks(env: NodeJS.ProcessEnv, problems: string[]): WebhookConfig {
  const d = WEBHOOK_DEFAULTS;
  const batchSize = parsePositiveInt(env.LEDGER_WEBHOOK_BATCH, d.batchSize, 'LEDGER_WEBHOOK_BATCH', problems);
  if (batchSize > 1000) problems.push(`LEDGER_WEBHOOK_BATCH must be at most 1000 (got ${batchSize})`);
  const retryBaseMs = parsePositiveInt(env.LEDGER_WEBHOOK_RETRY_BASE_MS, d.retryBaseMs, 'LEDGER_WEBHOOK_RETRY_BASE_MS', problems);
  const retryMaxMs = parsePositiveInt(env.LEDGER_WEBHOOK_RETRY_MAX_MS, d.retryMaxMs, 'LEDGER_WEBHOOK_RETRY_MAX_MS', problems);
  if (retryMaxMs < retryBaseMs) problems.push('LEDGER_WEBHOOK_RETRY_MAX_MS must be at least LEDGER_WEBHOOK_RETRY_BASE_MS');
  return {
    batchSize,
    maxAttempts: parsePositiveInt(env.LEDGER_WEBHOOK_MAX_ATTEMPTS, d.maxAttempts, 'LEDGER_WEBHOOK_MAX_ATTEMPTS', problems),
    maxAgeMs: 1000 * parsePositiveInt(env.LEDGER_WEBHOOK_MAX_AGE_SECONDS, d.maxAgeMs / 1000, 'LEDGER_WEBHOOK_MAX_AGE_SECONDS', problems),
    retryBaseMs,
    retryMaxMs,
    timeoutMs: parsePositiveInt(env.LEDGER_WEBHOOK_TIMEOUT_MS, d.timeoutMs, 'LEDGER_WEBHOOK_TIMEOUT_MS', problems),
  };
}

/**
 * LEDGER_WITNESSES: one witness per line (or separated by commas), each `<verifier key> <url>`;
 * the witness's name is its key's name. LEDGER_WITNESS_QUORUM (default 1), LEDGER_WITNESS_WAIT,
 * LEDGER_WITNESS_WAIT_MS, LEDGER_WITNESS_REPUBLISH_MS (0 or off: never), LEDGER_WITNESS_TIMEOUT_MS.
 */
function parseWitnessing(env: NodeJS.ProcessEnv, problems: string[]): WitnessingConfig {
  const d = WITNESS_DEFAULTS;
  const witnesses: WitnessEndpoint[] = [];
  const entries = (env.LEDGER_WITNESSES ?? '')
    .split(/[\n,]/)
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    const fields = entry.split(/\s+/);
    const [key, url] = fields;
    if (fields.length !== 2 || key === undefined || url === undefined) {
      problems.push(`LEDGER_WITNESSES entries must be "<verifier key> <url>" (got ${JSON.stringify(entry)})`);
      continue;
    }
    let name: string;
    try {
      name = parseWitnessKey(key).name;
    } catch (err) {
      problems.push(`LEDGER_WITNESSES: ${JSON.stringify(key)} is not a cosignature/v1 witness key: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(url)) {
      problems.push(`LEDGER_WITNESSES: the URL of ${name} must be an http:// or https:// URL prefix without query (got ${JSON.stringify(url)})`);
      continue;
    }
    if (witnesses.some((w) => w.verifierKey === key || w.name === name)) {
      problems.push(`LEDGER_WITNESSES lists ${name} twice`);
      continue;
    }
    witnesses.push({ name, verifierKey: key, url: url.replace(/\/+$/, '') });
  }
  if (witnesses.length > MAX_WITNESSES) problems.push(`LEDGER_WITNESSES lists ${witnesses.length} witnesses; at most ${MAX_WITNESSES}`);
  const named = entries.length > 0;
  const quorumRaw = env.LEDGER_WITNESS_QUORUM;
  let quorum = named ? 1 : 0;
  if (quorumRaw !== undefined && quorumRaw !== '') {
    if (!named) problems.push('LEDGER_WITNESS_QUORUM is set but LEDGER_WITNESSES lists no witness');
    else if (!/^\d+$/.test(quorumRaw) || Number(quorumRaw) < 1 || Number(quorumRaw) > entries.length) {
      problems.push(`LEDGER_WITNESS_QUORUM must be a whole number from 1 to the number of witnesses, ${entries.length} (got ${JSON.stringify(quorumRaw)})`);
    } else quorum = Number(quorumRaw);
  }
  const waitForQuorum = parseBoolean(env.LEDGER_WITNESS_WAIT, false, 'LEDGER_WITNESS_WAIT', problems);
  if (waitForQuorum && !named) problems.push('LEDGER_WITNESS_WAIT is on but LEDGER_WITNESSES lists no witness to wait for');
  const republishRaw = (env.LEDGER_WITNESS_REPUBLISH_MS ?? '').trim().toLowerCase();
  let republishIntervalMs: number = d.republishIntervalMs;
  if (republishRaw === 'off' || republishRaw === '0') republishIntervalMs = 0;
  else if (republishRaw !== '') {
    // Cosignature timestamps are whole seconds: re-sending more often refreshes nothing.
    if (!/^\d{1,10}$/.test(republishRaw) || Number(republishRaw) < 1000) {
      problems.push(`LEDGER_WITNESS_REPUBLISH_MS must be a number of milliseconds of at least 1000, or 0/off for never (got ${JSON.stringify(env.LEDGER_WITNESS_REPUBLISH_MS)})`);
    } else republishIntervalMs = Number(republishRaw);
  }
  return {
    witnesses,
    quorum,
    waitForQuorum,
    waitTimeoutMs: parsePositiveInt(env.LEDGER_WITNESS_WAIT_MS, d.waitTimeoutMs, 'LEDGER_WITNESS_WAIT_MS', problems),
    republishIntervalMs,
    requestTimeoutMs: parsePositiveInt(env.LEDGER_WITNESS_TIMEOUT_MS, d.requestTimeoutMs, 'LEDGER_WITNESS_TIMEOUT_MS', problems),
  };
}

function parsePositiveInt(raw: string | undefined, fallback: number, name: string, problems: string[]): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw)) || Number(raw) < 1) {
    problems.push(`${name} must be a positive whole number (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return Number(raw);
}

/** `RATE` or `RATE/BURST`: requests per second, and how many may come at once (default 2 x RATE). */
function parseRate(raw: string | undefined, fallback: RateLimit, name: string, problems: string[]): RateLimit {
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+(?:\.\d+)?)(?:\/(\d+))?$/.exec(raw.trim());
  const ratePerSecond = Number(match?.[1]);
  const burst = match?.[2] !== undefined ? Number(match[2]) : Math.max(1, Math.ceil(2 * ratePerSecond));
  if (!match || !(ratePerSecond > 0) || !(burst >= 1)) {
    problems.push(`${name} must be RATE or RATE/BURST, e.g. 20/100 (requests per second / at once; got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return { ratePerSecond, burst };
}

function parseTrustProxy(raw: string | undefined): boolean | number | string {
  if (raw === undefined || raw === '' || /^(0|false|no|off)$/i.test(raw)) return false;
  if (/^(true|yes|on)$/i.test(raw)) return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  return raw;
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
