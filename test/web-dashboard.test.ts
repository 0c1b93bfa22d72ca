/** The dashboard without a browser: pages from a running monitoring path, the login session, redirects and escaping. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import { encryptFields } from '../src/core/crypto.js';
import { keys } from '../src/core/keys.js';
import { checkLoader } from '../src/core/plugins.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import { html } from '../src/web/dashboard/html.js';
import { safeNext } from '../src/web/dashboard/session.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';

const SECRET_HEX = '12'.repeat(32);
const zone = 'default';
const k = keys(zone);
const redisServer = new RedisServer();
let redis: Redis;
let w: WebFixture;
let cluster: Cluster;
let target: Server;
let targetCode = 200;
let session = '';

const now = Date.now();
const statusFields = (await checkLoader().load('http-get-statuscode')).meta.fields;
const reaction: Reaction = { id: 'r-logit', name: 'log it', rtype: 'log', trigger: 1, frequency: 0, callOn: 'failed', once: false, data: {}, createdAt: now, updatedAt: now };
const monitor = (id: string, name: string, url: string): Monitor => ({
  id, name, ctype: 'http-get-statuscode', interval: 1, reactions: [reaction.id], createdAt: now - 2 * 3_600_000, updatedAt: now,
  data: encryptFields(Buffer.from(SECRET_HEX, 'hex'), { url, codes: ['200'], headers: { authorization: 'Bearer very-secret-token' } }, statusFields, { kind: 'monitor', id }),
});
let site: Monitor;

/** GET with the session cookie (or none), not following redirects. */
const get = (path: string, cookie: string | null = session) =>
  fetch(`${w.web.url}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
const postForm = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${w.web.url}${path}`, { method: 'POST', redirect: 'manual', body: new URLSearchParams(form), headers });
const page = async (path: string) => {
  const r = await get(path);
  assert.is(r.status, 200, `GET ${path}`);
  return r.text();
};

test.before(async () => {
  await redisServer.start();
  redis = redisServer.client();
  target = createServer((_req, res) => res.writeHead(targetCode).end('app'));
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  w = await startWebFixture(redisServer.url, {}, { authCooldownMs: 2000 });
  session = `cr_session=${encodeURIComponent(w.readKey)}`;
  site = monitor('m-site', 'site', `http://127.0.0.1:${(target.address() as { port: number }).port}/`);
  await w.store.putReaction(reaction);
  await w.store.putMonitor(site);
  // As the bridge would: the config into this zone's Redis. No bridge runs, so results stay in the Redis streams.
  await putReaction(redis, zone, reaction);
  await putMonitor(redis, zone, site);
  cluster = await new Cluster({ redisUrl: redisServer.url, zone, secretKey: Buffer.from(SECRET_HEX, 'hex') }).start();
});

test.after(async () => {
  await cluster.stop();
  await w.stop();
  target.close();
  redis.disconnect();
  await redisServer.stop();
});

test('html`` escapes every value, keeps Html, joins arrays and drops false/null', () => {
  const name = `<script>alert("x")</script>&'`;
  assert.is(html`<td title="${name}">${name}</td>`.text,
    '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</td>');
  assert.is(html`<ul>${['<a>', 'b'].map((x) => html`<li>${x}</li>`)}</ul>`.text, '<ul><li>&lt;a&gt;</li><li>b</li></ul>');
  assert.is(html`${false}${null}${undefined}${0}`.text, '0');
});

test('pages redirect to /login without a session (not counted as a failure); the refresh fragment gets 401', async () => {
  for (let i = 0; i < 12; i++) {
    const r = await get('/monitors/m-site?x=1', null);
    assert.is(r.status, 303);
    assert.is(r.headers.get('location'), '/login?next=%2Fmonitors%2Fm-site%3Fx%3D1');
  }
  const fragment = await get('/?fragment=1', null);
  assert.is(fragment.status, 401);
  const login = await get('/login?next=%2Freactions', null);
  assert.is(login.status, 200);
  const body = await login.text();
  assert.match(body, /<form method="post" action="\/login">/);
  assert.match(body, /<input type="hidden" name="next" value="\/reactions">/);
  assert.is((await get('/favicon.ico', null)).status, 200, 'the icon a browser asks for needs no session');
  assert.is((await w.call('/api/v1/modules')).status, 200, 'visits without a cookie did not throttle this source');
});

test('login with a key sets the session cookie (HttpOnly, Secure, SameSite=Strict, Path=/) and goes on; logout clears it', async () => {
  const r = await postForm('/login', { key: w.readKey, next: '/reactions' });
  assert.is(r.status, 303);
  assert.is(r.headers.get('location'), '/reactions');
  const cookie = r.headers.getSetCookie()[0]!;
  assert.match(cookie, new RegExp(`^cr_session=${encodeURIComponent(w.readKey)};`));
  for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) assert.ok(cookie.split('; ').includes(flag), `${flag} in ${cookie}`);
  const home = await get('/', cookie.split(';')[0]!);
  assert.is(home.status, 200);
  assert.match(await home.text(), /key “reader” \(read-only\)/);

  const out = await postForm('/logout', {}, { cookie: cookie.split(';')[0]! });
  assert.is(out.status, 303);
  assert.is(out.headers.get('location'), '/login');
  assert.match(out.headers.getSetCookie()[0]!, /^cr_session=; HttpOnly; Secure; SameSite=Strict; Path=\/; Max-Age=0$/);
});

test('after login only paths on this site are followed; a login posted from another site is refused', async () => {
  for (const next of ['//evil.example/', '/\\evil.example', 'https://evil.example/', 'javascript:alert(1)']) assert.is(safeNext(next), '/');
  assert.is(safeNext('/monitors/m-1?x=2'), '/monitors/m-1?x=2');
  const r = await postForm('/login', { key: w.key, next: '//evil.example/' });
  assert.is(r.headers.get('location'), '/');
  const cross = await postForm('/login', { key: w.key }, { origin: 'https://evil.example' });
  assert.is(cross.status, 403);
  assert.is(cross.headers.getSetCookie().length, 0);
});

test('the overview shows each monitor: status badge, fail count, last check, latency and a last-hour chart', async () => {
  await waitFor(async () => (await redis.hget(k.state(site.id), 'status')) === 'healthy', 5000, 'site healthy');
  // An older result that only the store has: the chart draws stored and not-yet-stored results together.
  await w.store.addHistory([{ id: 'old:1', monitorId: site.id, zone, status: 'failed', message: 'x', latencyMs: 900, checkedAt: Date.now() - 30 * 60_000, due: 0 }]);
  const body = await page('/');
  const row = /<tr data-monitor="m-site" class="status-healthy">[\s\S]*?<\/tr>/.exec(body)?.[0];
  assert.ok(row, 'a row for the monitor');
  assert.match(row, /<a href="\/monitors\/m-site">site<\/a>/);
  assert.match(row, /<span class="badge badge-healthy">healthy<\/span>/);
  assert.match(row, /<td class="num failcount">0<\/td>/);
  assert.match(row, /<time datetime="[^"]+Z" title="[^"]+Z">\d+ s ago<\/time>/);
  assert.match(row, /<td class="num">\d+ ms<\/td>/);
  assert.match(row, /<svg class="spark"[^>]*aria-label="\d+ results, latency \d+–900 ms, 1 failed"/);
  assert.match(row, /<path class="spark-line" d="M/);
  assert.match(row, /<rect class="spark-fail"/);
  assert.match(body, /<main id="live" data-refresh="3000"/);
  assert.match(body, /<script src="\/assets\/dashboard.js\?v=[0-9a-f]{10}" defer><\/script>/);
});

test('the fragment the refresh script fetches is the live part only, and shows a failure as soon as Redis has it', async () => {
  targetCode = 500;
  await waitFor(async () => Number(await redis.hget(k.state(site.id), 'failcount')) >= 2, 5000, 'site failed twice');
  const r = await get('/?fragment=1');
  assert.is(r.status, 200);
  assert.is(r.headers.get('cache-control'), 'no-store');
  const body = await r.text();
  assert.not.match(body, /<html|<header/);
  assert.match(body, /<tr data-monitor="m-site" class="status-failed">/);
  assert.match(body, /<span class="badge badge-failed">failed<\/span>/);
  assert.match(body, /<div class="message">[^<]*500/);
  assert.match(body, /1 monitor:[\s\S]*0 healthy[\s\S]*1 failed/);
});

test('the monitor page: config with secrets masked (left out for a read-only key), each zone, recent results, events and reactions', async () => {
  await waitFor(async () => (await redis.xrange(k.events, '-', '+')).some(([, f]) => f.includes('reaction')), 5000, 'a reaction run');
  await redis.hset(k.views(site.id), 'eu', `healthy|${Date.now() - 2000}|0`);
  const body = await page('/monitors/m-site');
  assert.match(body, /<title>site · CloudRoutes<\/title>/);
  assert.match(body, /http-get-statuscode every 1s/);
  assert.not.match(body, /<dt>headers<\/dt>/, 'a read-only key sees nothing of the secret');
  assert.match(body, /<dt>codes<\/dt><dd><code>\[&quot;200&quot;\]<\/code><\/dd>/);
  const asWriter = await (await get('/monitors/m-site', `cr_session=${encodeURIComponent(w.key)}`)).text();
  assert.match(asWriter, /<dt>headers<\/dt><dd><span class="muted">\(secret\)<\/span><\/dd>/, 'a read-write key sees that there is one');
  for (const shown of [body, asWriter]) {
    assert.not.match(shown, /very-secret-token/);
    assert.not.match(shown, /enc:v/, 'no ciphertext either');
  }
  assert.match(body, /<tr><td>default<\/td><td><span class="badge badge-failed">failed<\/span><\/td>/);
  assert.match(body, /<tr><td>eu<\/td><td><span class="badge badge-healthy">healthy<\/span><\/td>/);
  assert.match(body, /<table class="history">[\s\S]*<td>default<\/td><td><span class="badge badge-failed">failed<\/span><\/td><td class="num">\d+ ms<\/td><td>got HTTP 500/);
  assert.match(body, /<table class="events">[\s\S]*healthy → <span class="badge badge-failed">failed<\/span>/);
  assert.match(body, /reaction log it <span class="badge badge-ran">ran<\/span>/);
  assert.match(body, /<a href="\/reactions#r-logit">log it<\/a><\/td><td>log<\/td><td>notify on failed<\/td>/);
});

test('/reactions: each reaction, who uses it, its recent outcomes and the recent runs', async () => {
  const body = await page('/reactions');
  const row = /<tr id="r-logit">[\s\S]*?<\/tr>/.exec(body)?.[0];
  assert.ok(row);
  assert.match(row, /<a href="\/monitors\/m-site">site<\/a>/);
  assert.match(row, /<td class="outcomes"><span class="badge badge-ran">ran<\/span>/);
  assert.match(body, /<table class="runs">[\s\S]*<td>log it<\/td>\s*<td><a href="\/monitors\/m-site">site<\/a><\/td><td><span class="badge badge-failed">failed<\/span><\/td><td><span class="badge badge-ran">ran<\/span><\/td>/);
});

test('the overview pages many monitors 50 at a time, failed first, with counts, links, a status filter and a search', async () => {
  const ids = Array.from({ length: 300 }, (_, i) => `m-bulk-${String(i + 1).padStart(3, '0')}`);
  const failing = ['m-bulk-100', 'm-bulk-200', 'm-bulk-300'];
  for (const id of ids) await w.store.putMonitor({ ...monitor(id, id.replace('m-bulk-', 'bulk '), 'http://127.0.0.1:1/'), reactions: [], interval: 60 });
  for (const id of failing) await redis.hset(k.state(id), { status: 'failed', failcount: '3', lastCheck: String(Date.now()), message: 'down' });
  try {
    const total = (await w.store.listMonitors()).length;
    const rowIds = (body: string) => [...body.matchAll(/<tr data-monitor="([^"]+)" class="status-(\w+)">/g)].map((m) => m[1]!);
    const first = await page('/');
    assert.is(rowIds(first).length, 50);
    const statuses = [...first.matchAll(/<tr data-monitor="[^"]+" class="status-(\w+)">/g)].map((m) => m[1]);
    assert.equal(statuses, [...statuses].sort((a, b) => ['failed', 'unknown', 'healthy'].indexOf(a!) - ['failed', 'unknown', 'healthy'].indexOf(b!)), 'failed first');
    assert.match(first, `<p class="range">Monitors 1–50 of ${total}</p>`);
    assert.match(first, '<nav class="pager" aria-label="Pages"><span aria-current="page">1</span><a href="/?page=2">2</a><a href="/?page=3">3</a>');
    assert.match(first, `<a href="/?page=${Math.ceil(total / 50)}">${Math.ceil(total / 50)}</a><a href="/?page=2" rel="next">Next ›</a></nav>`);
    assert.match(first, /<a class="count count-failed" href="\/\?status=failed">\d+ failed<\/a>/);
    assert.match(first, '<form class="find" method="get" action="/" role="search"><input type="search" name="q" value=""');

    const bulk = await page('/?q=bulk');
    assert.equal(rowIds(bulk).slice(0, 5), [...failing, 'm-bulk-001', 'm-bulk-002'], 'failed first, then by name');
    assert.match(bulk, '<p class="range">Monitors 1–50 of 300 matching “bulk”');
    const last = await page('/?q=bulk&page=6&fragment=1');
    assert.equal(rowIds(last), ids.filter((id) => !failing.includes(id)).slice(247));
    assert.match(last, 'Monitors 251–300 of 300 matching “bulk”');
    assert.match(last, '<a href="/?q=bulk&amp;page=5" rel="prev">‹ Previous</a><a href="/?q=bulk">1</a><span class="gap">…</span>');
    assert.not.match(last, 'rel="next"');
    assert.equal(rowIds(await page('/?q=bulk&page=99')), rowIds(last), 'a page past the end shows the last');

    const failed = await page('/?status=failed&q=bulk');
    assert.equal(rowIds(failed), failing);
    assert.match(failed, '<p class="range">Monitors 1–3 of 3 failed matching “bulk” · <a href="/">show all');
    assert.match(failed, '<a class="count count-failed" href="/?status=failed&amp;q=bulk" aria-current="true">');
    assert.match(failed, '<input type="hidden" name="status" value="failed">');
    assert.not.match(failed, '<nav class="pager"');
    assert.equal(rowIds(await page('/?q=BULK%2015')), Array.from({ length: 10 }, (_, i) => `m-bulk-15${i}`), 'name search ignores case');
    const none = await page('/?q=%3Cb%3Enothing');
    assert.match(none, '<p class="range">No monitors matching “&lt;b&gt;nothing”');
    assert.not.match(none, '<table class="monitors">');
  } finally {
    for (const id of ids) await w.store.deleteMonitor(id);
    await redis.del(...failing.map((id) => k.state(id)));
  }
});

test('a page of the overview reads its charts in one store query, stored and waiting results merged without counting one twice', async () => {
  const ids = Array.from({ length: 300 }, (_, i) => `m-many-${String(i + 1).padStart(3, '0')}`);
  for (const id of ids) await w.store.putMonitor({ ...monitor(id, id, 'http://127.0.0.1:1/'), reactions: [], interval: 60 });
  const t = Date.now();
  const entry = (at: number, status: string, ms: number) =>
    redis.xadd(k.history, '*', 'monitorId', 'm-many-060', 'zone', zone, 'status', status, 'message', '', 'latencyMs', String(ms), 'checkedAt', String(at), 'due', String(at));
  const waitingOnly = (await entry(t - 60_000, 'healthy', 42))!;
  const both = (await entry(t - 120_000, 'healthy', 50))!;
  const rec = (id: string, at: number, status: 'healthy' | 'failed', ms: number) => ({ id, monitorId: 'm-many-060', zone, status, message: '', latencyMs: ms, checkedAt: at, due: at });
  await w.store.addHistory([rec('old:many', t - 600_000, 'failed', 900), rec(`${zone}:${both}`, t - 120_000, 'healthy', 50)]);

  const real = w.web.deps.store;
  const calls: string[] = [];
  const store = await real();
  const counting = new Proxy(store, {
    get(target, name, receiver) {
      const v = Reflect.get(target, name, receiver);
      return typeof v === 'function' ? (...args: unknown[]) => (calls.push(String(name)), v.apply(target, args)) : v;
    },
  });
  w.web.deps.store = async () => counting;
  try {
    const body = await page('/?q=m-many&page=2&fragment=1');
    assert.equal(calls.filter((c) => c.startsWith('history')), ['historyBuckets'], `one history query for the page, made: ${calls.join(', ')}`);
    assert.ok(calls.length <= 3, `store calls: ${calls.join(', ')}`);
    const row = /<tr data-monitor="m-many-060"[\s\S]*?<\/tr>/.exec(body)?.[0];
    assert.ok(row, 'm-many-060 is on page 2');
    assert.match(row, /aria-label="3 results, latency 42–900 ms, 1 failed"/);
    calls.length = 0;
    await page('/?fragment=1');
    assert.equal(calls.filter((c) => c.startsWith('history')), ['historyBuckets'], 'the same for the first page of every monitor');
  } finally {
    w.web.deps.store = real;
    await redis.xdel(k.history, waitingOnly, both);
    for (const id of ids) await w.store.deleteMonitor(id);
  }
});

test('a monitor named <script>alert(1)</script> is shown escaped on every page', async () => {
  const evil = { ...monitor('m-evil', '<script>alert(1)</script>', 'http://127.0.0.1:1/'), reactions: [] };
  await w.store.putMonitor(evil);
  await redis.hset(k.state(evil.id), { status: 'failed', failcount: '1', lastCheck: String(Date.now()), message: '<img src=x onerror=alert(2)>' });
  for (const path of ['/', '/?fragment=1', '/monitors/m-evil']) {
    const body = await page(path);
    assert.not.match(body, /<script>alert|<img src=x/, path);
    assert.match(body, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/, path);
    assert.match(body, /&lt;img src=x onerror=alert\(2\)&gt;/, path);
  }
  await w.store.deleteMonitor(evil.id);
});

test('pages carry a CSP without inline script; an unknown monitor is a 404 page; assets are versioned', async () => {
  const r = await get('/');
  assert.match(r.headers.get('content-security-policy')!, /script-src 'self';/);
  assert.is(r.headers.get('x-content-type-options'), 'nosniff');
  const missing = await get('/monitors/m-nope');
  assert.is(missing.status, 404);
  assert.match(missing.headers.get('content-type')!, /text\/html/);
  assert.match(await missing.text(), /monitor &quot;m-nope&quot; does not exist/);
  const js = await get('/assets/dashboard.js', null);
  assert.is(js.status, 200);
  assert.match(js.headers.get('content-type')!, /javascript/);
  assert.match(await js.text(), /fragment/);
  assert.is((await get('/assets/constructor', null)).status, 404);
});

test('with the store unreachable the overview lists the monitors this zone\'s Redis runs, with a note', async () => {
  const store = w.web.deps.store;
  w.web.deps.store = () => Promise.reject(new Error('store of record: cannot connect'));
  try {
    const body = await page('/');
    assert.match(body, /<p class="warning" role="status">store of record: cannot connect; showing the monitors this zone&#39;s Redis runs<\/p>/);
    assert.match(body, /<tr data-monitor="m-site" class="status-failed">/);
  } finally {
    w.web.deps.store = store;
  }
});

test('a wrong key shows the form again with a message; wrong keys and bad cookies count towards the throttle', async () => {
  const r = await postForm('/login', { key: 'cr_wrong', next: '/reactions' });
  assert.is(r.status, 401);
  const body = await r.text();
  assert.match(body, /<p class="error" role="alert">That API key is not valid.<\/p>/);
  assert.match(body, /name="next" value="\/reactions"/);
  assert.is(r.headers.getSetCookie().length, 0);

  const stale = await get('/', 'cr_session=cr_deleted');
  assert.is(stale.status, 303);
  assert.is(stale.headers.get('location'), '/login?next=%2F&expired=1');
  assert.match(stale.headers.getSetCookie()[0]!, /Max-Age=0/);

  let status = 0;
  for (let i = 0; i < 10 && status !== 429; i++) status = (await postForm('/login', { key: `cr_bad-${i}` })).status;
  assert.is(status, 429, 'the 10th failure within a minute starts the cool-down');
  assert.is((await w.call('/api/v1/modules')).status, 429, 'the same throttle as the API');
  const refused = await get('/');
  assert.is(refused.status, 429);
  assert.match(await refused.text(), /too many failed authentications/);
  await new Promise((res) => setTimeout(res, 2100));
  assert.is((await get('/')).status, 200, 'after the cool-down');
});

test.run();
