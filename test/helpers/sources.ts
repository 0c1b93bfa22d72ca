/** The repository's own TypeScript sources, for tests that read the code itself. */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root folder. */
export const REPO = fileURLToPath(new URL('../../..', import.meta.url));

/** The .ts files under `dir` (relative to the repository). */
export function sources(dir: string): string[] {
  const out: string[] = [];
  (function walk(d: string) {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.ts')) out.push(relative(REPO, p));
    }
  })(join(REPO, dir));
  return out.sort();
}
