/**
 * A heartbeat checked from two zones (two Redis servers, two zones of processes with a web process each, one shared store):
 * pings reach one zone's web process, and the other zone judges from the same signal, carried by the bridges through the store.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Redis } from 'ioredis';
import { keys } from '../src/core/keys.js';
import { readSignal } from '../src/core/signals.js';
import { waitFor } from './helpers/cluster.js';
import { cli, Proc } from './helpers/procs.js';
import { freePortRange, RedisServer } from './helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'cr-zones-told-'));
const file = join(dir, 'shared.db');
const zones = ['a', 'b'] as const;
type Zone = (typeof zones)[number];
const redisServers = { a: new RedisServer(), b: new RedisServer() };
const redis = {} as Record<Zone, Redis>;
const envs = {} as Record<Zone, NodeJS.ProcessEnv>;
const webUrl = {} as Record<Zone, string>;
const procs: Proc[] = [];

test.before(async () => {
  for (const zone of zones) {
    await redisServers[zone].start();
    redis[zone] = redisServers[zone].client();
    envs[zone] = {
      REDIS_URL: redisServers[zone].url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_SECRET_KEY: 'ef'.repeat(32),
      CLOUDROUTES_DATA_DIR: join(dir, `data-${zone}`), CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)),
    };
    for (const name of ['broker', 'bridge', 'control', 'worker', 'sink']) procs.push(new Proc([name], envs[zone]).start());
    const web = new Proc(['web', '--port', '0'], envs[zone]).start();
    procs.push(web);
    await web.waitFor('"web listening"');
    webUrl[zone] = /"url":"(http:\/\/[^"]+?)\/?"/.exec(web.output)![1]!;
  }
  await Promise.all(procs.map((p) => p.waitFor(/"(broker listening|\w+ started|web listening)"/)));
});

let stopPings = async () => {};

test.after(async () => {
  await stopPings();
  await Promise.all(procs.map((p) => p.kill()));
  for (const zone of zones) {
    redis[zone]?.disconnect();
    await redisServers[zone].stop();
  }
  rmSync(dir, { recursive: true, force: true });
});

const state = (zone: Zone, id: string) => redis[zone].hgetall(keys(zone).state(id));
const bothAre = async (id: string, status: string, message: RegExp) => {
  for (const zone of zones) {
    const s = await state(zone, id);
    if (s.status !== status || s.zoneStatus !== status || !message.test(s.message ?? '')) return false;
  }
  return true;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pings `url` every 250 ms until stopped. */
function pinger(url: string): { stop(): Promise<void> } {
  let on = true;
  const answers: string[] = [];
  const loop = (async () => {
    while (on) {
      try {
        const res = await fetch(url);
        if (res.status !== 200) answers.push(`${res.status} ${await res.text()}`);
        else await res.arrayBuffer();
      } catch (err) {
        answers.push((err as Error).message);
      }
      await sleep(250);
    }
  })();
  return { async stop() { on = false; await loop; assert.equal(answers, [], 'every ping answered 200'); } };
}

test("a heartbeat in zones a and b pinged through zone a's web process is judged from the same ping in both; with the store down zone b catches up afterwards", async () => {
  const added = await cli(['monitor', 'add', '--name', 'backup', '--ctype', 'heartbeat', '--interval', '2s', '--zones', 'a,b', '--data', '{"grace":1}', '--json'],
    { ...envs.a, LOG_LEVEL: 'silent' });
  assert.is(added.code, 0, added.stderr);
  const { id, token } = JSON.parse(added.stdout) as { id: string; token: string };
  const url = `${webUrl.a}/ping/${token}`;
  await waitFor(async () => (await redis.a.exists(keys('a').monitor(id))) && (await redis.b.exists(keys('b').monitor(id))), 5000, 'the monitor in both zones');

  let pings = pinger(url);
  stopPings = () => pings.stop().catch(() => undefined);
  await waitFor(() => bothAre(id, 'healthy', /^last ping /), 10_000, 'healthy from the last ping in both zones');
  const [sa, sb] = await Promise.all([readSignal(redis.a, 'a', id), readSignal(redis.b, 'b', id)]);
  assert.ok(sa && sb && sa.at - sb.at < 2000, `zone b has a recent copy of zone a's signal (${JSON.stringify([sa, sb])})`);
  for (let i = 0; i < 8; i++) {
    assert.ok(await bothAre(id, 'healthy', /^last ping /), `still healthy in both zones after ${i * 500} ms: ${JSON.stringify([await state('a', id), await state('b', id)])}`);
    await sleep(500);
  }
  const show = JSON.parse((await cli(['monitor', 'show', id, '--json'], { ...envs.b, LOG_LEVEL: 'silent' })).stdout) as { zoneViews: Record<string, { status: string }> };
  assert.equal(Object.entries(show.zoneViews).map(([z, v]) => [z, v.status]).sort(), [['a', 'healthy'], ['b', 'healthy']], 'monitor show: both zones healthy');

  await pings.stop();
  await waitFor(() => bothAre(id, 'failed', /^no ping for /), 10_000, 'failed in both zones once the pings stop');

  const lock = new Database(file);
  lock.pragma('busy_timeout = 5000');
  lock.exec('BEGIN EXCLUSIVE');
  try {
    pings = pinger(url);
    await waitFor(async () => (await state('a', id)).status === 'healthy', 5000, 'zone a healthy again while the store is down');
    for (let i = 0; i < 8; i++) {
      assert.is((await state('a', id)).status, 'healthy', 'zone a stays healthy from its own pings');
      assert.is((await state('b', id)).status, 'failed', 'zone b cannot see the pings while the store is down');
      await sleep(500);
    }
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  const back = Date.now();
  await waitFor(() => bothAre(id, 'healthy', /^last ping /), 10_000, 'zone b healthy once the store is back');
  assert.ok(Date.now() - back < 8000, `caught up in ${Date.now() - back} ms`);
  await pings.stop();
});

test.run();
