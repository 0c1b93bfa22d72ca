/** GET /api/v1/modules: installed check and reaction modules with their schemas. */
import type { FastifyInstance } from 'fastify';
import type { PluginLoader } from '../../core/plugins.js';
import type { CheckModule, ReactionModule } from '../../core/types.js';
import type { WebDeps } from '../deps.js';

/** Each installed module's name, title, description and data schema (or why it cannot be loaded). */
export async function describeModules(loader: PluginLoader<CheckModule> | PluginLoader<ReactionModule>) {
  return Promise.all(loader.list().map(async (name) => {
    try {
      const m = await loader.load(name);
      return { name, title: m.meta.title, description: m.meta.description ?? '', fields: m.meta.fields };
    } catch (err) {
      return { name, error: (err as Error).message };
    }
  }));
}

export async function modulesRoutes(app: FastifyInstance, deps: WebDeps): Promise<void> {
  app.get('/api/v1/modules', async () => ({ checks: await describeModules(deps.checks), reactions: await describeModules(deps.actions) }));
}
