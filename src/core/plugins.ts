/** Loads and validates check (`checks/<ctype>`) and reaction (`actions/<rtype>`) plug-in modules. */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { errors } from './errors.js';
import { PLAIN_NAME } from './limits.js';
import { fieldProblems, schemaProblem } from './schema.js';
import { REACTION_KIND_VALUES, type CheckModule, type FieldSchema, type ReactionKind, type ReactionModule } from './types.js';
import { enableTypeScript } from './typescript-modules.js';

export type PluginKind = 'check' | 'reaction';

const BUILT_IN: Record<PluginKind, string> = {
  check: fileURLToPath(new URL('../../checks', import.meta.url)),
  reaction: fileURLToPath(new URL('../../actions', import.meta.url)),
};

const ENTRY_FILES = ['index.js', 'index.mjs'];
// In an extra folder the TypeScript source wins over a compiled index.js beside it, so what runs is what was edited.
const EXTRA_ENTRY_FILES = ['index.ts', ...ENTRY_FILES];

/** Finds, imports and validates plug-ins of one kind; each module is loaded once. */
export class PluginLoader<M extends CheckModule | ReactionModule> {
  private readonly cache = new Map<string, Promise<M>>();
  readonly dirs: string[];

  constructor(readonly kind: PluginKind, extraDirs: string[] = []) {
    this.dirs = [BUILT_IN[kind], ...extraDirs];
  }

  /** Loads module `name`; refuses names that are not plain module names before touching any file. */
  load(name: string): Promise<M> {
    if (typeof name !== 'string' || !PLAIN_NAME.test(name)) return Promise.reject(errors.badModuleName(this.kind, String(name)));
    let loaded = this.cache.get(name);
    if (!loaded) {
      loaded = this.importModule(name);
      this.cache.set(name, loaded);
      loaded.catch(() => this.cache.delete(name));
    }
    return loaded;
  }

  /** Loads `name` and checks `data` against its schema; throws CR_BAD_DATA naming each problem. */
  async validateData(name: string, data: unknown): Promise<M> {
    const mod = await this.load(name);
    const problems = fieldProblems(mod.meta.fields, data);
    if (problems.length) throw errors.badData(`${this.kind} "${name}"`, problems);
    return mod;
  }

  /** Names of every installed module of this kind, sorted. */
  list(): string[] {
    const names = new Set<string>();
    for (const dir of this.dirs) {
      if (!existsSync(dir)) continue;
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isDirectory() && PLAIN_NAME.test(entry.name) && this.entryFile(dir, entry.name)) names.add(entry.name);
      }
    }
    return [...names].sort();
  }

  /** The file module `name` loads from in folder `dir`, if it is there. */
  entryFile(dir: string, name: string): string | undefined {
    const files = dir === this.dirs[0] ? ENTRY_FILES : EXTRA_ENTRY_FILES;
    return files.map((f) => join(dir, name, f)).find((f) => existsSync(f));
  }

  private async importModule(name: string): Promise<M> {
    // Later folders win, so an operator's module can replace a built-in one.
    const file = [...this.dirs].reverse().map((d) => this.entryFile(d, name)).find(Boolean);
    if (!file) throw errors.moduleNotFound(this.kind, name, this.dirs);
    if (file.endsWith('.ts')) enableTypeScript(this.dirs.slice(1));
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      throw errors.moduleInvalid(this.kind, name, `importing ${file} failed: ${(err as Error).message}`);
    }
    const problem = this.contractProblem(mod);
    if (problem) throw errors.moduleInvalid(this.kind, name, problem);
    return mod as unknown as M;
  }

  private contractProblem(mod: Record<string, unknown>): string | undefined {
    const fn = this.kind === 'check' ? 'check' : 'react';
    if (typeof mod[fn] !== 'function') return `it must export an async function ${fn}()`;
    const meta = mod.meta as ReactionModule['meta'] | undefined;
    if (!meta || typeof meta !== 'object') return 'it must export meta = { title, fields }';
    if (typeof meta.title !== 'string' || !meta.title) return 'meta.title must be a non-empty string';
    if (meta.runsCommands !== undefined && typeof meta.runsCommands !== 'boolean') return 'meta.runsCommands, when set, must be true or false';
    if (this.kind === 'reaction' && meta.kind !== undefined && !(REACTION_KIND_VALUES as readonly unknown[]).includes(meta.kind)) {
      return `meta.kind, when set, must be one of ${REACTION_KIND_VALUES.map((k) => `"${k}"`).join(', ')}, not ${JSON.stringify(meta.kind)}`;
    }
    if (mod.shouldRun !== undefined && typeof mod.shouldRun !== 'function') return 'shouldRun, when exported, must be a function';
    if (mod.prepareData !== undefined && typeof mod.prepareData !== 'function') return 'prepareData, when exported, must be a function';
    return schemaProblem(meta.fields);
  }
}

export function checkLoader(extraDirs: string[] = []): PluginLoader<CheckModule> {
  return new PluginLoader<CheckModule>('check', extraDirs);
}

export function reactionLoader(extraDirs: string[] = []): PluginLoader<ReactionModule> {
  return new PluginLoader<ReactionModule>('reaction', extraDirs);
}

/** One installed module as `cloudroutes modules` and GET /api/v1/modules list it, or why it cannot be loaded. */
export type ModuleListing =
  | { name: string; title: string; description: string; kind?: ReactionKind; runsCommands: boolean; fields: FieldSchema }
  | { name: string; error: string };

/** Each module of `loader` with its title, description, schema, whether it runs commands and, for a reaction, its kind (default notify). */
export async function describeModules(loader: PluginLoader<CheckModule> | PluginLoader<ReactionModule>): Promise<ModuleListing[]> {
  return Promise.all(loader.list().map(async (name): Promise<ModuleListing> => {
    try {
      const { meta } = await loader.load(name);
      const kind = loader.kind === 'reaction' ? { kind: (meta as ReactionModule['meta']).kind ?? 'notify' } : {};
      return { name, title: meta.title, description: meta.description ?? '', ...kind, runsCommands: meta.runsCommands === true, fields: meta.fields };
    } catch (err) {
      return { name, error: (err as Error).message };
    }
  }));
}
