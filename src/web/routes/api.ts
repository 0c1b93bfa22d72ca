/** The REST API v1: monitors, reactions, targets, records, configuration documents and the OpenAPI document describing them. */
import type { FastifyInstance } from 'fastify';
import type { WebDeps } from '../deps.js';
import { openApiDocument } from '../openapi.js';
import { apiValidatorCompiler } from '../validation.js';
import { configRoutes } from './config.js';
import { incidentRoutes } from './incidents.js';
import { monitorRoutes } from './monitors.js';
import { reactionRoutes } from './reactions.js';
import { recordRoutes } from './records.js';
import { targetRoutes } from './targets.js';
import { tryRoutes } from './try.js';

/** Registers the API v1 route groups with strict body validation, and the OpenAPI document. */
export async function apiRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.setValidatorCompiler(apiValidatorCompiler);
  await monitorRoutes(app, deps);
  await reactionRoutes(app, deps);
  await targetRoutes(app, deps);
  await recordRoutes(app, deps);
  await incidentRoutes(app, deps);
  await tryRoutes(app, deps);
  // Its own context: only this group reads YAML bodies.
  await app.register(async (instance) => configRoutes(instance, deps));

  let document: object | undefined;
  app.get('/api/v1/openapi.json', {
    config: { access: 'public' },
    schema: { summary: 'This API as an OpenAPI 3.0 document', tags: ['api'], response: { 200: { type: 'object', additionalProperties: true, description: 'the OpenAPI document' } } },
  }, async () => (document ??= openApiDocument(app.apiRoutes)));
}
