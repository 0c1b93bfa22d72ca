/** /api/v1/monitors: CRUD (GET of one with its live state) and a monitor's history. */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Monitor } from '../../core/types.js';
import type { MonitorInput } from '../../manage/config-service.js';
import { monitorInputSchema } from '../../manage/input-schemas.js';
import { readStates, readZoneViews } from '../../manage/state.js';
import { toldEndpoint, webBaseUrl } from '../../manage/told-urls.js';
import type { WebDeps } from '../deps.js';
import { createdMonitorSchema, errorResponses, historySchema, idParams, limitQuery, monitorSchema, monitorWithStateSchema } from './api-schemas.js';
import { crudRoutes } from './crud.js';

const TIME = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch ms from a query value given as epoch ms or ISO 8601; 400 naming `field` otherwise. */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const ms = TIME.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw errors.badTime(field, value);
  return ms;
}

/** Registers the monitor routes. */
export async function monitorRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  crudRoutes<Monitor, MonitorInput>(app, deps, {
    kind: 'monitor', path: '/api/v1/monitors', input: monitorInputSchema, output: monitorSchema, detailed: monitorWithStateSchema,
    list: (store) => store.listMonitors(),
    get: (store, id) => store.getMonitor(id),
    missing: errors.noSuchMonitor,
    add: (service, input) => service.addMonitor(input),
    update: (service, id, input) => service.updateMonitor(id, input),
    remove: (service, id) => service.removeMonitor(id),
    details: async (m) => ({
      state: (await readStates(deps.redis, deps.settings.zone, [m.id])).get(m.id),
      zoneViews: await readZoneViews(deps.redis, deps.settings.zone, m.id),
    }),
    createdOutput: createdMonitorSchema,
    created: (m, request) => {
      // The URL as this client reached us, unless CLOUDROUTES_WEB_URL says how callers reach the web process.
      const endpoint = toldEndpoint(m, deps.secretKey, process.env.CLOUDROUTES_WEB_URL ? webBaseUrl() : `${request.protocol}://${request.host}`);
      return endpoint && { endpoint };
    },
  });

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; limit: number } }>('/api/v1/monitors/:id/history', {
    schema: {
      summary: "A monitor's check results, newest first", tags: ['monitors'], params: idParams('monitor'),
      querystring: {
        type: 'object',
        properties: {
          from: { type: 'string', maxLength: 40, description: 'earliest check time, epoch ms or ISO 8601 (inclusive)' },
          to: { type: 'string', maxLength: 40, description: 'latest check time, epoch ms or ISO 8601 (inclusive)' },
          limit: limitQuery(10_000, 100),
        },
        additionalProperties: false,
      },
      response: { 200: { type: 'array', items: historySchema }, ...errorResponses },
    },
  }, async (request) => {
    const { id } = request.params;
    const from = parseTime(request.query.from, 'from');
    const to = parseTime(request.query.to, 'to');
    const store = await deps.store();
    if (!(await store.getMonitor(id))) throw errors.noSuchMonitor(id);
    return store.history({ monitorId: id, from, to, limit: request.query.limit });
  });
}
