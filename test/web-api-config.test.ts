import { test } from 'uvu';
import * as assert from 'uvu/assert';
import YAML from 'yaml';
import { decryptFields } from '../src/core/crypto.js';
import { reactionLoader } from '../src/core/plugins.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import type { ApplyReport } from '../src/manage/config-io.js';
import type { Store } from '../src/store/store.js';
import { json, useWebApi, type ErrorBody } from './helpers/web-api.js';

const w = useWebApi(test);
const SECRET = Buffer.from('12'.repeat(32), 'hex');
test.before.each(async () => {
  for (const m of await w.store.listMonitors()) await w.store.deleteMonitor(m.id);
  for (const r of await w.store.listReactions()) await w.store.deleteReaction(r.id);
});

const postJson = async <T>(path: string, body: unknown, status = 201): Promise<T> => {
  const res = await w.call(path, { method: 'POST', ...json(body) });
  const text = await res.text();
  assert.is(res.status, status, text);
  return JSON.parse(text) as T;
};
const apply = (body: string, query = '', type = 'application/yaml') => w.call(`/api/v1/config${query}`, { method: 'POST', headers: { 'content-type': type }, body });
const counts = (r: ApplyReport) => [r.created.length, r.updated.length, r.unchanged.length, r.removed.length];

/** Two reactions (one with a secret header) and two monitors using them. */
async function seed(): Promise<{ hook: Reaction; log: Reaction; site: Monitor; db: Monitor }> {
  const hook = await postJson<Reaction>('/api/v1/reactions', { name: 'page', rtype: 'webhook', frequency: '5m', data: { url: 'http://127.0.0.1:9/', headers: { authorization: 'Bearer s3cret' } } });
  const log = await postJson<Reaction>('/api/v1/reactions', { name: 'log', rtype: 'log', callOn: 'both', data: {} });
  const site = await postJson<Monitor>('/api/v1/monitors', { name: 'site', ctype: 'http-get-statuscode', interval: '30s', data: { url: 'http://127.0.0.1:9/', headers: { cookie: 'x=1' } }, reactions: [hook.id, log.id] });
  const db = await postJson<Monitor>('/api/v1/monitors', { name: 'db', ctype: 'tcp-check', interval: 10, data: { host: '127.0.0.1', port: 5432 }, reactions: [log.id], zones: ['default', 'eu'], quorum: 2 });
  return { hook, log, site, db };
}

/** Resolves with the first batch of configuration changes within `ms`, or undefined when none came. */
async function changesWithin(store: Store, ms: number, during: () => Promise<unknown>): Promise<unknown[] | undefined> {
  const feed = await store.follow();
  const next = feed[Symbol.asyncIterator]().next();
  await during();
  const batch = await Promise.race([next.then((r) => r.value as unknown[]), new Promise<undefined>((r) => setTimeout(r, ms))]);
  await feed.close();
  return batch;
}

test('export (YAML and JSON) lists reactions and monitors with their ids; secrets stay encrypted and say so', async () => {
  const { hook, log, site, db } = await seed();
  const res = await w.call('/api/v1/config?format=yaml');
  assert.is(res.status, 200);
  assert.match(res.headers.get('content-type')!, /^application\/yaml/);
  const text = await res.text();
  assert.match(text, /^# CloudRoutes configuration/);
  assert.match(text, /# Secret values are exported encrypted \(enc:v2:\.\.\.\), each bound to its record's id, its field and where it is sent; they work where CLOUDROUTES_SECRET_KEY is the same key\./);
  const doc = YAML.parse(text) as { version: number; reactions: Reaction[]; monitors: Monitor[] };
  assert.is(doc.version, 1);
  assert.equal(doc.reactions.map((r) => r.id).sort(), [hook.id, log.id].sort());
  assert.equal(doc.monitors.map((m) => m.id).sort(), [site.id, db.id].sort());
  const exportedHook = doc.reactions.find((r) => r.id === hook.id)!;
  assert.match(String(exportedHook.data.headers), /^enc:v2:/);
  const webhook = (await reactionLoader().load('webhook')).meta.fields;
  assert.equal(decryptFields(SECRET, exportedHook.data, webhook, { kind: 'reaction', id: hook.id }).headers, { authorization: 'Bearer s3cret' }, 'usable with the same key');
  assert.not.ok(text.includes('s3cret'));
  assert.equal(doc.monitors.find((m) => m.id === db.id), { id: db.id, name: 'db', ctype: 'tcp-check', interval: 10, reactions: [log.id], zones: ['default', 'eu'], quorum: 2, data: { host: '127.0.0.1', port: 5432 } });

  const asJson = (await (await w.call('/api/v1/config')).json()) as typeof doc & { note: string };
  assert.match(asJson.note, /encrypted/);
  assert.equal(asJson.reactions, doc.reactions);
  assert.equal(asJson.monitors, doc.monitors);
});

test('apply of the export changes nothing: every item unchanged, no write and no change in the feed', async () => {
  await seed();
  const before = [await w.store.listReactions(), await w.store.listMonitors()];
  for (const format of ['yaml', 'json'] as const) {
    const text = await (await w.call(`/api/v1/config?format=${format}`)).text();
    let report: ApplyReport | undefined;
    const changes = await changesWithin(w.store, 600, async () => {
      const res = await apply(text, '', format === 'yaml' ? 'application/yaml' : 'application/json');
      assert.is(res.status, 200);
      report = (await res.json()) as ApplyReport;
    });
    assert.equal(counts(report!), [0, 0, 4, 0], format);
    assert.is(changes, undefined, 'the bridge is not sent anything');
  }
  assert.equal([await w.store.listReactions(), await w.store.listMonitors()], before, 'not even updatedAt moved');
});

test('apply creates what is missing, updates what differs (secrets given in plain text too) and is idempotent', async () => {
  const { hook, site } = await seed();
  const doc = YAML.parse(await (await w.call('/api/v1/config?format=yaml')).text()) as { reactions: Record<string, unknown>[]; monitors: Record<string, unknown>[] };
  (doc.monitors.find((m) => m.id === site.id)!).interval = '1m';
  doc.reactions.find((r) => r.id === hook.id)!.data = { url: 'http://127.0.0.1:9/', headers: { authorization: 'Bearer s3cret' } };
  doc.reactions.push({ name: 'new log', rtype: 'log', data: {} });
  doc.monitors.push({ name: 'cache', ctype: 'tcp-check', interval: 5, data: { host: '127.0.0.1', port: 6379 }, reactions: [hook.id] });
  const text = YAML.stringify(doc);

  const dry = (await (await apply(text, '?dryRun=true')).json()) as ApplyReport;
  assert.is(dry.dryRun, true);
  assert.equal(counts(dry), [2, 1, 3, 0]);
  assert.equal(dry.updated, [{ kind: 'monitor', id: site.id, name: 'site' }]);
  assert.is((await w.store.listMonitors()).length, 2, 'a dry run changes nothing');

  let first: ApplyReport | undefined;
  const changes = await changesWithin(w.store, 2000, async () => (first = (await (await apply(text)).json()) as ApplyReport));
  assert.ok(changes?.length, 'the changes reach the feed');
  assert.equal(counts(first!), [2, 1, 3, 0], 'the plain-text secret equals the stored one: the reaction is unchanged');
  assert.equal(first!.created.map((c) => c.name).sort(), ['cache', 'new log']);
  const stored = await w.store.getMonitor(site.id);
  assert.equal([stored!.interval, stored!.createdAt], [60, site.createdAt]);
  const cache = (await w.store.listMonitors()).find((m) => m.name === 'cache')!;
  assert.equal(cache.reactions, [hook.id]);

  const again = (await (await apply(text)).json()) as ApplyReport;
  assert.equal(counts(again), [0, 0, 6, 0], 'items without ids are found again by name');
  assert.equal(again.unchanged.find((c) => c.name === 'cache')!.id, cache.id);
});

test('--prune removes what the document does not list (monitors before the reactions they use); without it they stay', async () => {
  const { hook, log, site, db } = await seed();
  const doc = { version: 1, reactions: [{ id: log.id, name: 'log', rtype: 'log', callOn: 'both', data: {} }], monitors: [{ id: db.id, name: 'db', ctype: 'tcp-check', interval: 10, data: { host: '127.0.0.1', port: 5432 }, reactions: [log.id], zones: ['default', 'eu'], quorum: 2 }] };
  const kept = (await (await apply(JSON.stringify(doc), '', 'application/json')).json()) as ApplyReport;
  assert.equal(counts(kept), [0, 0, 2, 0]);
  assert.is((await w.store.listMonitors()).length, 2);

  const dry = (await (await apply(JSON.stringify(doc), '?prune=true&dryRun=true', 'application/json')).json()) as ApplyReport;
  assert.equal(dry.removed.map((r) => r.id).sort(), [hook.id, site.id].sort());
  assert.is((await w.store.listMonitors()).length, 2);

  const pruned = (await (await apply(JSON.stringify(doc), '?prune=true', 'application/json')).json()) as ApplyReport;
  assert.equal(counts(pruned), [0, 0, 2, 2]);
  assert.equal((await w.store.listMonitors()).map((m) => m.id), [db.id]);
  assert.equal((await w.store.listReactions()).map((r) => r.id), [log.id]);

  // With --prune a monitor may only use reactions the document lists.
  const dangling = { ...doc, reactions: [] };
  const res = await apply(JSON.stringify(dangling), '?prune=true', 'application/json');
  assert.is(res.status, 400);
  assert.is(((await res.json()) as ErrorBody).error.field, 'monitors[0].reactions');
});

test('an invalid document changes nothing; the error names each item and field', async () => {
  const { log, site } = await seed();
  const before = [await w.store.listReactions(), await w.store.listMonitors()];
  const bad = YAML.stringify({
    reactions: [{ name: 'fresh', rtype: 'log', data: {} }],
    monitors: [
      { id: site.id, name: 'site', ctype: 'tcp-check', interval: 10, data: { host: 'h', port: 1 } },
      { name: 'fast', ctype: 'tcp-check', interval: '500ms', data: { host: 'h', port: 1 } },
      { name: 'odd', ctype: '../x', interval: 10, data: {} },
      { name: 'lost', ctype: 'tcp-check', interval: 10, data: { host: 'h', port: 1 }, reactions: ['r-nope', log.id] },
    ],
  });
  const res = await apply(bad);
  assert.is(res.status, 400);
  const body = (await res.json()) as ErrorBody;
  assert.is(body.error.code, 'CR_BAD_DOCUMENT');
  assert.is(body.error.field, 'monitors[1].interval');
  assert.match(body.error.message, /nothing was changed/);
  assert.match(body.error.message, /monitors\[1\] "fast": interval "500ms" is invalid/);
  assert.match(body.error.message, /monitors\[2\] "odd": check name "\.\.\/x" is not a plain module name/);
  assert.match(body.error.message, /monitors\[3\] "lost": reaction "r-nope" does not exist/);
  assert.equal([await w.store.listReactions(), await w.store.listMonitors()], before);

  for (const [text, field] of [
    ['monitors: [1, 2', ''], ['- just a list', ''], ['monitors: {}', 'monitors'], ['version: 2', 'version'], ['extra: 1', 'extra'],
    ['monitors:\n  - {name: a, ctype: tcp-check, interval: 10, data: {host: h, port: 1}, intreval: 5}', 'monitors[0].intreval'],
    ['monitors:\n  - {id: "m-../../x", name: a, ctype: tcp-check, interval: 10, data: {host: h, port: 1}}', 'monitors[0].id'],
    ['reactions:\n  - {name: a, rtype: log, data: {}}\n  - {name: a, rtype: log, data: {}}', 'reactions[1].id'],
  ] as const) {
    const r = await apply(text);
    const b = (await r.json()) as ErrorBody;
    assert.is(r.status, 400, text);
    assert.ok(['CR_BAD_DOCUMENT', 'CR_BAD_REQUEST'].includes(b.error.code), text);
    assert.is(b.error.field ?? '', field, `${text}: ${b.error.message}`);
  }
  assert.equal([await w.store.listReactions(), await w.store.listMonitors()], before);
});

test('a document made elsewhere with hand-written ids applies; monitors may refer to reactions by those ids', async () => {
  const text = [
    'reactions:',
    '  - {id: r-page, name: page, rtype: webhook, trigger: 3, data: {url: "http://127.0.0.1:9/", headers: {authorization: "Bearer t"}}}',
    'monitors:',
    '  - {id: m-home, name: home, ctype: tcp-check, interval: 1m, data: {host: 127.0.0.1, port: 80}, reactions: [r-page]}',
  ].join('\n');
  const report = (await (await apply(text, '', 'text/yaml')).json()) as ApplyReport;
  assert.equal(report.created, [{ kind: 'reaction', id: 'r-page', name: 'page' }, { kind: 'monitor', id: 'm-home', name: 'home' }]);
  const page = (await w.store.getReaction('r-page'))!;
  assert.match(String(page.data.headers), /^enc:v2:/, 'plain secrets are encrypted on the way in');
  assert.equal((await w.store.getMonitor('m-home'))!.interval, 60);
  assert.equal(counts((await (await apply(text, '', 'text/yaml')).json()) as ApplyReport), [0, 0, 2, 0]);
});

test.run();
