import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { silentLogger } from './helpers/peers.js';
import { refusal } from './helpers/refusal.js';

const root = mkdtempSync(join(tmpdir(), 'cr-plugins-'));
const extra = join(root, 'plugins');

function plugin(dir: string, name: string, source: string): void {
  mkdirSync(join(dir, name), { recursive: true });
  writeFileSync(join(dir, name, 'index.mjs'), source);
}

const GOOD_CHECK = `
export const meta = { title: 'Always healthy', fields: { type: 'object', properties: { note: { type: 'string' } }, additionalProperties: false } };
export async function check(job) { return { status: 'healthy', message: 'ok from ' + job.ctype }; }
`;

// Valid modules sit where a path-like name would lead if it were not refused first.
plugin(root, 'x', GOOD_CHECK);
plugin(extra, 'A', GOOD_CHECK);
plugin(extra, 'my-check', GOOD_CHECK);
plugin(extra, 'no-export', `export const meta = { title: 'x', fields: { type: 'object' } };`);
plugin(extra, 'bad-meta', `export const meta = { title: 'x', fields: { type: 'string' } };\nexport async function check() {}`);
plugin(extra, 'no-title', `export const meta = { fields: { type: 'object' } };\nexport async function check() {}`);
plugin(extra, 'throws', `throw new Error('boom at import');`);
plugin(extra, 'my-reaction', `export const meta = { title: 'R', fields: { type: 'object' } };\nexport async function react() { return 'ran'; }`);
plugin(extra, 'bad-should-run', `export const meta = { title: 'R', fields: { type: 'object' } };\nexport async function react() { return 'ran'; }\nexport const shouldRun = true;`);
plugin(extra, 'bad-kind', `export const meta = { title: 'R', kind: 'repair', fields: { type: 'object' } };\nexport async function react() { return 'ran'; }`);
plugin(extra, 'log', `export const meta = { title: 'Replaced log', fields: { type: 'object' } };\nexport async function react() { return 'skipped'; }`);

test('names that are not plain module names are refused before any file is touched', async () => {
  const loader = checkLoader([extra]);
  for (const name of ['../x', 'a/b', 'A', '', '-x', 'x.y']) {
    const err = await refusal(loader.load(name));
    assert.is(err.code, 'CR_BAD_MODULE_NAME', name);
    assert.match(err.message, `"${name}"`);
  }
});

test('an unknown module is CR_MODULE_NOT_FOUND, naming the folders searched', async () => {
  const err = await refusal(checkLoader([extra]).load('no-such-check'));
  assert.is(err.code, 'CR_MODULE_NOT_FOUND');
  assert.match(err.message, 'no-such-check');
  assert.match(err.message, extra);
});

test('a module in an extra folder loads and runs', async () => {
  const mod = await checkLoader([extra]).load('my-check');
  assert.is(mod.meta.title, 'Always healthy');
  const r = await mod.check({ monitorId: 'm', name: 'n', ctype: 'my-check', data: {}, timeoutMs: 100, zone: 'z' }, { signal: AbortSignal.timeout(100), logger: silentLogger });
  assert.equal(r, { status: 'healthy', message: 'ok from my-check' });
});

test('the same module is loaded once', async () => {
  const loader = checkLoader([extra]);
  assert.is(await loader.load('my-check'), await loader.load('my-check'));
});

test('a broken module is CR_MODULE_INVALID, naming the module and the reason', async () => {
  const loader = checkLoader([extra]);
  const cases: [string, string][] = [
    ['no-export', 'it must export an async function check()'],
    ['bad-meta', 'meta.fields must describe an object'],
    ['no-title', 'meta.title must be a non-empty string'],
    ['throws', 'boom at import'],
  ];
  for (const [name, reason] of cases) {
    const err = await refusal(loader.load(name));
    assert.is(err.code, 'CR_MODULE_INVALID', name);
    assert.match(err.message, `"${name}"`);
    assert.match(err.message, reason);
  }
  const err = await refusal(reactionLoader([extra]).load('my-check'));
  assert.match(err.message, 'it must export an async function react()');
  const bad = await refusal(reactionLoader([extra]).load('bad-should-run'));
  assert.match(bad.message, 'shouldRun, when exported, must be a function');
  const kind = await refusal(reactionLoader([extra]).load('bad-kind'));
  assert.is(kind.code, 'CR_MODULE_INVALID');
  assert.match(kind.message, 'meta.kind, when set, must be one of "fix", "notify", not "repair"');
});

test('validateData refuses bad data with CR_BAD_DATA naming the field', async () => {
  const err = await refusal(checkLoader().validateData('http-get-statuscode', { url: 'http://a/', codes: [200] }));
  assert.is(err.code, 'CR_BAD_DATA');
  assert.match(err.message, 'data.codes[0] must be a string');
  assert.match(err.message, 'check "http-get-statuscode"');
});

/** The module folders of the source tree (`checks/`, `actions/`): those with an index.ts, `_shared` left out. */
function sourceModules(folder: string): string[] {
  const dir = fileURLToPath(new URL(`../../${folder}`, import.meta.url));
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('_') && existsSync(join(dir, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

test('list() lists the built-ins (not the shared helpers folder) and extra modules', () => {
  assert.equal(checkLoader().list(), sourceModules('checks'));
  assert.equal(reactionLoader().list(), sourceModules('actions'));
  assert.ok(checkLoader().list().includes('tcp-check') && reactionLoader().list().includes('webhook'));
  assert.not.ok(checkLoader().list().includes('_shared'));
  const withExtra = checkLoader([extra]).list();
  assert.ok(withExtra.includes('my-check') && withExtra.includes('tcp-check'));
  assert.not.ok(withExtra.includes('A'), 'a folder with an invalid name is not listed');
});

test('every built-in passes the contract and describes each field', async () => {
  for (const [loader, names] of [[checkLoader(), checkLoader().list()], [reactionLoader(), reactionLoader().list()]] as const) {
    for (const name of names) {
      const mod = await loader.load(name);
      assert.ok(mod.meta.description, `${name} has a description`);
      assert.is(mod.meta.fields.additionalProperties, false, `${name} refuses unknown fields`);
      for (const [field, schema] of Object.entries(mod.meta.fields.properties ?? {})) assert.ok(schema.description, `${name}.${field} is described`);
    }
  }
});

test('a module in an extra folder replaces the built-in of the same name', async () => {
  const mod = await reactionLoader([extra]).load('log');
  assert.is(mod.meta.title, 'Replaced log');
});

test.run();
