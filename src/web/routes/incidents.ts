/** /api/v1/reactions/:id/stats, /api/v1/monitors/:id/stats and /api/v1/monitors/:id/incidents: the figures of src/manage/incidents.ts. */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../core/errors.js';
import { DECISION_VALUES } from '../../core/types.js';
import { parseSince } from '../../manage/audit.js';
import { EVENTS_PER_QUERY, incidentList, monitorStats, reactionStats, statsWindow } from '../../manage/incidents.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, idParams, limitQuery } from './api-schemas.js';

const ms = (description: string) => ({ type: 'integer', nullable: true, description });
const window = { since: { type: 'integer', description: 'start of the window, epoch ms' }, until: { type: 'integer', description: 'end of the window (now), epoch ms' } } as const;
const truncated = { type: 'boolean', description: `true when a monitor had more than ${EVENTS_PER_QUERY} status changes or decisions in the window: the oldest are not counted` } as const;
const sinceQuery = (dflt: string) => ({ type: 'string', maxLength: 40, default: dflt, description: `the window: a duration back from now (7d), an ISO time or epoch ms (default ${dflt})` });

const incidentProps = {
  id: { type: 'string', description: '<monitorId>:<zone>:<episode>' },
  monitorId: { type: 'string' },
  zone: { type: 'string' },
  episode: { type: 'integer', nullable: true, description: "the monitor's episode in the zone" },
  startedAt: { type: 'integer', description: 'the first failed result, epoch ms' },
  recoveredAt: ms('the first healthy result after it, epoch ms; null while it goes on'),
  detectMs: ms('time to detect: from the first failed result to the start of the first reaction run (ran or dry-run); null when none ran'),
  recoverMs: ms('time to recover: from the first failed result to the first healthy one; null while it goes on'),
  decisions: { type: 'integer', description: 'reaction decisions taken in it' },
} as const;

const stepSchema = {
  type: 'object',
  properties: {
    at: { type: 'integer' },
    kind: { type: 'string', enum: ['failed', 'status', 'decision', 'recovered'] },
    status: { type: 'string' }, reactionId: { type: 'string' }, outcome: { type: 'string', enum: DECISION_VALUES }, reason: { type: 'string' },
    tookMs: { type: 'integer', description: 'fixed: ms from the run to the healthy result; a run: how long the module took' },
    message: { type: 'string' },
  },
} as const;

const incidentSchema = { type: 'object', properties: { ...incidentProps, timeline: { type: 'array', items: stepSchema, description: 'the first failure, every decision in order, the recovery' } } } as const;
const overDays = (what: string) => ({ type: 'object', properties: { '7d': ms(`${what}, last 7 days`), '30d': ms(`${what}, last 30 days`) } });

const DOC = `Read from the store's events of the monitor (status changes and decisions, at most ${EVENTS_PER_QUERY} of each) in the window. ` +
  'An incident is an episode that went failed in one zone: from the first failed result to the first healthy one.';

/** Registers the stats and incidents routes. */
export async function incidentRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get<{ Params: { id: string }; Querystring: { since: string } }>('/api/v1/reactions/:id/stats', {
    schema: {
      summary: "A reaction's figures: decisions by outcome, fix success rate (fixed / (fixed + not-fixed)), median and p90 time from fix to healthy", tags: ['reactions'],
      description: `Over the decisions of each monitor naming the reaction now (at most ${EVENTS_PER_QUERY} per monitor) in the window.`,
      params: idParams('reaction'),
      querystring: { type: 'object', properties: { since: sinceQuery('30d') }, additionalProperties: false },
      response: {
        200: {
          type: 'object',
          properties: {
            reactionId: { type: 'string' }, ...window,
            decisions: { type: 'object', additionalProperties: { type: 'integer' }, description: 'decisions by outcome' },
            fixed: { type: 'integer' }, notFixed: { type: 'integer' },
            successRate: { type: 'number', nullable: true, description: 'fixed / (fixed + not-fixed); null when no run was verified' },
            timeToHealthyMs: { type: 'object', properties: { median: ms('median'), p90: ms('90th percentile') }, description: "from the fix's run to the healthy result" },
            monitors: { type: 'integer', description: 'monitors naming the reaction, whose decisions were read' },
            truncated,
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const store = await deps.store();
    if (!(await store.getReaction(request.params.id))) throw errors.noSuchReaction(request.params.id);
    return reactionStats(store, request.params.id, statsWindow(parseSince(request.query.since)));
  });

  app.get<{ Params: { id: string } }>('/api/v1/monitors/:id/stats', {
    schema: {
      summary: "A monitor's incidents of the last 30 days, mean time to recover (MTTR) and to detect over 7 and 30 days", tags: ['monitors'],
      description: DOC, params: idParams('monitor'),
      response: {
        200: {
          type: 'object',
          properties: {
            monitorId: { type: 'string' }, ...window,
            incidents: { type: 'array', items: { type: 'object', properties: incidentProps }, description: 'newest first, without timelines' },
            ongoing: { type: 'integer', description: 'incidents still going on' },
            mttrMs: overDays('mean time to recover'), mttdMs: overDays('mean time to detect'), truncated,
          },
        },
        ...errorResponses,
      },
    },
  }, async (request) => {
    const store = await deps.store();
    if (!(await store.getMonitor(request.params.id))) throw errors.noSuchMonitor(request.params.id);
    return monitorStats(store, request.params.id);
  });

  app.get<{ Params: { id: string }; Querystring: { since: string; limit: number } }>('/api/v1/monitors/:id/incidents', {
    schema: {
      summary: "A monitor's incidents that started in the window, newest first, each with its timeline and durations", tags: ['monitors'],
      description: DOC, params: idParams('monitor'),
      querystring: { type: 'object', properties: { since: sinceQuery('7d'), limit: limitQuery(10_000, 100) }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { ...window, incidents: { type: 'array', items: incidentSchema }, truncated } }, ...errorResponses },
    },
  }, async (request) => incidentList(await deps.store(), { ...statsWindow(parseSince(request.query.since)), monitorId: request.params.id, limit: request.query.limit }));
}
