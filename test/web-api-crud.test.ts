import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import type { Monitor, Reaction, Target } from '../src/core/types.js';
import type { TargetDetail, TargetView } from '../src/manage/targets.js';
import { json, useWebApi } from './helpers/web-api.js';

const w = useWebApi(test);
const post = (path: string, body: unknown, key?: string | null) => w.call(path, { method: 'POST', ...json(body), ...(key !== undefined ? { key } : {}) });
const put = (path: string, body: unknown) => w.call(path, { method: 'PUT', ...json(body) });
const del = (path: string, key?: string | null) => w.call(path, { method: 'DELETE', ...(key !== undefined ? { key } : {}) });

const HOOK = { name: 'page', rtype: 'webhook', trigger: 2, frequency: '5m', data: { url: 'http://127.0.0.1:9/hook', headers: { authorization: 'Bearer s3cret' } } };
const SITE = { name: 'site', ctype: 'tcp-check', interval: '10s', data: { host: '127.0.0.1', port: 9 } };

test('reactions: create (201 with id), list, show, replace, remove; secrets encrypted in the store and masked in answers', async () => {
  const created = await post('/api/v1/reactions', HOOK);
  assert.is(created.status, 201);
  const r = (await created.json()) as Reaction;
  assert.match(r.id, /^r-[a-z0-9]{10}$/);
  assert.equal({ name: r.name, rtype: r.rtype, trigger: r.trigger, frequency: r.frequency, callOn: r.callOn, once: r.once }, { name: 'page', rtype: 'webhook', trigger: 2, frequency: 300, callOn: 'failed', once: false });
  assert.equal(r.data, { url: 'http://127.0.0.1:9/hook', headers: '(secret)' });
  const stored = (await w.store.getReaction(r.id))!;
  assert.match(String(stored.data.headers), /^enc:v2:/, 'encrypted at rest');

  const list = (await (await w.call('/api/v1/reactions')).json()) as Reaction[];
  assert.equal(list.map((x) => x.id), [r.id]);
  assert.is(list[0]!.data.headers, '(secret)');
  const shown = (await (await w.call(`/api/v1/reactions/${r.id}`)).json()) as Reaction;
  assert.equal(shown, r);
  const asReader = (await (await w.call(`/api/v1/reactions/${r.id}`, { key: w.readKey })).json()) as Reaction;
  assert.equal(asReader.data, { url: 'http://127.0.0.1:9/hook' }, 'a read-only key sees nothing of the secret');

  // Sending back what GET showed keeps the secret; the id and createdAt stay.
  const replaced = await put(`/api/v1/reactions/${r.id}`, { ...HOOK, data: { ...shown.data }, callOn: 'both', once: true });
  assert.is(replaced.status, 200);
  const r2 = (await replaced.json()) as Reaction;
  assert.equal([r2.id, r2.createdAt, r2.callOn, r2.once], [r.id, r.createdAt, 'both', true]);
  assert.ok(r2.updatedAt >= r.updatedAt);
  assert.is((await w.store.getReaction(r.id))!.data.headers, stored.data.headers, 'the stored ciphertext is kept');

  assert.is((await del(`/api/v1/reactions/${r.id}`)).status, 204);
  assert.is((await w.call(`/api/v1/reactions/${r.id}`)).status, 404);
  assert.is(await w.store.getReaction(r.id), undefined);
});

test('monitors: create, list, show with live state and zone views, replace, remove', async () => {
  const r = (await (await post('/api/v1/reactions', { name: 'log', rtype: 'log', data: {} })).json()) as Reaction;
  const created = await post('/api/v1/monitors', { ...SITE, reactions: [r.id], zones: ['default', 'eu'], quorum: 2 });
  assert.is(created.status, 201);
  const m = (await created.json()) as Monitor;
  assert.match(m.id, /^m-[a-z0-9]{10}$/);
  assert.equal({ name: m.name, ctype: m.ctype, interval: m.interval, reactions: m.reactions, zones: m.zones, quorum: m.quorum, data: m.data },
    { name: 'site', ctype: 'tcp-check', interval: 10, reactions: [r.id], zones: ['default', 'eu'], quorum: 2, data: SITE.data });
  assert.equal(await w.store.getMonitor(m.id), m, 'what the answer shows is what was stored');

  const fresh = (await (await w.call(`/api/v1/monitors/${m.id}`)).json()) as Monitor & { state: Record<string, unknown>; zoneViews: Record<string, unknown> };
  assert.equal(fresh.state, { status: 'unknown', failcount: 0, lastCheck: null, latencyMs: null, lastChange: null, message: '' });
  assert.equal(fresh.zoneViews, {});

  const r0 = w.redis.client();
  const k = keys('default');
  await r0.hset(k.state(m.id), { status: 'failed', failcount: '3', lastCheck: '1700000000000', latencyMs: '12', lastChange: '1699999990000', message: 'refused' });
  await r0.hset(k.views(m.id), { eu: 'healthy|1700000000500|0' });
  r0.disconnect();
  const live = (await (await w.call(`/api/v1/monitors/${m.id}`)).json()) as typeof fresh;
  assert.equal(live.state, { status: 'failed', failcount: 3, lastCheck: 1700000000000, latencyMs: 12, lastChange: 1699999990000, message: 'refused' });
  assert.equal(live.zoneViews, { eu: { status: 'healthy', failcount: 0, lastCheck: 1700000000500 }, default: { status: 'failed', failcount: 3, lastCheck: 1700000000000 } });
  assert.equal(live.zones, ['default', 'eu'], 'the configured zones are not replaced by the views');

  const list = (await (await w.call('/api/v1/monitors')).json()) as Monitor[];
  assert.equal(list.map((x) => x.id), [m.id]);

  const replaced = await put(`/api/v1/monitors/${m.id}`, { ...SITE, name: 'site 2', interval: 60 });
  assert.is(replaced.status, 200);
  const m2 = (await replaced.json()) as Monitor;
  assert.equal([m2.id, m2.createdAt, m2.name, m2.interval, m2.reactions, m2.zones, m2.quorum], [m.id, m.createdAt, 'site 2', 60, [], undefined, undefined], 'PUT replaces every field');

  assert.is((await del(`/api/v1/monitors/${m.id}`)).status, 204);
  assert.is((await w.call(`/api/v1/monitors/${m.id}`)).status, 404);
  assert.is((await del(`/api/v1/monitors/${m.id}`)).status, 404);
  assert.is((await del(`/api/v1/reactions/${r.id}`)).status, 204);
});

test("a told monitor's token is shown once, in the answer to its create, with the URL to call", async () => {
  const created = await post('/api/v1/monitors', { name: 'job', ctype: 'webhook', interval: '1m', data: {} });
  assert.is(created.status, 201);
  const m = (await created.json()) as Monitor & { endpoint: { token: string; url: string } };
  assert.is(m.data.token, '(secret)');
  assert.match(m.endpoint.token, new RegExp(`^${m.id}\\.`));
  assert.is(m.endpoint.url, `${w.web.url}/api/v1/webhook/${m.id}`);
  const shown = (await (await w.call(`/api/v1/monitors/${m.id}`)).json()) as Record<string, unknown>;
  assert.is(shown.endpoint, undefined);
  // What the bridge does for it: the ingest routes find told monitors in the zone's Redis.
  const r0 = w.redis.client();
  await r0.set(keys('default').monitor(m.id), JSON.stringify(await w.store.getMonitor(m.id)));
  r0.disconnect();
  const told = await w.call(`/api/v1/webhook/${m.id}`, { method: 'POST', key: null, headers: { 'x-cloudroutes-token': m.endpoint.token, 'content-type': 'application/json' }, body: '{"status":"healthy"}' });
  assert.is(told.status, 202, 'the token works');
  assert.is((await del(`/api/v1/monitors/${m.id}`)).status, 204);
});

test('a reaction a monitor uses cannot be removed: 409 naming the monitor', async () => {
  const r = (await (await post('/api/v1/reactions', { name: 'log', rtype: 'log', data: {} })).json()) as Reaction;
  const m = (await (await post('/api/v1/monitors', { ...SITE, reactions: [r.id] })).json()) as Monitor;
  const refused = await del(`/api/v1/reactions/${r.id}`);
  assert.is(refused.status, 409);
  const body = (await refused.json()) as { error: { code: string; message: string } };
  assert.is(body.error.code, 'CR_REACTION_IN_USE');
  assert.ok(body.error.message.includes(m.id), body.error.message);
  assert.ok(await w.store.getReaction(r.id), 'still there');
  assert.is((await del(`/api/v1/monitors/${m.id}`)).status, 204);
  assert.is((await del(`/api/v1/reactions/${r.id}`)).status, 204);
});

test('unknown ids: 404 with the catalogue code, for every route that takes one', async () => {
  for (const [method, path, code] of [
    ['GET', '/api/v1/monitors/m-nope', 'CR_NO_SUCH_MONITOR'], ['PUT', '/api/v1/monitors/m-nope', 'CR_NO_SUCH_MONITOR'],
    ['DELETE', '/api/v1/monitors/m-nope', 'CR_NO_SUCH_MONITOR'], ['GET', '/api/v1/monitors/m-nope/history', 'CR_NO_SUCH_MONITOR'],
    ['GET', '/api/v1/reactions/r-nope', 'CR_NO_SUCH_REACTION'], ['PUT', '/api/v1/reactions/r-nope', 'CR_NO_SUCH_REACTION'],
    ['DELETE', '/api/v1/reactions/r-nope', 'CR_NO_SUCH_REACTION'],
  ] as const) {
    const body = method === 'PUT' ? json(path.includes('monitors') ? SITE : HOOK) : {};
    const res = await w.call(path, { method, ...body });
    assert.is(res.status, 404, `${method} ${path}`);
    assert.is(((await res.json()) as { error: { code: string } }).error.code, code);
  }
});

test('targets: list (set and named), set, show with its runs inside the window, remove; bad budgets 400 naming the field', async () => {
  const r = (await (await post('/api/v1/reactions', { name: 'reboot', rtype: 'log', target: 'db/primary', data: {} })).json()) as Reaction;
  const listed = async () => (await (await w.call('/api/v1/targets')).json()) as TargetView[];
  assert.equal(await listed(), [{ name: 'db/primary', maxRuns: 1, per: 3600, default: true, reactions: [{ id: r.id, name: 'reboot' }] }], 'named, not set: the default');

  const set = await put('/api/v1/targets/web-2', { maxRuns: 2, per: '1h' });
  assert.is(set.status, 200);
  const t = (await set.json()) as Target;
  assert.equal([t.name, t.maxRuns, t.per], ['web-2', 2, 3600]);
  assert.equal(await w.store.getTarget('web-2'), t, 'what the answer shows is what was stored');
  const again = (await (await put('/api/v1/targets/web-2', { maxRuns: 3, per: 600 })).json()) as Target;
  assert.equal([again.maxRuns, again.per, again.createdAt], [3, 600, t.createdAt], 'replaced, created time kept');
  assert.equal((await listed()).map((x) => [x.name, x.maxRuns, x.default, x.reactions.length]), [['db/primary', 1, true, 1], ['web-2', 3, false, 0]]);

  const r0 = w.redis.client();
  const now = Number((await r0.time())[0]) * 1000;
  await r0.zadd(keys('default').targetRuns('web-2'), now - 5000, `m-a|r-x|${now - 5000}`, now - 60_000, `m-b|r-x|${now - 60_000}`, now - 700_000, `m-c|r-x|${now - 700_000}`);
  r0.disconnect();
  const shown = (await (await w.call('/api/v1/targets/web-2')).json()) as TargetDetail;
  assert.equal(shown.runs, [{ monitorId: 'm-a', reactionId: 'r-x', at: now - 5000 }, { monitorId: 'm-b', reactionId: 'r-x', at: now - 60_000 }], 'inside the 10m window, newest first');
  assert.is(shown.zone, 'default');
  const named = (await (await w.call('/api/v1/targets/db%2Fprimary')).json()) as TargetDetail;
  assert.equal([named.name, named.default, named.reactions, named.runs], ['db/primary', true, [{ id: r.id, name: 'reboot' }], []]);

  for (const [path, body, field] of [
    ['/api/v1/targets/web-2', { maxRuns: 0, per: '1h' }, 'maxRuns'], ['/api/v1/targets/web-2', { maxRuns: 2, per: '500ms' }, 'per'],
    ['/api/v1/targets/web-2', { maxRuns: 2, per: 'soon' }, 'per'], ['/api/v1/targets/web%202', { maxRuns: 2, per: '1h' }, 'name'],
    ['/api/v1/targets/web-2', { maxRuns: 2 }, 'per'],
  ] as const) {
    const res = await put(path, body);
    assert.is(res.status, 400, `${path} ${JSON.stringify(body)}`);
    const err = ((await res.json()) as { error: { field?: string; message: string } }).error;
    assert.is(err.field, field, err.message);
  }
  assert.is((await w.store.getTarget('web-2'))?.maxRuns, 3, 'nothing refused was stored');

  const notSet = await del('/api/v1/targets/db%2Fprimary');
  assert.is(notSet.status, 404, 'named by a reaction but never set: nothing to remove');
  assert.is(((await notSet.json()) as { error: { code: string } }).error.code, 'CR_NO_SUCH_TARGET');
  assert.is((await w.call('/api/v1/targets/nope')).status, 404, 'neither set nor named');
  assert.is((await put('/api/v1/targets/db%2Fprimary', { maxRuns: 2, per: '5m' })).status, 200);
  const removed = await del('/api/v1/targets/db%2Fprimary');
  assert.is(removed.status, 200);
  assert.equal(await removed.json(), { removed: 'db/primary', reactions: [{ id: r.id, name: 'reboot' }], message: `still named by ${r.id}: they now share the default budget of 1 per 1h` });
  assert.is((await del('/api/v1/targets/web-2')).status, 200);
  assert.equal(await w.store.listTargets(), []);

  const ro = await w.call('/api/v1/targets/web-2', { method: 'PUT', key: w.readKey, ...json({ maxRuns: 2, per: '1h' }) });
  assert.is(ro.status, 403, 'a read-only key cannot set a budget');
  assert.is((await w.call('/api/v1/targets', { key: w.readKey })).status, 200);
  const doc = (await (await w.call('/api/v1/openapi.json')).json()) as { paths: Record<string, Record<string, unknown>> };
  assert.equal(Object.keys(doc.paths['/api/v1/targets/{name}']!).sort(), ['delete', 'get', 'put']);
  assert.is((await del(`/api/v1/reactions/${r.id}`)).status, 204);
});

test('access: a read-only key reads every route but each write is 403 and changes nothing; no key is 401', async () => {
  const m = (await (await post('/api/v1/monitors', SITE)).json()) as Monitor;
  const reads = ['/api/v1/monitors', `/api/v1/monitors/${m.id}`, `/api/v1/monitors/${m.id}/history`, '/api/v1/reactions', '/api/v1/events', '/api/v1/status', '/api/v1/config'];
  for (const path of reads) assert.is((await w.call(path, { key: w.readKey })).status, 200, path);
  // Each call without a key counts toward the 10-a-minute throttle, so only some of them.
  for (const path of reads.slice(0, 4)) assert.is((await w.call(path, { key: null })).status, 401, path);
  assert.is((await w.call('/api/v1/openapi.json', { key: null })).status, 200, 'the OpenAPI document is public');
  const writes: [string, string, unknown?][] = [
    ['POST', '/api/v1/monitors', SITE], ['PUT', `/api/v1/monitors/${m.id}`, { ...SITE, name: 'changed' }], ['DELETE', `/api/v1/monitors/${m.id}`],
    ['POST', '/api/v1/reactions', HOOK], ['PUT', '/api/v1/reactions/r-any', HOOK], ['DELETE', '/api/v1/reactions/r-any'], ['POST', '/api/v1/config', { monitors: [] }],
  ];
  for (const [method, path, body] of writes) {
    const ro = await w.call(path, { method, key: w.readKey, ...(body ? json(body) : {}) });
    assert.is(ro.status, 403, `${method} ${path} with a read-only key`);
    assert.is(((await ro.json()) as { error: { code: string } }).error.code, 'CR_READ_ONLY');
  }
  for (const [method, path, body] of writes.slice(0, 4)) {
    assert.is((await w.call(path, { method, key: null, ...(body ? json(body) : {}) })).status, 401, `${method} ${path} without a key`);
  }
  assert.equal((await w.store.listMonitors()).map((x) => [x.id, x.name]), [[m.id, 'site']]);
  assert.equal(await w.store.listReactions(), []);
  assert.is((await del(`/api/v1/monitors/${m.id}`)).status, 204);
});

test.run();
