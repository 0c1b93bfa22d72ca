/** Monitor and reaction data as people and API clients see it: what the module's schema marks secret is masked or left out. */
import { isEncrypted, SECRET_MASK } from './crypto.js';
import type { PluginLoader } from './plugins.js';
import { secretFields } from './schema.js';
import type { CheckModule, ReactionModule } from './types.js';

/** The check and reaction modules, which say which fields of a record's data are secret. */
export interface ModuleLoaders {
  checks: PluginLoader<CheckModule>;
  actions: PluginLoader<ReactionModule>;
}

/** Field names a check or reaction module marks secret; none when the module cannot be loaded (encrypted values are still masked). */
export async function secretsOf(loader: PluginLoader<CheckModule> | PluginLoader<ReactionModule>, name: string): Promise<string[]> {
  try {
    return secretFields((await loader.load(name)).meta.fields);
  } catch {
    return [];
  }
}

/**
 * Data as an API key may see it: the fields named in `secret` and any encrypted value shown as SECRET_MASK to a
 * read-write key, and left out altogether for a read-only one.
 */
export function shownData(data: Record<string, unknown>, secret: readonly string[], readOnly: boolean): Record<string, unknown> {
  const hidden = ([k, v]: [string, unknown]) => secret.includes(k) || isEncrypted(v);
  if (readOnly) return Object.fromEntries(Object.entries(data).filter((e) => !hidden(e)));
  return Object.fromEntries(Object.entries(data).map((e) => [e[0], hidden(e) ? SECRET_MASK : e[1]]));
}

/** A monitor or reaction (or a document's item) with its data as shownData shows it, the secret fields read from its module's schema. */
export async function shownRecord<T extends { data: unknown } & ({ ctype: string } | { rtype: string })>(modules: ModuleLoaders, record: T, readOnly: boolean): Promise<T> {
  const secret = 'ctype' in record ? await secretsOf(modules.checks, record.ctype) : await secretsOf(modules.actions, record.rtype);
  return { ...record, data: shownData(record.data as Record<string, unknown>, secret, readOnly) };
}
