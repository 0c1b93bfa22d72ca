/** /api/v1/events, /api/v1/audit and /api/v1/status: what happened, what was decided and why, and where every monitor stands. */
import type { FastifyInstance } from 'fastify';
import type { Monitor } from '../../core/types.js';
import { auditPage, parseDecisions, parseSince } from '../../manage/audit.js';
import { monitorsInRedis, statusRows } from '../../manage/state.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, eventSchema, limitQuery, statusRowSchema } from './api-schemas.js';

/** Registers /api/v1/events, /api/v1/audit and /api/v1/status. */
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

  app.get<{ Querystring: { monitorId?: string; reactionId?: string; decision?: string; since?: string; before?: number; limit: number } }>('/api/v1/audit', {
    schema: {
      summary: 'Every decision taken for a reaction (ran, failed, skipped, held) with its reason, newest first, a page at a time', tags: ['records'],
      description: 'Pass the answer\'s `next` as `before` for the page after; `next` is null on the last page.',
      querystring: {
        type: 'object',
        properties: {
          monitorId: { type: 'string', maxLength: 100, description: "only this monitor's decisions" },
          reactionId: { type: 'string', maxLength: 100, description: "only this reaction's decisions" },
          decision: { type: 'string', maxLength: 100, description: 'only these decisions, comma-separated: ran, failed, skipped, held' },
          since: { type: 'string', maxLength: 40, description: 'only decisions since: a duration back from now (1h), an ISO time or epoch ms' },
          before: { type: 'integer', minimum: 0, description: "only decisions before this epoch ms: the previous page's next" },
          limit: limitQuery(10_000, 100),
        },
        additionalProperties: false,
      },
      response: { 200: { type: 'object', properties: { entries: { type: 'array', items: eventSchema }, next: { type: 'integer', nullable: true } } }, ...errorResponses },
    },
  }, async (request) => {
    const q = request.query;
    return auditPage(await deps.store(), {
      monitorId: q.monitorId, reactionId: q.reactionId, decisions: parseDecisions(q.decision === undefined ? undefined : [q.decision]),
      since: q.since === undefined ? undefined : parseSince(q.since), before: q.before, limit: q.limit,
    });
  });

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
