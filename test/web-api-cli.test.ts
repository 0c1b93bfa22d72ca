import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import type { Monitor, Reaction } from '../src/core/types.js';
import type { ApplyReport } from '../src/manage/config-io.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { cli, type CliResult } from './helpers/procs.js';
import { json, useWebApi } from './helpers/web-api.js';

// The web process (store A) and the CLI on another store (B) with the same secret key: a setup moved through a document.
const dir = mkdtempSync(join(tmpdir(), 'cr-export-'));
const w = useWebApi(test);
let b: Store;
const env: NodeJS.ProcessEnv = {
  CLOUDROUTES_STORE: `sqlite:${join(dir, 'b.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'), CLOUDROUTES_SECRET_KEY: '12'.repeat(32), LOG_LEVEL: 'silent',
};
const run = (...args: string[]) => cli(args, env, dir);

test.before(async () => {
  env.REDIS_URL = w.redis.url;
  b = await openStore(String(env.CLOUDROUTES_STORE));
  const post = async <T>(path: string, body: unknown) =>
    (await (await w.call(path, { method: 'POST', ...json(body) })).json()) as T;
  const hook = await post<Reaction>('/api/v1/reactions', { name: 'page', rtype: 'webhook', data: { url: 'http://127.0.0.1:9/', headers: { authorization: 'Bearer s3cret' } } });
  const log = await post<Reaction>('/api/v1/reactions', { name: 'log', rtype: 'log', once: true, callOn: 'healthy', data: {} });
  await post<Monitor>('/api/v1/monitors', { name: 'site', ctype: 'tcp-check', interval: '30s', data: { host: '127.0.0.1', port: 80 }, reactions: [hook.id, log.id] });
  await post<Monitor>('/api/v1/monitors', { name: 'db', ctype: 'tcp-check', interval: 10, data: { host: '127.0.0.1', port: 5432 }, zones: ['default', 'eu'], quorum: 2 });
});
test.after(async () => {
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

function ok(r: CliResult): string {
  assert.is(r.code, 0, r.stderr);
  return r.stdout;
}

test('API export -> CLI apply on another store -> CLI export gives the same document; a second apply changes nothing', async () => {
  const exported = await (await w.call('/api/v1/config?format=yaml')).text();
  const file = join(dir, 'setup.yaml');
  writeFileSync(file, exported);

  const dry = ok(await run('apply', file, '--dry-run'));
  assert.match(dry, /^would create reaction r-\S+ \(page\)$/m);
  assert.match(dry, /dry run, nothing was changed: 4 created, 0 updated, 0 unchanged, 0 removed/);
  assert.equal(await b.listMonitors(), []);

  const first = ok(await run('apply', file));
  assert.match(first, /^created monitor m-\S+ \(site\)$/m);
  assert.match(first, /4 created, 0 updated, 0 unchanged, 0 removed\n$/);
  assert.is(ok(await run('export')), exported, 'same ids, same fields, the same encrypted secrets');

  const second = ok(await run('apply', file));
  assert.is(second, '0 created, 0 updated, 4 unchanged, 0 removed\n');
  // The secret still works on store B: the reaction shows it masked, and the document's ciphertext was kept as it is.
  const page = (await b.listReactions()).find((r) => r.name === 'page')!;
  assert.equal(JSON.parse(ok(await run('reaction', 'show', page.id, '--json'))).data.headers, '(secret)');
  assert.ok(exported.includes(String(page.data.headers)));
});

test('export --format json --out FILE; apply of a JSON file; --json report', async () => {
  const file = join(dir, 'setup.json');
  const r = await run('export', '--format', 'json', '--out', file);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '');
  assert.match(r.stderr, /wrote 2 reactions and 2 monitors to /);
  const doc = JSON.parse(readFileSync(file, 'utf8')) as { note: string; monitors: Monitor[] };
  assert.match(doc.note, /CLOUDROUTES_SECRET_KEY/);
  const report = JSON.parse(ok(await run('apply', file, '--json'))) as ApplyReport;
  assert.equal([report.created.length, report.updated.length, report.unchanged.length, report.removed.length], [0, 0, 4, 0]);
});

test('apply --prune removes what the document leaves out; edits made with "monitor edit" and "reaction edit" are put back', async () => {
  const file = join(dir, 'setup.yaml');
  const site = (await b.listMonitors()).find((m) => m.name === 'site')!;
  const log = (await b.listReactions()).find((r) => r.name === 'log')!;
  ok(await run('monitor', 'edit', site.id, '--interval', '1m', '--reactions', log.id));
  const edited = JSON.parse(ok(await run('reaction', 'edit', log.id, '--no-once', '--trigger', '3', '--json'))) as Reaction;
  assert.equal([edited.id, edited.once, edited.trigger, edited.callOn, edited.createdAt], [log.id, false, 3, 'healthy', log.createdAt]);
  const m = (await b.getMonitor(site.id))!;
  assert.equal([m.interval, m.reactions, m.data, m.createdAt], [60, [log.id], site.data, site.createdAt], 'edit changes only what it is given');

  const extra = JSON.parse(ok(await run('monitor', 'add', '--name', 'extra', '--ctype', 'tcp-check', '--data', '{"host":"h","port":1}', '--json'))) as { id: string };
  const back = ok(await run('apply', file));
  assert.match(back, /^updated monitor \S+ \(site\)$/m);
  assert.match(back, /^updated reaction \S+ \(log\)$/m);
  assert.match(back, /0 created, 2 updated, 2 unchanged, 0 removed/);
  assert.ok(await b.getMonitor(extra.id), 'without --prune the extra monitor stays');
  const pruned = ok(await run('apply', file, '--prune'));
  assert.match(pruned, new RegExp(`^removed monitor ${extra.id} \\(extra\\)$`, 'm'));
  assert.is(await b.getMonitor(extra.id), undefined);
});

test('edit refuses bad input like add; apply refuses a bad document with exit status 2 naming the item and field, changing nothing', async () => {
  const site = (await b.listMonitors()).find((m) => m.name === 'site')!;
  const bad = await run('monitor', 'edit', site.id, '--interval', '500ms');
  assert.is(bad.code, 2);
  assert.match(bad.stderr, /\[CR_BAD_INTERVAL\]/);
  const missing = await run('reaction', 'edit', 'r-nope', '--trigger', '2');
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /\[CR_NO_SUCH_REACTION\]/);

  const before = [await b.listReactions(), await b.listMonitors()];
  const file = join(dir, 'bad.yaml');
  const doc = YAML.parse(readFileSync(join(dir, 'setup.yaml'), 'utf8')) as { monitors: Record<string, unknown>[] };
  doc.monitors[1]!.interval = 0;
  doc.monitors[0]!.name = 'renamed';
  writeFileSync(file, YAML.stringify(doc));
  const r = await run('apply', file);
  assert.is(r.code, 2);
  assert.match(r.stderr, /\[CR_BAD_DOCUMENT\]/);
  assert.match(r.stderr, /monitors\[1\] "\w+": interval "0" is invalid/);
  assert.equal([await b.listReactions(), await b.listMonitors()], before, 'the valid change was not made either');
  writeFileSync(file, 'monitors: [');
  const broken = await run('apply', file);
  assert.is(broken.code, 2);
  assert.match(broken.stderr, /\[CR_BAD_DOCUMENT\].*line 1/);
  const none = await run('apply', join(dir, 'no-such-file.yaml'));
  assert.is(none.code, 2);
  assert.match(none.stderr, /ENOENT/);
});

test.run();
