/** /api/v1/reactions: CRUD; removing a reaction a monitor uses answers 409. */
import type { FastifyInstance } from 'fastify';
import { errors } from '../../core/errors.js';
import type { Reaction } from '../../core/types.js';
import type { ReactionInput } from '../../manage/config-service.js';
import { reactionInputSchema } from '../../manage/input-schemas.js';
import type { WebDeps } from '../deps.js';
import { reactionSchema } from './api-schemas.js';
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
}
