/** Where plug-in helpers live: what checks and reactions share is in plugin-support/, what one side alone uses in its _shared/. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO, sources } from './helpers/sources.js';

const RELATIVE_IMPORT = /\bfrom '(\.{1,2}\/[^']+)\.js'/g;

/** The repository's .ts files that `file` imports by a relative path. */
function importsOf(file: string): string[] {
  return [...readFileSync(join(REPO, file), 'utf8').matchAll(RELATIVE_IMPORT)].map((m) => relative(REPO, resolve(REPO, dirname(file), `${m[1]}.ts`)));
}

const top = (file: string): string => file.split('/')[0];
const PLUGIN_FILES = [...sources('checks'), ...sources('actions'), ...sources('plugin-support')];

test('every relative import of a plug-in file names a file that is there', () => {
  const missing = PLUGIN_FILES.flatMap((f) => importsOf(f).filter((t) => !existsSync(join(REPO, t))).map((t) => `${f} -> ${t}`));
  assert.equal(missing, []);
});

test('checks never import from actions/ nor reactions from checks/, and plugin-support/ imports from neither', () => {
  const forbidden: Record<string, string[]> = { checks: ['actions'], actions: ['checks'], 'plugin-support': ['checks', 'actions'] };
  const crossing = PLUGIN_FILES.flatMap((f) => importsOf(f).filter((t) => forbidden[top(f)].includes(top(t))).map((t) => `${f} -> ${t}`));
  assert.equal(crossing, [], 'what both sides use belongs in plugin-support/');
});

test('every plugin-support module is used by both checks and reactions, or by src/', () => {
  const users = new Map<string, Set<string>>(sources('plugin-support').map((m) => [m, new Set<string>()]));
  for (const file of [...sources('checks'), ...sources('actions'), ...sources('src')]) {
    // A module plugin-support uses itself serves whoever uses that one.
    const seen = new Set<string>();
    const pending = importsOf(file).filter((t) => users.has(t));
    for (let t = pending.pop(); t !== undefined; t = pending.pop()) {
      if (seen.has(t)) continue;
      seen.add(t);
      users.get(t)!.add(top(file));
      pending.push(...importsOf(t).filter((n) => users.has(n)));
    }
  }
  assert.ok(users.get('plugin-support/host.ts')?.has('checks') && users.get('plugin-support/host.ts')?.has('actions'), 'the scan sees both sides');
  const oneSided = [...users].filter(([, by]) => !by.has('src') && !(by.has('checks') && by.has('actions')))
    .map(([m, by]) => `${m}: used by ${[...by].join(', ') || 'nothing'}`);
  assert.equal(oneSided, [], "move a module one side alone uses to that side's _shared/");
});

test.run();
