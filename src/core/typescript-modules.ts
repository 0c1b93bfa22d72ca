/** Lets plug-ins in extra module folders be written in TypeScript: registers typescript-hooks.ts for those folders. */
import { realpathSync } from 'node:fs';
import { register } from 'node:module';
import { resolve, sep } from 'node:path';
import type { HookData } from './typescript-hooks.js';

/** What `cloudroutes` and `cloudroutes/testing` mean inside a module folder, which has no node_modules of its own. */
const ENTRIES: Record<string, string> = {
  cloudroutes: new URL('./plugin-api.js', import.meta.url).href,
  'cloudroutes/testing': new URL('../testing/index.js', import.meta.url).href,
};

const covered = new Set<string>();

function realPath(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/**
 * Makes `.ts` files under `dirs` importable from now on. Idempotent per folder. register() is the one way to hand the
 * loader thread new folders before the next import (it waits for initialize()), so each call with new folders adds a
 * link to Node's hook chain; the links share one folder list, and a process has only a few module folders.
 */
export function enableTypeScript(dirs: string[]): void {
  const inside = (dir: string) => [...covered].some((c) => dir === c || dir.startsWith(c + sep));
  const fresh = [...new Set(dirs.map(realPath))].filter((d) => !inside(d));
  if (!fresh.length) return;
  for (const d of fresh) covered.add(d);
  // Stack traces of a TypeScript module then name its .ts lines (the transpiled code carries an inline source map).
  process.setSourceMapsEnabled(true);
  const data: HookData = { roots: fresh, entries: ENTRIES };
  register('./typescript-hooks.js', { parentURL: import.meta.url, data });
}
