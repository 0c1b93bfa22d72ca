/** /api/v1/targets: the budgets every reaction naming one target shares (list, show with its runs, set, remove). */
import type { FastifyInstance } from 'fastify';
import { targetInputSchema } from '../../manage/input-schemas.js';
import { removalNote, TargetService, type TargetInput } from '../../manage/targets.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, targetDetailSchema, targetParams, targetRemovedSchema, targetSchema, targetViewSchema } from './api-schemas.js';

type ByName = { Params: { name: string } };
const tags = ['targets'];

/** Registers the target routes. */
export async function targetRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const service = async () => new TargetService(await deps.store());

  app.get('/api/v1/targets', {
    schema: { summary: 'List targets: those set with a budget and those reactions name', tags, response: { 200: { type: 'array', items: targetViewSchema }, ...errorResponses } },
  }, async () => (await service()).list());

  app.get<ByName>('/api/v1/targets/:name', {
    schema: { summary: "Show a target: its budget, the reactions naming it and its runs inside the window in this zone's Redis", tags, params: targetParams, response: { 200: targetDetailSchema, ...errorResponses } },
  }, async (request) => (await service()).show(request.params.name, deps.redis, deps.settings.zone));

  app.put<ByName & { Body: TargetInput }>('/api/v1/targets/:name', {
    schema: {
      summary: "Set a target's budget", description: 'Created or replaced (keeping createdAt); every reaction naming the target shares it, in every zone.',
      tags, params: targetParams, body: targetInputSchema, response: { 200: targetSchema, ...errorResponses },
    },
  }, async (request) => (await service()).set(request.params.name, request.body));

  app.delete<ByName>('/api/v1/targets/:name', {
    schema: { summary: "Remove a target's budget; reactions still naming it fall back to the default", tags, params: targetParams, response: { 200: targetRemovedSchema, ...errorResponses } },
  }, async (request) => {
    const reactions = await (await service()).remove(request.params.name);
    return { removed: request.params.name, reactions, message: removalNote(reactions) };
  });
}
