/** GET /api/v1/modules: installed check and reaction modules with their schemas (and a reaction's kind). */
import type { FastifyInstance } from 'fastify';
import { describeModules } from '../../core/plugins.js';
import type { WebDeps } from '../deps.js';

export async function modulesRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/api/v1/modules', async () => ({ checks: await describeModules(deps.checks), reactions: await describeModules(deps.actions) }));
}
