/**
 * `cloudroutes secrets rewrap` end to end: a store holding enc:v1 secrets, a real bridge carrying the store into Redis,
 * a real worker and sink. After rewrap every secret is enc:v2 and the checks still send the right header to the right
 * server; key rotation with --old-key-file keeps everything working under the new key and the old key no longer opens it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBridge, type Bridge } from '../src/bridge/bridge.js';
import { loadSettings } from '../src/core/config.js';
import { decryptFields, encryptValue } from '../src/core/crypto.js';
import { keys } from '../src/core/keys.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import type { Monitor, Reaction } from '../src/core/types.js';
import type { RewrapReport } from '../src/manage/rewrap.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { recorder, type Recorder } from './actions/_recorder.js';
import { Cluster, silent, waitFor } from './helpers/cluster.js';
import { closedPort } from './helpers/peers.js';
import { cli } from './helpers/procs.js';
import { RedisServer } from './helpers/redis-server.js';
import { encryptV1 } from './helpers/v1-secret.js';

const zone = 'rewrap';
const k = keys(zone);
const OLD = randomBytes(32);
const NEW = randomBytes(32);
const TOKEN = 'Bearer check-t0ken';
const HOOK = 'Bearer hook-t0ken';
const dir = mkdtempSync(join(tmpdir(), 'cr-rewrap-'));
const file = join(dir, 'store.db');
const server = new RedisServer();
let redis: Redis;
let store: SqliteStore;
let bridge: Bridge;
let cluster: Cluster;
let target: Recorder;
let hooks: Recorder;

const env = (key: Buffer) => ({ CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: join(dir, 'data'), CLOUDROUTES_SECRET_KEY: key.toString('hex'), LOG_LEVEL: 'silent' });
const rewrap = async (key: Buffer, ...args: string[]) => {
  const r = await cli(['secrets', 'rewrap', '--json', ...args], env(key), dir);
  assert.is(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as RewrapReport;
};
const summary = (r: RewrapReport) => r.rewrapped.map((x) => `${x.kind} ${x.id}: ${x.fields.join(',')}`).sort();
const inRedis = async (kind: 'monitor' | 'reaction', id: string) => JSON.parse((await redis.get(kind === 'monitor' ? k.monitor(id) : k.reaction(id)))!) as Monitor | Reaction;
/** Resolves when `rec` gets a request after now with the right header on path `url`. */
const nextGood = (rec: Recorder, url: string, header: string, what: string) => {
  const from = rec.received.length;
  return waitFor(() => rec.received.slice(from).find((r) => r.url === url && r.headers.authorization === header), 8000, what);
};
const state = (id: string) => redis.hgetall(k.state(id));
/** The hook's runs as the store recorded them (the bridge moves them there from Redis). */
const hookRuns = async (since: number) => (await store.events({ monitorId: 'm-down', limit: 1000 })).filter((e) => e.reactionId === 'r-hook' && e.at >= since);

async function restartRunners(key: Buffer): Promise<void> {
  await cluster.worker!.stop();
  await cluster.sink!.stop();
  cluster.opts.secretKey = key;
  await cluster.startWorker();
  await cluster.startSink();
}

test.before(async () => {
  await server.start();
  redis = server.client();
  target = await recorder();
  target.answerFor = (got) => ({ status: got.headers.authorization === TOKEN ? 200 : 401, body: 'target' });
  hooks = await recorder();
  store = new SqliteStore(file);
  await store.init();
  // A store written before enc:v2: every secret enc:v1 under the old key.
  await store.putReaction({ id: 'r-hook', name: 'hook', rtype: 'webhook', trigger: 1, frequency: 0, callOn: 'failed', once: false, createdAt: 1, updatedAt: 1, data: { url: `${hooks.peer.url}/hook`, headers: encryptV1(OLD, { authorization: HOOK }) } });
  const monitor = (id: string, data: Record<string, unknown>, reactions: string[] = []): Monitor => ({ id, name: id, ctype: 'http-get-statuscode', interval: 1, reactions, createdAt: 1, updatedAt: 1, data });
  await store.putMonitor(monitor('m-api', { url: `${target.peer.url}/api`, codes: ['200'], headers: encryptV1(OLD, { authorization: TOKEN }) }));
  await store.putMonitor(monitor('m-web', { url: `${target.peer.url}/web`, codes: ['200'], headers: encryptV1(OLD, { authorization: TOKEN }) }));
  await store.putMonitor({ id: 'm-down', name: 'down', ctype: 'tcp-check', interval: 1, reactions: ['r-hook'], createdAt: 1, updatedAt: 1, data: { host: '127.0.0.1', port: await closedPort() } });
  // And one written in plain text by other means: rewrap encrypts it too.
  await store.putMonitor(monitor('m-plain', { url: `${target.peer.url}/plain`, codes: ['200'], headers: { authorization: TOKEN } }));
  const settings = loadSettings({ REDIS_URL: server.url, CLOUDROUTES_ZONE: zone, CLOUDROUTES_STORE: `sqlite:${file}`, CLOUDROUTES_DATA_DIR: dir });
  bridge = await startBridge({ settings, logger: silent, store, claimIdleMs: 200 });
  cluster = await new Cluster({ redisUrl: server.url, zone, secretKey: OLD }).start();
});

test.after(async () => {
  await cluster.stop();
  await bridge.stop();
  await store.close();
  await target.peer.close();
  await hooks.peer.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('enc:v1 secrets work as they are', async () => {
  await nextGood(target, '/api', TOKEN, 'm-api with its header');
  await nextGood(target, '/web', TOKEN, 'm-web with its header');
  await nextGood(hooks, '/hook', HOOK, 'the hook with its header');
});

test('rewrap --dry-run reports and changes nothing; rewrap turns every enc:v1 into enc:v2, the bridge carries it and the monitors keep working', async () => {
  const before = [await store.listMonitors(), await store.listReactions()];
  const dry = await rewrap(OLD, '--dry-run');
  assert.is(dry.dryRun, true);
  assert.equal(summary(dry), ['monitor m-api: headers', 'monitor m-plain: headers', 'monitor m-web: headers', 'reaction r-hook: headers']);
  assert.is(dry.unchanged, 1);
  assert.equal([await store.listMonitors(), await store.listReactions()], before, 'a dry run writes nothing');

  const done = await rewrap(OLD);
  assert.equal(summary(done), summary(dry));
  for (const id of ['m-api', 'm-web', 'm-plain']) assert.match(String((await store.getMonitor(id))!.data.headers), /^enc:v2:/);
  assert.match(String((await store.getReaction('r-hook'))!.data.headers), /^enc:v2:/);
  // Through the bridge, as for any edit.
  await waitFor(async () => String((await inRedis('monitor', 'm-api')).data.headers).startsWith('enc:v2:') && String((await inRedis('reaction', 'r-hook')).data.headers).startsWith('enc:v2:'), 8000, 'the bridge carrying enc:v2 into Redis');
  await nextGood(target, '/api', TOKEN, 'm-api after rewrap');
  await nextGood(target, '/web', TOKEN, 'm-web after rewrap');
  await nextGood(target, '/plain', TOKEN, 'm-plain after rewrap');
  await nextGood(hooks, '/hook', HOOK, 'the hook after rewrap');
  assert.is((await state('m-api')).status, 'healthy');

  const again = await rewrap(OLD);
  assert.equal(again.rewrapped, [], 'idempotent');
  assert.is(again.unchanged, 5);
  const text = await cli(['secrets', 'rewrap'], env(OLD), dir);
  assert.match(text.stdout, /^nothing to rewrap/);
});

test('key rotation with --old-key-file: every monitor and reaction works under the new key, and the old key opens nothing', async () => {
  const oldFile = join(dir, 'old.key');
  writeFileSync(oldFile, `${OLD.toString('hex')}\n`, { mode: 0o600 });
  const without = await cli(['secrets', 'rewrap'], env(NEW), dir);
  assert.is(without.code, 2, 'without the old key nothing can be decrypted');
  assert.match(without.stderr, /\[CR_REWRAP_REFUSED\].*monitor m-api \("m-api"\): data\.headers cannot be decrypted.*--old-key-file/);
  assert.match(String((await store.getMonitor('m-api'))!.data.headers), /^enc:v2:/);

  const rotated = await rewrap(NEW, '--old-key-file', oldFile);
  assert.equal(summary(rotated), ['monitor m-api: headers', 'monitor m-plain: headers', 'monitor m-web: headers', 'reaction r-hook: headers']);
  await waitFor(async () => (await state('m-api')).status === 'unknown', 8000, 'a worker still on the old key failing to decrypt');
  assert.match((await state('m-api')).message!, /data\.headers cannot be decrypted/);

  await restartRunners(NEW);
  await nextGood(target, '/api', TOKEN, 'm-api under the new key');
  await nextGood(target, '/web', TOKEN, 'm-web under the new key');
  const since = Date.now();
  await nextGood(hooks, '/hook', HOOK, 'the hook under the new key');
  await waitFor(async () => (await hookRuns(since)).some((e) => e.outcome === 'ran'), 8000, 'a hook run recorded as ran');
  await waitFor(async () => (await state('m-api')).status === 'healthy', 8000, 'm-api healthy again');

  const fields = (await checkLoader().load('http-get-statuscode')).meta.fields;
  const api = (await store.getMonitor('m-api'))!;
  assert.equal(decryptFields(NEW, api.data, fields, { kind: 'monitor', id: 'm-api' }).headers, { authorization: TOKEN });
  assert.throws(() => decryptFields(OLD, api.data, fields, { kind: 'monitor', id: 'm-api' }), /data\.headers cannot be decrypted/);
  const hook = (await store.getReaction('r-hook'))!;
  const webhook = (await reactionLoader().load('webhook')).meta.fields;
  assert.throws(() => decryptFields(OLD, hook.data, webhook, { kind: 'reaction', id: 'r-hook' }), /cannot be decrypted/);
  assert.equal((await rewrap(NEW, '--old-key-file', oldFile)).rewrapped, [], 'running it again changes nothing');
});

test('rewrap refuses, changing nothing, when a value opens with no key, naming the record and field', async () => {
  const stray = randomBytes(32);
  const fields = (await checkLoader().load('http-get-statuscode')).meta.fields;
  const url = `${target.peer.url}/stray`;
  await store.putMonitor({ id: 'm-stray', name: 'stray', ctype: 'http-get-statuscode', interval: 3600, reactions: [], createdAt: 1, updatedAt: 1, data: { url, headers: encryptValue(stray, { authorization: 'x' }, `monitor:m-stray:headers:${new URL(url).origin}`) } });
  await store.putMonitor({ id: 'm-legacy', name: 'legacy', ctype: 'http-get-statuscode', interval: 3600, reactions: [], createdAt: 1, updatedAt: 1, data: { url, headers: encryptV1(NEW, { authorization: 'y' }) } });
  const before = [await store.listMonitors(), await store.listReactions()];
  const r = await cli(['secrets', 'rewrap'], env(NEW), dir);
  assert.is(r.code, 2);
  assert.match(r.stderr, /secrets rewrap changed nothing: monitor m-stray \("stray"\): data\.headers cannot be decrypted/);
  assert.equal([await store.listMonitors(), await store.listReactions()], before, 'm-legacy was not rewritten either');
  assert.ok(decryptFields(NEW, before[0]!.find((m) => m.id === 'm-legacy')!.data, fields, { kind: 'monitor', id: 'm-legacy' }));
});

test.run();
