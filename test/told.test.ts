// Monitors that are told, not polled: the web process and the in-process cluster (real Redis, real ZeroMQ) together.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { readSignal } from '../src/core/signals.js';
import type { Monitor } from '../src/core/types.js';
import { ConfigService } from '../src/manage/config-service.js';
import { toldEndpoint } from '../src/manage/told-urls.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture, type WebFixture } from './helpers/web.js';
import { entryResults } from '../src/core/history-entry.js';

const zone = 'told';
const KEY_HEX = '12'.repeat(32);
const KEY = Buffer.from(KEY_HEX, 'hex');
const k = keys(zone);
const server = new RedisServer();
let redis: Redis;
let cluster: Cluster;
let w: WebFixture;
let hookServer: Server;
let hookUrl = '';
let config: ConfigService;
let reactions: string[] = [];
const hooks: { at: number; body: Record<string, unknown> }[] = [];

test.before(async () => {
  await server.start();
  redis = server.client();
  hookServer = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      hooks.push({ at: Date.now(), body: JSON.parse(body) as Record<string, unknown> });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => hookServer.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/`;
  cluster = await new Cluster({ redisUrl: server.url, zone, secretKey: KEY, reactionTimeoutMs: 2000 }).start();
  w = await startWebFixture(server.url, { CLOUDROUTES_ZONE: zone, CLOUDROUTES_SECRET_KEY: KEY_HEX }, { ports: cluster.ports, authCooldownMs: 2000 });
  config = new ConfigService(w.store, checkLoader(), reactionLoader(), KEY);
  // A failed reaction, and a recovery reaction once per episode, in the store and in Redis as the bridge would put them.
  const onFail = await config.addReaction({ name: 'on-fail', rtype: 'webhook', data: { url: hookUrl } });
  const onBack = await config.addReaction({ name: 'on-back', rtype: 'webhook', callOn: 'healthy', once: true, data: { url: hookUrl } });
  reactions = [onFail.id, onBack.id];
  for (const r of [onFail, onBack]) await putReaction(redis, zone, r);
});
test.after(async () => {
  await w.stop();
  await cluster.stop();
  redis.disconnect();
  hookServer.close();
  await server.stop();
});

/** Adds a monitor as `cloudroutes monitor add` does (token generated, encrypted) and puts it into Redis as the bridge would. */
async function addTold(ctype: string, interval: number, data: Record<string, unknown>, dueInMs = 0): Promise<{ m: Monitor; token: string; url: string; failUrl?: string }> {
  const m = await config.addMonitor({ name: `${ctype}-${interval}`, ctype, interval, data, reactions });
  await putMonitor(redis, zone, m, dueInMs);
  const told = toldEndpoint(m, KEY, w.web.url)!;
  return { m, ...told };
}

const state = (id: string) => redis.hgetall(k.state(id));
const hooksFor = (id: string) => hooks.filter((h) => (h.body.monitor as { id: string }).id === id);
const history = async (id: string) => (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f)).filter((e) => e.monitorId === id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a monitor added for a told ctype gets a token "<id>.<secret>", stored encrypted', async () => {
  const { m, token, url, failUrl } = await addTold('heartbeat', 60, { grace: 5 }, 60_000);
  assert.match(token, new RegExp(`^${m.id}\\.[A-Za-z0-9_-]{32}$`));
  assert.not.ok(JSON.stringify(m.data).includes(token.split('.')[1]!), 'encrypted');
  assert.is(url, `${w.web.url}/ping/${token}`);
  assert.is(failUrl, `${url}/fail`);
  const r = await fetch(url);
  assert.is(r.status, 200);
  assert.is(await r.text(), 'OK\n');
  const s = await readSignal(redis, zone, m.id);
  assert.is(s?.status, 'healthy');
  assert.ok(Math.abs(Date.now() - s!.at) < 1000);
  assert.ok((await redis.ttl(k.signal(m.id))) > 86_400, 'the signal expires, long after any interval');
});

test('pings keep a heartbeat monitor healthy', async () => {
  const { m, url } = await addTold('heartbeat', 1, { grace: 1 });
  const pinging = setInterval(() => void fetch(url, { method: 'POST', body: 'backup done' }).then((r) => r.text()), 300);
  try {
    await waitFor(async () => (await history(m.id)).length >= 4, 6000, 'four scheduled checks');
  } finally {
    clearInterval(pinging);
  }
  const results = await history(m.id);
  assert.ok(results.every((e) => e.status === 'healthy'), JSON.stringify(results.map((e) => e.message)));
  assert.match(results[results.length - 1]!.message!, /^last ping \ds ago$/);
  assert.is(hooksFor(m.id).length, 0, 'a healthy first episode runs no reaction');
});

test('no ping within interval + grace: failed, and its failed reaction runs; a new monitor waits interval + grace for its first ping', async () => {
  const stopped = await addTold('heartbeat', 1, { grace: 1 });
  const never = await addTold('heartbeat', 1, { grace: 1 });
  assert.is((await fetch(stopped.url)).status, 200);
  const first = await waitFor(async () => (await state(never.m.id)).status ? state(never.m.id) : null, 3000, 'first result');
  assert.is(first.status, 'healthy');
  assert.match(first.message!, /^waiting for the first ping \(expected every 1s \+ 1s grace; monitor created \ds ago\)$/);
  const hook = await waitFor(() => hooksFor(stopped.m.id).find((h) => h.body.status === 'failed'), 6000, 'failed reaction');
  assert.match(hook.body.message as string, /^no ping for [2-5]s, expected every 1s \+ 1s grace$/);
  const neverHook = await waitFor(() => hooksFor(never.m.id).find((h) => h.body.status === 'failed'), 6000, 'failed reaction of the never-pinged monitor');
  assert.match(neverHook.body.message as string, /^no ping since the monitor was created [2-5]s ago, expected every 1s \+ 1s grace$/);
  assert.ok(neverHook.at - never.m.createdAt >= 2000, 'not before interval + grace');
});

test('/fail fails a heartbeat at once (reaction within a second); the next ping makes it healthy at once', async () => {
  const { m, url, failUrl } = await addTold('heartbeat', 60, {}, 60_000);
  const t0 = Date.now();
  // As curl --data-binary sends it.
  const r = await fetch(failUrl!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'disk full\n' });
  assert.is(r.status, 200);
  const hook = await waitFor(() => hooksFor(m.id).find((h) => h.body.status === 'failed'), 1000, 'failed reaction within a second');
  assert.ok(hook.at - t0 < 1000);
  assert.is(hook.body.message, 'the job reported a failure: disk full');
  assert.is((await state(m.id)).status, 'failed');
  assert.equal(await readSignal(redis, zone, m.id).then((s) => s && { status: s.status, message: s.message }), { status: 'failed', message: 'the job reported a failure: disk full' });

  const t1 = Date.now();
  assert.is((await fetch(url)).status, 200);
  const back = await waitFor(() => hooksFor(m.id).find((h) => h.body.status === 'healthy'), 1000, 'recovery within a second');
  assert.ok(back.at - t1 < 1000);
  assert.is(back.body.message, 'ping received: the job ran again');
  const msgFromQuery = await fetch(`${failUrl}?message=${encodeURIComponent('exit 3')}`);
  assert.is(msgFromQuery.status, 200);
  await waitFor(async () => (await state(m.id)).message === 'the job reported a failure: exit 3', 1000, 'GET /fail with ?message=');
});

test('webhook monitor: POST failed runs its reaction within a second; the scheduled check repeats the last status', async () => {
  const { m, url, token } = await addTold('webhook', 1, {}, 0);
  assert.is(url, `${w.web.url}/api/v1/webhook/${m.id}`);
  const before = await waitFor(async () => (await state(m.id)).status ? state(m.id) : null, 3000, 'first scheduled check');
  assert.is(before.status, 'unknown');
  assert.is(before.message, 'no webhook call yet');
  const t0 = Date.now();
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cloudroutes-token': token }, body: JSON.stringify({ status: 'failed', message: 'queue depth 10000' }) });
  assert.is(r.status, 202);
  assert.equal(await r.json(), { accepted: true, monitorId: m.id, status: 'failed' });
  const hook = await waitFor(() => hooksFor(m.id).find((h) => h.body.status === 'failed'), 1000, 'reaction within a second');
  assert.ok(hook.at - t0 < 1000, `${hook.at - t0} ms`);
  assert.is(hook.body.message, 'queue depth 10000');
  const pushed = (await history(m.id)).find((e) => e.message === 'queue depth 10000')!;
  assert.is(pushed.due, pushed.checkedAt, 'a told result is due when it is checked');
  await waitFor(async () => (await history(m.id)).some((e) => e.status === 'failed' && /^webhook said failed at .*: queue depth 10000$/.test(e.message!)), 3000, 'the scheduled check repeats it');

  const ok = await fetch(`${url}?token=${encodeURIComponent(token)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"healthy"}' });
  assert.is(ok.status, 202, 'the token may come as ?token=');
  await waitFor(() => hooksFor(m.id).find((h) => h.body.status === 'healthy'), 1000, 'healthy reaction');
});

test('a bad webhook body is 400 naming the field; a token of another kind of monitor is 409 naming the right route', async () => {
  const { m, url, token } = await addTold('webhook', 60, {}, 60_000);
  const post = (body: string, u = url, t = token) => fetch(u, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cloudroutes-token': t }, body });
  const cases: [string, string][] = [['{"status":"sideways"}', 'status'], ['{}', 'status'], ['{"status":"failed","message":{"a":1}}', 'message'], ['{"message":"x"}', 'status']];
  for (const [body, field] of cases) {
    const r = await post(body);
    assert.is(r.status, 400, body);
    const e = ((await r.json()) as { error: { code: string; field?: string; message: string } }).error;
    assert.is(e.code, 'CR_BAD_REQUEST');
    assert.is(e.field, field, `${body}: ${e.message}`);
  }
  const notJson = await post('{bad');
  assert.is(notJson.status, 400);
  const dd = await post('{"title":"[Triggered] x"}', `${url}/datadog`);
  assert.is(dd.status, 409);
  assert.match(((await dd.json()) as { error: { message: string } }).error.message, new RegExp(`monitor "${m.id}" is a webhook monitor, not a datadog-webhook one: use POST /api/v1/webhook/${m.id}$`));
  assert.is((await fetch(`${w.web.url}/ping/${token}`)).status, 409, 'a webhook token is not a heartbeat');
  assert.is((await state(m.id)).status, undefined, 'nothing was recorded');
});

test('datadog-webhook: the default payload\'s title and an alert_transition field map to a status', async () => {
  const { m, url, token } = await addTold('datadog-webhook', 60, { warn: 'failed' }, 60_000);
  assert.is(url, `${w.web.url}/api/v1/webhook/${m.id}/datadog`);
  const post = (payload: Record<string, unknown>) => fetch(`${url}?token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) });
  const defaults = (title: string) => ({ body: '%%%\nCPU above 90%\n%%%', last_updated: '1751900000000', event_type: 'metric_alert_monitor', title, date: '1751900000000', org: { id: '12345', name: 'Acme' }, id: '7890123456789' });
  const expectStatus = async (payload: Record<string, unknown>, status: string, message?: RegExp) => {
    const r = await post(payload);
    assert.is(r.status, 202, JSON.stringify(payload));
    assert.is(((await r.json()) as { status: string }).status, status);
    const s = await waitFor(async () => { const st = await state(m.id); return st.status === status && st.message !== (payload.title as string) ? st : null; }, 2000, status);
    if (message) assert.match(s.message!, message);
  };
  await expectStatus(defaults('[Triggered on {host:web-1}] CPU high'), 'failed', /^Datadog Triggered: \[Triggered on \{host:web-1\}\] CPU high \(Datadog event 7890123456789\)$/);
  await waitFor(() => hooksFor(m.id).find((h) => h.body.status === 'failed'), 1000, 'failed reaction');
  await expectStatus(defaults('[P1] [Recovered] CPU high'), 'healthy', /^Datadog Recovered:/);
  await expectStatus({ alert_transition: 'Warn', alert_title: 'CPU warm', alert_id: 42 }, 'failed', /^Datadog Warn: CPU warm \(Datadog monitor 42\)$/);
  await expectStatus({ alert_transition: 'No Data', title: '[No Data] CPU' }, 'unknown');
  const bad = await post(defaults('CPU high (a test notification without a transition)'));
  assert.is(bad.status, 400);
  assert.is(((await bad.json()) as { error: { field: string } }).error.field, 'title');
});

test('wrong or missing tokens are 401; the 10th failure from a source within a minute is 429, for the cool-down', async () => {
  const { m, url, token } = await addTold('webhook', 60, {}, 60_000);
  const hb = await addTold('heartbeat', 60, {}, 60_000);
  const body = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"status":"failed"}' };
  const tries: (() => Promise<Response>)[] = [
    () => fetch(url, body),
    () => fetch(`${url}?token=${m.id}.wrong-secret-wrong-secret`, body),
    () => fetch(url, { ...body, headers: { ...body.headers, 'x-cloudroutes-token': hb.token } }),
    () => fetch(`${w.web.url}/api/v1/webhook/m-nosuchmonitor?token=${token}`, body),
    () => fetch(`${w.web.url}/ping/garbage`),
    () => fetch(`${w.web.url}/ping/${hb.m.id}.wrong`),
    () => fetch(`${w.web.url}/ping/${hb.token}x`),
    () => fetch(`${w.web.url}/ping/m-nosuchmonitor.${hb.token.split('.')[1]}/fail`),
    () => fetch(`${w.web.url}/ping/.${hb.token.split('.')[1]}`),
  ];
  for (const [i, t] of tries.entries()) {
    const r = await t();
    const e = ((await r.json()) as { error: { code: string; message: string } }).error;
    assert.is(r.status, 401, `try ${i}: ${e.message}`);
    assert.is(e.code, 'CR_UNAUTHORIZED');
  }
  assert.is((await fetch(hb.url)).status, 200, 'a good token still works after 9 failures');
  const tenth = await fetch(`${url}?token=nope`, body);
  assert.is(tenth.status, 429);
  assert.is(((await tenth.json()) as { error: { code: string } }).error.code, 'CR_THROTTLED');
  assert.is((await fetch(hb.url)).status, 429, 'even a good token waits out the cool-down');
  assert.is((await readSignal(redis, zone, m.id)), null, 'no failed attempt recorded anything');
  await sleep(2100);
  assert.is((await fetch(hb.url)).status, 200, 'after the cool-down');
});

test.run();
