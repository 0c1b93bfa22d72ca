/**
 * Redis behind Sentinel, with real redis-server processes: one master, one replica and three sentinels.
 * The settings, the CLI, and a running zone (broker, control, worker, sink, bridge with its SQLite store)
 * through a `kill -9` of the master and the promotion of its replica.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge } from '../src/bridge/bridge.js';
import { loadSettings } from '../src/core/config.js';
import { keys } from '../src/core/keys.js';
import { connectRedis, redactRedisUrl } from '../src/core/redis.js';
import { parseSentinelUrl } from '../src/core/redis-sentinel.js';
import type { Monitor } from '../src/core/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { Cluster, silent, waitFor } from './helpers/cluster.js';
import { cli } from './helpers/procs.js';
import { MASTER_NAME, SentinelGroup } from './helpers/redis-sentinel.js';
import { entryResults } from '../src/core/history-entry.js';

const settingsSuite = suite('sentinel settings');

settingsSuite('a redis+sentinel URL names the sentinels, the master, its password and db', () => {
  const t = parseSentinelUrl('redis+sentinel://app:p%40ss:w@10.0.0.1:26380,[fd00::2],sentinel-3/my-master/2?sentinelPassword=s3');
  assert.equal(t.sentinels, [{ host: '10.0.0.1', port: 26380 }, { host: 'fd00::2', port: 26379 }, { host: 'sentinel-3', port: 26379 }]);
  assert.is(t.master, 'my-master');
  assert.is(t.db, 2);
  assert.is(t.username, 'app');
  assert.is(t.password, 'p@ss:w');
  assert.is(t.sentinelPassword, 's3');
  assert.is(t.tls, false);
  assert.is(parseSentinelUrl('rediss+sentinel://h:1/m').tls, true);
});

settingsSuite('a URL without a master name or with a bad sentinel address is refused, naming what to write', () => {
  for (const [url, said] of [
    ['redis+sentinel://h1:26379', /master name/],
    ['redis+sentinel://h1:26379/', /master name/],
    ['redis+sentinel:///m', /at least one sentinel/],
    ['redis+sentinel://h1:99999/m', /"h1:99999" is not one/],
    ['redis+sentinel://h1:26379/m/x', /db number/],
  ] as const) {
    try {
      parseSentinelUrl(url);
      assert.unreachable(`${url} was accepted`);
    } catch (err) {
      assert.is((err as { code?: string }).code, 'CR_BAD_SETTING', url);
      assert.match((err as Error).message, said, url);
    }
  }
});

settingsSuite('logs show a sentinel URL without its passwords', () => {
  const shown = redactRedisUrl('redis+sentinel://app:hunter2@h1:26379,h2:26379/m?sentinelPassword=t0p');
  assert.is(shown, 'redis+sentinel://app:***@h1:26379,h2:26379/m?sentinelPassword=***');
  assert.not.match(shown, /hunter2|t0p/);
});

settingsSuite('CLOUDROUTES_REDIS_SENTINELS and CLOUDROUTES_REDIS_MASTER make the same URL, with REDIS_URL giving the password', () => {
  const s = loadSettings({ CLOUDROUTES_REDIS_SENTINELS: 'h1:26379,h2:26380', CLOUDROUTES_REDIS_MASTER: 'main', REDIS_URL: 'redis://:pw@unused/3' });
  assert.is(s.redisUrl, 'redis+sentinel://:pw@h1:26379,h2:26380/main/3');
  assert.throws(() => loadSettings({ CLOUDROUTES_REDIS_SENTINELS: 'h1:26379' }), /CLOUDROUTES_REDIS_MASTER/);
});

settingsSuite.run();

const group = new SentinelGroup({ password: 'sentinel-test-pw' });
const live = suite('a zone on Redis Sentinel');
const dir = mkdtempSync(join(tmpdir(), 'cr-sentinel-zone-'));

live.before(async () => {
  await group.start();
});
live.after(async () => {
  await group.stop();
  rmSync(dir, { recursive: true, force: true });
});

live('the CLI reaches the master through the sentinels, and a wrong master name fails fast with the reason', async () => {
  const env = { CLOUDROUTES_STORE: `sqlite:${join(dir, 'cli.db')}`, CLOUDROUTES_DATA_DIR: join(dir, 'cli-data'), CLOUDROUTES_ZONE: 'cli' };
  const ok = await cli(['stats', '--json'], { ...env, REDIS_URL: group.url });
  assert.is(ok.code, 0, ok.stderr);
  const started = Date.now();
  const bad = await cli(['stats', '--json'], { ...env, REDIS_URL: group.url.replace(`/${MASTER_NAME}`, '/no-such-master') });
  assert.is(bad.code, 1, bad.stdout);
  assert.match(bad.stderr, /CR_REDIS_UNREACHABLE/);
  assert.not.match(bad.stderr, /sentinel-test-pw/);
  assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
});

live('kill -9 of the master: the zone follows the promoted replica, keeps every monitor, and its history carries on', async () => {
  const zone = 'sentinel';
  const k = keys(zone);
  const target: Server = createServer((s) => s.destroy());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const port = (target.address() as { port: number }).port;
  const store = new SqliteStore(join(dir, 'zone.db'));
  await store.init();
  const N = 30;
  const monitors: Monitor[] = Array.from({ length: N }, (_, i) => ({
    id: `m-${i}`, name: `tcp ${i}`, ctype: 'tcp-check', interval: 1, data: { host: '127.0.0.1', port }, reactions: [], createdAt: 1, updatedAt: 1,
  }));
  for (const m of monitors) await store.putMonitor(m);
  const settings = loadSettings({ REDIS_URL: group.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${join(dir, 'zone.db')}`, CLOUDROUTES_DATA_DIR: dir });
  let bridge: Bridge | undefined;
  const cluster = new Cluster({ redisUrl: group.url, zone });
  const redis: Redis = connectRedis(group.url, silent);
  try {
    bridge = await startBridge({ settings, logger: silent, store, claimIdleMs: 500 });
    await waitFor(async () => (await redis.zcard(k.schedule)) === N, 10_000, 'the bridge to put every monitor in the schedule');
    await cluster.start();
    await waitFor(async () => (await store.history({ monitorId: 'm-0' })).length >= 3, 10_000, 'results in the store');

    const oldMaster = group.master.port;
    const killedAt = Date.now();
    await group.master.kill();
    // Checks resume when a result checked after the kill is in the history of the promoted replica.
    await waitFor(async () => {
      const [last] = (await redis.xrevrange(k.history, '+', '-', 'COUNT', 1).catch(() => [])) as [string, string[]][];
      const at = last ? Number(entryResults(last[1]).at(-1)?.checkedAt) : 0;
      return at > killedAt;
    }, 30_000, 'a result recorded after the failover');
    const resumeS = (Date.now() - killedAt) / 1000;
    assert.equal(await group.masterPorts(), [group.replica.port, group.replica.port, group.replica.port], 'every sentinel names the replica as master');
    assert.is.not(group.replica.port, oldMaster);

    // Run on for a few intervals, then count each monitor's due slots with a result in the store.
    await new Promise((r) => setTimeout(r, 5000));
    const endAt = Date.now() - 2000;
    assert.is(await redis.zcard(k.schedule), N, 'every monitor is still scheduled');
    let missing = 0;
    let afterResume = 0;
    for (const m of monitors) {
      const dues = new Set((await store.history({ monitorId: m.id, from: killedAt - 3000, to: endAt + 5000 })).map((h) => h.due).filter((d) => d >= killedAt - 3000 && d < endAt));
      missing += Math.max(0, Math.floor((endAt - (killedAt - 3000)) / 1000) - dues.size);
      afterResume += [...dues].filter((d) => d > killedAt + resumeS * 1000 + 1000).length;
    }
    console.log(`sentinel failover: checks resumed ${resumeS.toFixed(1)} s after kill -9 of the master; ${missing} slots without a result in the window (${N} monitors every 1 s)`);
    assert.ok(resumeS < 15, `checks resumed ${resumeS} s after the kill`);
    // Every monitor is checked at every slot once the zone has followed the failover (the store got them through the bridge's group).
    const secondsAfter = Math.floor((endAt - (killedAt + resumeS * 1000 + 1000)) / 1000);
    assert.ok(afterResume >= N * (secondsAfter - 1), `${afterResume} results after the resume, expected about ${N * secondsAfter}`);
    // What is lost is bounded by the failover: no more slots than the seconds until checks resumed, plus the unreplicated tail.
    assert.ok(missing <= N * (Math.ceil(resumeS) + 2), `${missing} slots without a result`);
  } finally {
    await cluster.stop();
    await bridge?.stop();
    redis.disconnect();
    await store.close();
    target.close();
  }
});

live.run();
