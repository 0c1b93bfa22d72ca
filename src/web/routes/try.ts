/** POST /api/v1/monitors/:id/test and /api/v1/reactions/:id/test: a check or a reaction run now by the zone's processes (src/manage/try-runs.ts). */
import type { FastifyInstance } from 'fastify';
import { loadCurveSettings } from '../../core/curve.js';
import { clientCurve, type CurveClient } from '../../core/socket-options.js';
import { STATUS_VALUES } from '../../core/types.js';
import { testMonitor, testReaction, type TryDeps } from '../../manage/try-runs.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, idParams } from './api-schemas.js';

const testResultSchema = {
  type: 'object',
  properties: {
    monitorId: { type: 'string' }, zone: { type: 'string' }, status: { type: 'string', enum: STATUS_VALUES }, message: { type: 'string' },
    latencyMs: { type: 'number', nullable: true }, metrics: { type: 'object', additionalProperties: { type: 'number' } },
    due: { type: 'integer' }, checkedAt: { type: 'integer' }, worker: { type: 'string', description: 'the worker that ran it (host:pid)' },
    recorded: { type: 'boolean', description: 'whether it was recorded as a result of the zone (record: true)' }, test: { type: 'string' },
  },
};

const reactionTestedSchema = {
  type: 'object',
  properties: {
    reactionId: { type: 'string' }, monitorId: { type: 'string' }, outcome: { type: 'string', enum: ['ran', 'failed', 'skipped', 'dry-run'] },
    message: { type: 'string', description: "the module's message: what it did, why it failed, or (dry-run) what it would have done" },
    tookMs: { type: 'integer' }, sink: { type: 'string', description: 'the sink that ran it (host:pid)' }, test: { type: 'string' },
  },
};

/** Registers the test routes. */
export async function tryRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  // Read at the first test: a web that never tests needs no CURVE settings of its own.
  let curve: { value: CurveClient | undefined } | undefined;
  const tryDeps = async (): Promise<TryDeps> => {
    curve ??= { value: clientCurve(loadCurveSettings()) };
    return { redis: deps.redis, store: await deps.store(), settings: deps.settings, curve: curve.value };
  };

  app.post<{ Params: { id: string }; Body: { record?: boolean } | undefined }>('/api/v1/monitors/:id/test', {
    schema: {
      summary: "Run the monitor's check now through a broker and a worker of this zone; not recorded unless record is true",
      tags: ['monitors'], params: idParams('monitor'),
      body: { type: 'object', nullable: true, properties: { record: { type: 'boolean', description: 'record it as any result of the zone (its reactions act on it)' } }, additionalProperties: false },
      response: { 200: testResultSchema, ...errorResponses },
    },
  }, async (request) => {
    const { v: _, type: __, ...r } = await testMonitor(await tryDeps(), request.params.id, request.body?.record === true);
    return r;
  });

  app.post<{ Params: { id: string }; Body: { monitorId: string; status?: 'failed' | 'healthy' } }>('/api/v1/reactions/:id/test', {
    schema: {
      summary: 'Run the reaction now in a sink of this zone for a synthetic event of a monitor that uses it',
      description: 'For real, unless the reaction is dry-run (then the module says what it would have done). Recorded in the audit as test, naming the API key.',
      tags: ['reactions'], params: idParams('reaction'),
      body: {
        type: 'object', required: ['monitorId'], additionalProperties: false,
        properties: { monitorId: { type: 'string', minLength: 1, maxLength: 100 }, status: { type: 'string', enum: ['failed', 'healthy'], default: 'failed' } },
      },
      response: { 200: reactionTestedSchema, ...errorResponses },
    },
  }, async (request) => {
    const timeout = Number(process.env.CLOUDROUTES_REACTION_TIMEOUT_MS) || 30_000;
    const { monitorId, status = 'failed' } = request.body;
    const { v: _, type: __, ...r } = await testReaction(await tryDeps(), request.params.id, monitorId, status, `API key ${request.apiKey?.name ?? 'unknown'}`, timeout, 'monitorId');
    return r;
  });
}
