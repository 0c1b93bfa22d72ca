/** The web process: REST API v1, webhook and heartbeat ingest, dashboard, /health and /metrics, on fastify. */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { installAuth } from './auth.js';
import type { WebDeps } from './deps.js';
import { toHttp } from './errors.js';
import { errors } from '../core/errors.js';
import { collectApiRoutes } from './openapi.js';
import { ROUTES } from './routes/index.js';

export const BODY_LIMIT = 1024 * 1024;

/** Builds the server with every route group; call listen() on it. */
export async function buildWebServer(deps: WebDeps): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({ loggerInstance: deps.logger as FastifyBaseLogger, bodyLimit: BODY_LIMIT, trustProxy: process.env.CLOUDROUTES_TRUST_PROXY === '1',
    // A line per request would drown the log at heartbeat rates; errors are logged by the handler below.
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setErrorHandler((err, request, reply) => {
    const { status, body } = toHttp(err);
    if (status >= 500) deps.logger.error({ err: (err as Error).message, url: request.url }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toHttp(errors.noRoute(request.method, request.url.split('?')[0]!));
    void reply.code(status).send(body);
  });
  installAuth(app, deps);
  collectApiRoutes(app);
  for (const routes of ROUTES) await app.register(async (instance) => routes(instance, deps));
  return app;
}
