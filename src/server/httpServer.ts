/**
 * The HTTP shell: Express 5 with Apollo Server at /graphql and plain routes for probes and
 * monitors. It listens before the database is ready, so orchestrators see 503 on /healthz
 * (rather than connection refused) while the embedded engine is still being provisioned.
 *
 * A GraphQL request passes, in order: content-type check (415), admission (who is calling,
 * and their rate limit: 429, or 503 when that cannot be known), the body limit of that kind
 * of caller (413), strict UTF-8 and JSON (400), a one-pass count of the document's tokens,
 * aliases, depth and fields (QUERY_TOO_COMPLEX), then Apollo
 * (parse with a token limit, validation with the cost limits, execution). Everything that is
 * not GraphQL's own answer is JSON from jsonErrors.ts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { unwrapResolverError } from '@apollo/server/errors';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type RequestHandler } from 'express';
import type { GraphQLFormattedError, GraphQLSchema } from 'graphql';
import type { HttpConfig } from '../config';
import { costLimitRules, type CostLimits, DEFAULT_COST_LIMITS, ShapeVerdicts, withLimitCode } from '../graphql/costLimits';
import type { Logger } from '../logger';
import { BodyBudget, bodyBudgetMiddleware } from './bodyBudget';
import { corsMiddleware } from './cors';
import { dashboardRouter } from './dashboard';
import { explorerRouter } from './explorer';
import { assertUtf8, HttpError, isDatabaseUnavailable, jsonErrorHandler, notFound, requireJsonBody } from './jsonErrors';

/** What the shell needs to know about a caller before reading its request body. */
export interface Admission {
  /** Whether a valid API key was sent: such callers get the large body and token limits. */
  readonly authenticated: boolean;
}

export interface HttpServerOptions<A extends Admission> {
  readonly host: string;
  readonly port: number;
  readonly schema: GraphQLSchema;
  readonly logger: Logger;
  readonly http: HttpConfig;
  readonly costLimits?: CostLimits;
  /** True once the database answers; drives /healthz. */
  readonly isReady: () => Promise<boolean>;
  /** How long /healthz waits for `isReady` before answering 503. */
  readonly readinessTimeoutMs?: number;
  /**
   * Identifies and rate-limits the caller from the request's headers alone. Throws
   * RateLimitedError (429) or HttpError (e.g. 503).
   */
  readonly admit: (req: express.Request) => Promise<A>;
  /**
   * Extra routes (e.g. GET /checkpoint), mounted before /graphql; `admitted` applies admission
   * to them, and `admissionOf` answers what it decided for a request it has passed.
   */
  readonly routes?: (app: express.Express, admitted: RequestHandler, admissionOf: (req: express.Request) => A) => void;
  readonly context: (req: express.Request, admission: A) => Promise<object>;
}

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  /** Request bodies in flight (for the metrics' gauges). */
  readonly bodyBudget: BodyBudget;
  close(): Promise<void>;
}

/**
 * Longer than the 60 s idle timeout of common load balancers, so the balancer (or a pooling
 * client) always closes an idle connection first and never reuses one we are closing: that
 * race was the "SocketError: other side closed" seen under load with Node's 5 s default.
 */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** Must exceed the keep-alive timeout, or a reused connection can be cut mid-headers. */
export const HEADERS_TIMEOUT_MS = 66_000;
/** /healthz answers within a second whatever the database does: its check gets this long, the rest is margin. */
export const READINESS_TIMEOUT_MS = 750;
/** Receiving a whole request (a 16 MiB batch at ~300 kB/s) may take this long, no longer. */
export const REQUEST_TIMEOUT_MS = 120_000;

export async function startHttpServer<A extends Admission>(options: HttpServerOptions<A>): Promise<RunningHttpServer> {
  const { logger, http: config } = options;
  const limits = options.costLimits ?? DEFAULT_COST_LIMITS;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', config.trustProxy);
  const httpServer = config.tls
    ? https.createServer({ cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile), minVersion: 'TLSv1.2' }, app)
    : http.createServer(app);
  httpServer.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  httpServer.headersTimeout = HEADERS_TIMEOUT_MS;
  httpServer.requestTimeout = REQUEST_TIMEOUT_MS;

  const apollo = new ApolloServer<object>({
    schema: options.schema,
    // Apollo's default cache-control plugin wraps every field's resolver to collect cache hints;
    // the schema gives none, so all it ever concluded was `no-store`, which `noStore` below
    // now sets without the per-field work.
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: httpServer as http.Server }),
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginCacheControlDisabled(),
      logRefusals(logger),
    ],
    introspection: config.introspection,
    validationRules: costLimitRules(limits),
    parseOptions: { maxTokens: limits.maxTokens },
    includeStacktraceInErrorResponses: false,
    logger: apolloLogger(logger),
    // Our CLI owns signals and shutdown order (HTTP, then ledger, database, engine); Apollo's own
    // handler would re-raise the signal mid-shutdown and orphan the embedded engine.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => formatGraphQLError(formatted, error, logger, config.introspection),
  });
  await apollo.start();

  const admissions = new WeakMap<express.Request, A>();
  const admitted: RequestHandler = async (req, _res, next) => {
    admissions.set(req, await options.admit(req));
    next();
  };
  const admissionOf = (req: express.Request): A => {
    const admission = admissions.get(req);
    if (!admission) throw new Error('request reached a handler without admission');
    return admission;
  };
  const bodyOf = (limit: number) => express.json({ limit, verify: assertUtf8, type: 'application/json' });
  const keyBody = bodyOf(config.maxBodyBytes);
  const anonymousBody = bodyOf(config.maxAnonymousBodyBytes);
  const bodyBudget = new BodyBudget({ budgetBytes: config.maxBodyBytesInFlight, maxWaitMs: config.bodyWaitMs, smallBytes: config.maxAnonymousBodyBytes });
  const budgeted = bodyBudgetMiddleware(bodyBudget, (req) => (admissionOf(req).authenticated ? config.maxBodyBytes : config.maxAnonymousBodyBytes));
  // Every document is measured before Apollo parses it, in one lexer pass that stops at the
  // first limit broken; callers without a key get far fewer tokens (their requests are small).
  const shapes = new ShapeVerdicts({ maxAliases: limits.maxAliases, maxDepth: limits.maxDepth, maxFields: limits.maxFields });
  const documentShape: RequestHandler = (req, _res, next) => {
    const body: unknown = req.method === 'POST' ? req.body : req.query;
    const query = typeof body === 'object' && body !== null ? (body as { query?: unknown }).query : undefined;
    if (typeof query !== 'string') return next();
    const maxTokens = admissionOf(req).authenticated ? limits.maxTokens : limits.maxAnonymousTokens;
    const problem = shapes.problem(query, maxTokens);
    if (problem) return next(new HttpError(400, 'QUERY_TOO_COMPLEX', problem.message, {}, { limit: problem.limit }));
    next();
  };

  app.use((_req, res, next) => {
    res.set('X-Content-Type-Options', 'nosniff');
    next();
  });
  if (config.corsOrigins.length > 0) app.use(corsMiddleware(config.corsOrigins));
  app.get('/healthz', (async (_req, res) => {
    const health = await readiness(options.isReady, options.readinessTimeoutMs ?? READINESS_TIMEOUT_MS);
    res.status(health.status === 'ok' ? 200 : 503).set('Cache-Control', 'no-store').json(health);
  }) as RequestHandler);
  options.routes?.(app, admitted, admissionOf);
  if (config.explorer) app.use('/explorer', explorerRouter());
  if (config.dashboard) app.use(dashboardRouter());
  // No GraphQL answer may be stored by a cache: each is the state of the log when asked.
  const noStore: RequestHandler = (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };
  app.use(
    '/graphql',
    noStore,
    requireJsonBody,
    admitted,
    budgeted,
    (req, res, next) => (admissionOf(req).authenticated ? keyBody : anonymousBody)(req, res, next),
    documentShape,
    expressMiddleware(apollo, { context: async ({ req }) => options.context(req, admissionOf(req)) }),
  );
  app.use(notFound);
  app.use(jsonErrorHandler(logger));

  // Longer than a typical 60 s load-balancer idle timeout, so the server is never the side that
  // closes a kept-alive connection just as a client reuses it ("other side closed").
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `${config.tls ? 'https' : 'http'}://${hostForUrl}:${port}`,
    port,
    bodyBudget,
    // apollo.stop() drains in-flight requests through the drain plugin, then closes the listener.
    close: () => apollo.stop(),
  };
}

export type Health = { readonly status: 'ok' | 'starting' } | { readonly status: 'unavailable'; readonly reason: string };

/** Readiness within `timeoutMs`, whatever the database does: a probe must never hang. */
export async function readiness(isReady: () => Promise<boolean>, timeoutMs: number): Promise<Health> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Health>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'unavailable', reason: `the database did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const check = isReady().then(
    (ready): Health => ({ status: ready ? 'ok' : 'starting' }),
    (err: unknown): Health => ({ status: 'unavailable', reason: `the database did not answer: ${err instanceof Error ? err.message : String(err)}` }),
  );
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

function formatGraphQLError(formatted: GraphQLFormattedError, error: unknown, logger: Logger, introspection: boolean): GraphQLFormattedError {
  let out = withLimitCode(formatted);
  if (out.extensions?.code === 'INTERNAL_SERVER_ERROR') {
    if (isDatabaseUnavailable(unwrapResolverError(error))) {
      logger.warn({ err: unwrapResolverError(error) }, 'database unavailable during a GraphQL request');
      return { ...out, message: 'the database is unavailable; try again later', extensions: { ...out.extensions, code: 'UNAVAILABLE' } };
    }
    logger.error({ err: error }, 'unexpected GraphQL error');
    return { ...out, message: 'internal server error' };
  }
  // Without introspection, "Did you mean …?" would hand out the schema piece by piece.
  if (!introspection) out = { ...out, message: out.message.replace(/ Did you mean .*\?$/, '') };
  return out;
}

/** Refusals by the limits are worth a debug line (who sent what is in the access path). */
function logRefusals(logger: Logger): ApolloServerPlugin<object> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors }) {
          const limits = errors.filter((e) => typeof e.extensions?.limit === 'string').map((e) => e.extensions.limit);
          if (limits.length > 0) logger.debug({ limits }, 'GraphQL document refused by a cost limit');
        },
      };
    },
  };
}

/** Apollo's own log lines as single JSON lines through pino, never console output. */
function apolloLogger(logger: Logger) {
  const child = logger.child({ component: 'apollo' });
  return {
    debug: (message?: unknown) => child.debug(String(message)),
    info: (message?: unknown) => child.info(String(message)),
    warn: (message?: unknown) => child.warn(String(message)),
    error: (message?: unknown) => child.error(String(message)),
  };
}
