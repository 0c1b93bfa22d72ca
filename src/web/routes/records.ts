/** /api/v1/events and /api/v1/status: what happened and where every monitor stands. */
import type { FastifyInstance } from 'fastify';
import type { Monitor } from '../../core/types.js';
import { monitorsInRedis, statusRows } from '../../manage/state.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, eventSchema, limitQuery, statusRowSchema } from './api-schemas.js';

/** Registers /api/v1/events and /api/v1/status. */
export async function recordRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get<{ Querystring: { monitorId?: string; limit: number } }>('/api/v1/events', {
    schema: {
      summary: 'Status changes and reaction runs, newest first', tags: ['records'],
      querystring: {
        type: 'object',
        properties: { monitorId: { type: 'string', maxLength: 100, description: "only this monitor's events" }, limit: limitQuery(10_000, 100) },
        additionalProperties: false,
      },
      response: { 200: { type: 'array', items: eventSchema }, ...errorResponses },
    },
  }, async (request) => (await deps.store()).events({ monitorId: request.query.monitorId, limit: request.query.limit }));

  app.get('/api/v1/status', {
    schema: {
      summary: 'One row per monitor with its live state (as "cloudroutes status --json")',
      description: "When the store cannot answer, the monitors this zone's Redis runs.", tags: ['records'],
      response: { 200: { type: 'array', items: statusRowSchema }, ...errorResponses },
    },
  }, async () => {
    let monitors: Monitor[];
    try {
      monitors = await (await deps.store()).listMonitors();
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message }, "status: the store cannot answer; showing the monitors this zone's Redis runs");
      monitors = await monitorsInRedis(deps.redis, deps.settings.zone);
    }
    return statusRows(deps.redis, deps.settings.zone, monitors);
  });
}
