/** CURVE on every link, attacked from outside: raw ZeroMQ sockets with a foreign key or none at all get nothing processed. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { curveKeyPair, Dealer, Push, type Socket } from 'zeromq';
import { keys } from '../src/core/keys.js';
import type { JobMessage, ResultMessage } from '../src/core/messages.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { ConfigService } from '../src/manage/config-service.js';
import { toldEndpoint } from '../src/manage/told-urls.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { RedisServer } from './helpers/redis-server.js';
import { startWebFixture } from './helpers/web.js';
import { entryResults } from '../src/core/history-entry.js';

const zone = 'curve';
const k = keys(zone);
const dir = mkdtempSync(join(tmpdir(), 'cr-curve-'));
const server = new RedisServer();
const brokerPair = curveKeyPair();
const clientPair = curveKeyPair();
const foreignPair = curveKeyPair();
const clientsFile = join(dir, 'clients');
let redis: Redis;
let cluster: Cluster;
let target: Server;
let base = '';
/** Requests the HTTP target got, by path: the trace a check leaves. */
const hits = new Map<string, number>();
const hooks: Record<string, unknown>[] = [];
const opened: Socket[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hitsOf = (path: string) => hits.get(path) ?? 0;

test.before(async () => {
  await server.start();
  redis = server.client();
  target = createServer((req, res) => {
    hits.set(req.url!, hitsOf(req.url!) + 1);
    if (req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => {
        hooks.push(JSON.parse(body) as Record<string, unknown>);
        res.end('ok');
      });
      return;
    }
    res.statusCode = req.url === '/down' ? 500 : 200;
    res.end('app');
  });
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(target.address() as { port: number }).port}`;
  writeFileSync(clientsFile, `# the cluster's own processes\n${clientPair.publicKey}\n\n`);
  cluster = await new Cluster({
    redisUrl: server.url, zone,
    curve: { broker: { pair: brokerPair, clientsFile }, client: { serverKey: brokerPair.publicKey, ...clientPair } },
  }).start();
});

test.after(async () => {
  for (const s of opened) s.close();
  await cluster.stop();
  redis.disconnect();
  target.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Pair = { publicKey: string; secretKey: string } | undefined;
/** A raw socket as an outsider makes it: with `pair` as its CURVE key (none: plaintext), aimed at the real broker. */
function raw<T extends Socket>(make: (o: Record<string, unknown>) => T, pair: Pair, port: number): T {
  const curve = pair ? { curveServerKey: brokerPair.publicKey, curvePublicKey: pair.publicKey, curveSecretKey: pair.secretKey } : {};
  const socket = make({ ...curve, linger: 0 });
  socket.connect(`tcp://127.0.0.1:${port}`);
  opened.push(socket);
  return socket;
}

const job = (path: string, extra: Record<string, unknown> = {}): string => {
  const now = Date.now();
  const msg: JobMessage = {
    v: 1, type: 'job', monitorId: `forged-${path}`, name: 'forged', ctype: 'http-get-statuscode',
    data: { url: `${base}${path}`, codes: ['200'] }, timeoutMs: 2000, zone, due: now, sent: now, interval: 60,
  };
  return JSON.stringify({ ...msg, ...extra });
};

/** Sends from an outsider's socket; a send that never gets through (refused handshake) times out quietly. */
async function sendFrom(pair: Pair, port: number, msg: string | Buffer): Promise<void> {
  const push = raw((o) => new Push({ ...o, sendTimeout: 1000 }), pair, port);
  await push.send(msg).catch(() => undefined);
}

const refused = () => cluster.broker!.counters.get('auth_refused');

test('with the right keys the whole path runs: checked, recorded, reaction run', async () => {
  await putReaction(redis, zone, { id: 'r-hook', rtype: 'webhook', data: { url: `${base}/hook` } });
  await putMonitor(redis, zone, { id: 'm-down', ctype: 'http-get-statuscode', interval: 1, data: { url: `${base}/down`, codes: ['200'] }, reactions: ['r-hook'] });
  await putMonitor(redis, zone, { id: 'm-up', ctype: 'http-get-statuscode', interval: 1, data: { url: `${base}/up`, codes: ['200'] }, reactions: ['r-hook'] });
  const hook = await waitFor(() => hooks.find((h) => (h.monitor as { id: string }).id === 'm-down'), 6000, 'the failed reaction');
  assert.is(hook.status, 'failed');
  assert.is((await redis.hgetall(k.state('m-down'))).status, 'failed');
  await waitFor(async () => (await redis.hget(k.state('m-up'), 'status')) === 'healthy', 4000, 'm-up healthy');
  assert.is(refused(), 0, 'the cluster\'s own processes were not refused');
});

test('the web process pushes told results through the sealed broker: a webhook call is recorded', async () => {
  const w = await startWebFixture(server.url, { CLOUDROUTES_ZONE: zone }, { ports: cluster.ports, curve: { serverKey: brokerPair.publicKey, ...clientPair } });
  try {
    const config = new ConfigService(w.store, checkLoader(), reactionLoader(), w.web.deps.secretKey);
    const m = await config.addMonitor({ name: 'told', ctype: 'webhook', interval: 60, data: {} });
    await putMonitor(redis, zone, m, 60_000);
    const told = toldEndpoint(m, w.web.deps.secretKey, w.web.url)!;
    const r = await fetch(told.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cloudroutes-token': told.token }, body: '{"status":"failed","message":"told"}' });
    assert.is(r.status, 202, await r.text());
    const s = await waitFor(async () => ((await redis.hget(k.state(m.id), 'status')) ? redis.hgetall(k.state(m.id)) : null), 4000, 'the told result recorded');
    assert.is(s.status, 'failed');
    assert.is(s.message, 'told');
  } finally {
    await w.stop();
  }
});

test('a forged job with a foreign key or without CURVE is never run; the same job with an allowed key is', async () => {
  const before = refused();
  await Promise.all([
    sendFrom(foreignPair, cluster.ports.jobsIn, job('/forged-foreign')),
    sendFrom(undefined, cluster.ports.jobsIn, job('/forged-plain')),
  ]);
  await sleep(1500);
  assert.is(hitsOf('/forged-foreign'), 0, 'a job from a foreign key ran');
  assert.is(hitsOf('/forged-plain'), 0, 'a job sent without CURVE ran');
  assert.ok(refused() >= before + 2, `auth_refused went from ${before} to ${refused()}`);
  // The same outsider's code with the allowed key: the message itself would have run.
  await sendFrom(clientPair, cluster.ports.jobsIn, job('/sent-allowed'));
  await waitFor(() => hitsOf('/sent-allowed') > 0, 3000, 'the allowed job to run');
});

test('a forged failed result (with a foreign key, without CURVE, or with the allowed key to a jobs port) is never recorded and runs no reaction', async () => {
  const state0 = await redis.hgetall(k.state('m-up'));
  assert.is(state0.status, 'healthy');
  const forged: ResultMessage = { v: 1, type: 'result', monitorId: 'm-up', zone, status: 'failed', message: 'forged', latencyMs: 1, due: Date.now(), checkedAt: Date.now() };
  const before = refused();
  const bad0 = Number(await redis.hget(k.counters, 'broker.bad_messages.unexpected_type') ?? 0);
  // Results reach sinks only through the zone's Redis; no broker port takes one, whoever sends it.
  await Promise.all([
    sendFrom(foreignPair, cluster.ports.jobsIn, JSON.stringify(forged)),
    sendFrom(undefined, cluster.ports.jobsIn, JSON.stringify(forged)),
    sendFrom(clientPair, cluster.ports.jobsIn, JSON.stringify(forged)),
  ]);
  await sleep(1500);
  await waitFor(async () => Number(await redis.hget(k.counters, 'broker.bad_messages.unexpected_type') ?? 0) >= bad0 + 1, 3000, 'the allowed client\'s forged result counted as a bad message');
  const state1 = await redis.hgetall(k.state('m-up'));
  assert.is(state1.status, 'healthy');
  assert.is(state1.failcount, '0');
  const history = (await redis.xrange(k.history, '-', '+')).flatMap(([, f]) => entryResults(f));
  assert.not.ok(history.some((h) => h.monitorId === 'm-up' && (h.status === 'failed' || h.message === 'forged')), 'a forged result reached the history');
  assert.not.ok(hooks.some((h) => (h.monitor as { id: string }).id === 'm-up'), 'a forged result ran a reaction');
  assert.ok(refused() >= before + 2);
});

test('a fake worker with credit gets no jobs while the real worker keeps checking', async () => {
  const before = refused();
  const fakes = [foreignPair, undefined].map((pair) => raw((o) => new Dealer({ ...o, receiveTimeout: 2500, sendTimeout: 200 }), pair, cluster.ports.workers));
  const credit = JSON.stringify({ v: 1, type: 'credit', free: 100, received: 0 });
  let asking = true;
  const askers = fakes.map(async (f) => {
    while (asking) {
      await f.send(credit).catch(() => undefined);
      await sleep(100);
    }
  });
  const upBefore = hitsOf('/up');
  const got = await Promise.all(fakes.map((f) => f.receive().then(() => 'a job', () => 'nothing')));
  asking = false;
  await Promise.all(askers);
  assert.equal(got, ['nothing', 'nothing']);
  assert.ok(hitsOf('/up') >= upBefore + 2, 'the real worker stopped getting jobs');
  assert.ok(refused() >= before + 2);
});

test('each refused connection is counted in the zone\'s counters, as "cloudroutes stats" reads them', async () => {
  const before = refused();
  for (let i = 0; i < 3; i++) await sendFrom(curveKeyPair(), cluster.ports.jobsIn, job('/counted'));
  await waitFor(() => refused() >= before + 3, 3000, `3 foreign keys counted (auth_refused went from ${before} to ${refused()})`);
  await waitFor(async () => Number(await redis.hget(k.counters, 'broker.auth_refused')) >= before + 3, 3000, 'broker.auth_refused in Redis');
});

test('a 2 MiB message from an allowed client is not processed and the broker keeps working', async () => {
  const bad0 = Object.entries(await redis.hgetall(k.counters)).filter(([f]) => f.startsWith('broker.bad_messages'));
  const big = job('/big', { padding: 'x'.repeat(2 * 1024 * 1024) });
  await sendFrom(clientPair, cluster.ports.jobsIn, big);
  await sendFrom(clientPair, cluster.ports.jobsIn, job('/after-big'));
  await waitFor(() => hitsOf('/after-big') > 0, 3000, 'a normal job after the big one');
  await sleep(500);
  assert.is(hitsOf('/big'), 0, 'the 2 MiB job ran');
  // Cut off by ZeroMQ before the broker read it: not even counted as a bad message.
  await sleep(1100);
  const bad1 = Object.entries(await redis.hgetall(k.counters)).filter(([f]) => f.startsWith('broker.bad_messages'));
  assert.equal(bad1, bad0);
});

test.run();
