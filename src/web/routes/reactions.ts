/** /api/v1/reactions: CRUD (removing a reaction a monitor uses answers 409) and closing a fix's breaker by hand. */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Reaction } from '../../core/types.js';
import type { ReactionInput } from '../../manage/config-service.js';
import { reactionInputSchema } from '../../manage/input-schemas.js';
import type { WebDeps } from '../deps.js';
import { errorResponses, reactionSchema } from './api-schemas.js';
import { resetBreakers } from '../../manage/breakers.js';
import { crudRoutes } from './crud.js';

/** Registers the reaction routes. */
export async function reactionRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  crudRoutes<Reaction, ReactionInput>(app, deps, {
    kind: 'reaction', path: '/api/v1/reactions', input: reactionInputSchema, output: reactionSchema,
    list: (store) => store.listReactions(),
    get: (store, id) => store.getReaction(id),
    missing: errors.noSuchReaction,
    add: (service, input) => service.addReaction(input),
    update: (service, id, input) => service.updateReaction(id, input),
    remove: (service, id) => service.removeReaction(id),
  });

  app.post<{ Params: { id: string }; Body: { monitorId?: string } | undefined }>('/api/v1/reactions/:id/reset', {
    schema: {
      summary: "Close the reaction's open breaker in this zone (for one monitor, or every monitor), so the fix may run again",
      description: 'Recorded in the audit as breaker-reset, naming the API key.', tags: ['reactions'],
      params: { type: 'object', properties: { id: { type: 'string', maxLength: 100 } }, required: ['id'] },
      body: { type: 'object', nullable: true, properties: { monitorId: { type: 'string', maxLength: 100, description: 'only for this monitor' } }, additionalProperties: false },
      response: { 200: { type: 'object', properties: { closed: { type: 'array', items: { type: 'string' }, description: 'monitors whose breaker closed' } } }, ...errorResponses },
    },
  }, async (request) => {
    const id = request.params.id;
    if (!(await (await deps.store()).getReaction(id))) throw errors.noSuchReaction(id);
    return resetBreakers(deps.redis, deps.settings.zone, id, `API key ${request.apiKey?.name ?? 'unknown'}`, request.body?.monitorId);
  });
}
