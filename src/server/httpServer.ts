/**
 * The HTTP shell: Express 5 with Apollo Server at /graphql and plain routes for probes and
 * monitors. It listens before the database is ready, so orchestrators see 503 on /healthz
 * (rather than connection refused) while the embedded engine is still being provisioned.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express, { type RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { Logger } from '../logger';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly schema: GraphQLSchema;
  readonly logger: Logger;
  /** True once the database answers; drives /healthz. */
  readonly isReady: () => Promise<boolean>;
  /** Extra routes (e.g. GET /checkpoint), mounted before /graphql. */
  readonly routes?: (app: express.Express) => void;
  readonly context: (req: express.Request) => Promise<object>;
}

export interface RunningHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const apollo = new ApolloServer<object>({
    schema: options.schema,
    plugins: [ApolloServerPluginDrainHttpServer({ httpServer }), ApolloServerPluginLandingPageDisabled()],
    includeStacktraceInErrorResponses: false,
    // Our CLI owns signals and shutdown order (HTTP, then ledger, database, engine); Apollo's own
    // handler would re-raise the signal mid-shutdown and orphan the embedded engine.
    stopOnTerminationSignals: false,
    formatError: (formatted, error) => {
      const code = formatted.extensions?.code;
      if (code === 'INTERNAL_SERVER_ERROR') {
        options.logger.error({ err: error }, 'unexpected GraphQL error');
        return { ...formatted, message: 'internal server error' };
      }
      return formatted;
    },
  });
  await apollo.start();

  app.get('/healthz', (async (_req, res) => {
    const ready = await options.isReady().catch(() => false);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'starting' });
  }) as RequestHandler);
  options.routes?.(app);
  app.use(
    '/graphql',
    express.json({ limit: '8mb' }),
    expressMiddleware(apollo, { context: async ({ req }) => options.context(req) }),
  );

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
    url: `http://${hostForUrl}:${port}`,
    port,
    // apollo.stop() drains in-flight requests through the drain plugin, then closes the listener.
    close: () => apollo.stop(),
  };
}
