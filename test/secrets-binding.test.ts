/**
 * Secrets bound to where they were written: a ciphertext moved to another field, monitor or reaction, or a job whose
 * URL was changed on the way, does not decrypt in a real worker or sink, and the attacker's server gets nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { keys } from '../src/core/keys.js';
import { checkLoader, reactionLoader } from '../src/core/plugins.js';
import { fieldsToObject } from '../src/core/redis.js';
import type { Monitor } from '../src/core/types.js';
import { applyDocument } from '../src/manage/config-io.js';
import { ConfigService, type MonitorInput } from '../src/manage/config-service.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { recorder, type Recorder } from './actions/_recorder.js';
import { Cluster, putMonitor, putReaction, waitFor } from './helpers/cluster.js';
import { closedPort } from './helpers/peers.js';
import { RedisServer } from './helpers/redis-server.js';
import { encryptV1 } from './helpers/v1-secret.js';

const zone = 'secrets';
const k = keys(zone);
const KEY = randomBytes(32);
const TOKEN = 'Bearer t0ken-only-for-the-target';
const dir = mkdtempSync(join(tmpdir(), 'cr-secrets-'));
const server = new RedisServer();
let redis: Redis;
let cluster: Cluster;
let store: SqliteStore;
let service: ConfigService;
/** The server the secret was written for: 200 only with the right header. */
let target: Recorder;
/** A server of someone who can change jobs or configs on the way: must never see the secret. */
let attacker: Recorder;

const state = (id: string) => redis.hgetall(k.state(id));
const settled = (id: string) => waitFor(async () => ((await state(id)).status ? state(id) : null), 5000, `a result of ${id}`);
/** Every header and body the attacker's server was sent, as one text. */
const seenByAttacker = () => JSON.stringify(attacker.received);

/** A monitor stored as `monitor add` stores it (secrets encrypted for it) and put into Redis as the bridge would. */
async function added(input: Omit<MonitorInput, 'interval'>): Promise<Monitor> {
  const m = await service.addMonitor({ interval: 1, ...input });
  await putMonitor(redis, zone, m);
  return m;
}
const withHeader = (name: string, url: string) => added({ name, ctype: 'http-get-statuscode', data: { url, codes: ['200'], headers: { authorization: TOKEN } } });

test.before(async () => {
  await server.start();
  redis = server.client();
  store = new SqliteStore(join(dir, 'store.db'));
  await store.init();
  service = new ConfigService(store, checkLoader(), reactionLoader(), KEY);
  target = await recorder();
  target.answerFor = (got) => ({ status: got.headers.authorization === TOKEN ? 200 : 401, body: 'target' });
  attacker = await recorder();
  cluster = await new Cluster({ redisUrl: server.url, zone, secretKey: KEY }).start();
});

test.after(async () => {
  await cluster.stop();
  await target.peer.close();
  await attacker.peer.close();
  await store.close();
  redis.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('a secret bound to its monitor and URL reaches the server it was written for', async () => {
  const m = await withHeader('site', `${target.peer.url}/ok`);
  assert.match(String(m.data.headers), /^enc:v2:/);
  const s = await settled(m.id);
  assert.is(s.status, 'healthy', s.message);
  assert.ok(target.received.some((r) => r.url === '/ok' && r.headers.authorization === TOKEN));
});

test('a job whose URL was changed on the way does not decrypt: unknown naming the field, and nothing is sent', async () => {
  const m = await withHeader('moved url', `${target.peer.url}/moved`);
  // The same monitor id and ciphertext, only the URL pointing elsewhere: what a forged or altered job carries.
  await putMonitor(redis, zone, { ...m, data: { ...m.data, url: `${attacker.peer.url}/steal` } });
  const s = await settled(m.id);
  assert.is(s.status, 'unknown');
  assert.match(s.message!, /data\.headers cannot be decrypted: it was encrypted for another monitor, reaction, field or destination.*set the secret again/);
  assert.is(attacker.peer.connections, 0, 'the attacker was not even connected to');
  assert.not.ok(target.received.some((r) => r.url === '/moved'));
});

test('a ciphertext copied to another monitor does not decrypt, in Redis or when saved', async () => {
  const victim = await withHeader('victim', `${target.peer.url}/victim`);
  const thief = await added({ name: 'thief', ctype: 'http-get-statuscode', data: { url: `${attacker.peer.url}/thief`, codes: ['200'] } });
  await putMonitor(redis, zone, { ...thief, data: { ...thief.data, headers: victim.data.headers } });
  const s = await waitFor(async () => ((await state(thief.id)).status === 'unknown' ? state(thief.id) : null), 5000, 'the thief unknown');
  assert.match(s.message!, /data\.headers cannot be decrypted/);
  assert.not.ok(seenByAttacker().includes('t0ken'));
  assert.not.ok(attacker.received.some((r) => r.headers.authorization !== undefined), 'no Authorization header reached the attacker');
  // Saving cannot launder it either, not even with the victim's own URL.
  for (const url of [`${attacker.peer.url}/`, `${target.peer.url}/victim`]) {
    const err = await service.addMonitor({ name: 'copy', ctype: 'http-get-statuscode', interval: 1, data: { url, headers: victim.data.headers } }).catch((e: Error) => e);
    assert.instance(err, Error);
    assert.is((err as Error & { code?: string }).code, 'CR_SECRET_FOREIGN', 'the request brought it: its fault, not the server\'s');
    assert.match((err as Error).message, /data\.headers is a ciphertext this record does not take: it was encrypted for another monitor.*send the secret itself/);
  }
});

test('a ciphertext moved into a field that is not secret stays ciphertext; into another secret field it does not decrypt', async () => {
  const victim = await withHeader('victim 2', `${target.peer.url}/victim2`);
  const ciphertext = String(victim.data.headers);
  // http-post sends data.body as is: were every enc: value decrypted, the body would carry the header.
  await putMonitor(redis, zone, { id: 'm-body', name: 'body', ctype: 'http-post', interval: 1, reactions: [], createdAt: 0, updatedAt: 0, data: { url: `${attacker.peer.url}/body`, body: ciphertext, codes: ['200'] } });
  await waitFor(() => attacker.received.find((r) => r.url === '/body'), 5000, 'the post');
  const post = attacker.received.find((r) => r.url === '/body')!;
  assert.is(post.body, ciphertext, 'the module got the ciphertext text');
  assert.not.ok(seenByAttacker().includes('t0ken'));

  // amqp takes two secret fields: the password's ciphertext given as the url (a secret too) is refused.
  const broker = await closedPort();
  const amqp = await service.addMonitor({ name: 'amqp', ctype: 'amqp', interval: 1, data: { host: '127.0.0.1', port: broker, user: 'u', password: 'pw' } });
  const { password, ...rest } = amqp.data;
  await putMonitor(redis, zone, { ...amqp, data: { ...rest, url: password } });
  const s = await settled(amqp.id);
  assert.is(s.status, 'unknown');
  assert.match(s.message!, /data\.url cannot be decrypted/);
});

test('a monitor\'s ciphertext copied into a reaction does not decrypt: the reaction fails naming the field and sends nothing', async () => {
  const victim = await withHeader('victim 3', `${target.peer.url}/victim3`);
  const hooks = await recorder();
  const stolen = { id: 'r-stolen', rtype: 'webhook', callOn: 'failed' as const, data: { url: `${hooks.peer.url}/stolen`, headers: victim.data.headers } };
  await putReaction(redis, zone, stolen);
  const own = await service.addReaction({ name: 'own', rtype: 'webhook', data: { url: `${hooks.peer.url}/own`, headers: { authorization: 'Bearer hook' } } });
  await putReaction(redis, zone, own);
  await putMonitor(redis, zone, { id: 'm-down', name: 'down', ctype: 'tcp-check', interval: 1, reactions: [stolen.id, own.id], createdAt: 0, updatedAt: 0, data: { host: '127.0.0.1', port: await closedPort() } });
  const runs = await waitFor(async () => {
    const all = (await redis.xrange(k.events, '-', '+')).map(([, f]) => fieldsToObject(f)).filter((e) => e.kind === 'reaction' && e.monitorId === 'm-down');
    const by = Object.fromEntries(all.map((e) => [e.reactionId, e]));
    return by[stolen.id] && by[own.id] ? by : null;
  }, 8000, 'both reactions');
  assert.is(runs[stolen.id]!.outcome, 'failed');
  assert.match(runs[stolen.id]!.message!, /data\.headers cannot be decrypted: it was encrypted for another monitor, reaction, field or destination/);
  assert.is(runs[own.id]!.outcome, 'ran', 'a reaction\'s own secret decrypts in the sink');
  assert.ok(hooks.received.some((r) => r.url === '/own' && r.headers.authorization === 'Bearer hook'));
  assert.not.ok(hooks.received.some((r) => r.url === '/stolen'), 'the stolen header was never sent');
  await hooks.peer.close();
});

test('enc:v1 values keep working and are rewritten as enc:v2 on the next save', async () => {
  const old: Monitor = {
    id: 'm-old', name: 'old', ctype: 'http-get-statuscode', interval: 1, reactions: [], createdAt: 1, updatedAt: 1,
    data: { url: `${target.peer.url}/old`, codes: ['200'], headers: encryptV1(KEY, { authorization: TOKEN }) },
  };
  await store.putMonitor(old);
  await putMonitor(redis, zone, old);
  const s = await settled(old.id);
  assert.is(s.status, 'healthy', s.message);
  assert.ok(target.received.some((r) => r.url === '/old' && r.headers.authorization === TOKEN));
  // As "monitor edit --name" does: the data as stored, unchanged.
  const saved = await service.updateMonitor(old.id, { ...old, name: 'old, renamed' });
  assert.match(String(saved.data.headers), /^enc:v2:/);
  assert.equal(service.plainData(saved.data, (await checkLoader().load('http-get-statuscode')).meta.fields, { kind: 'monitor', id: old.id }).headers, { authorization: TOKEN });
});

test('an enc:v1 value is kept only in its own record and field: copied to a new monitor, another one or by apply, it is refused', async () => {
  const victim: Monitor = {
    id: 'm-v1-victim', name: 'v1 victim', ctype: 'http-get-statuscode', interval: 3600, reactions: [], createdAt: 1, updatedAt: 1,
    data: { url: `${target.peer.url}/v1`, codes: ['200'], headers: encryptV1(KEY, { authorization: TOKEN }) },
  };
  await store.putMonitor(victim);
  const thief = await service.addMonitor({ name: 'v1 thief', ctype: 'http-get-statuscode', interval: 3600, data: { url: `${attacker.peer.url}/v1`, codes: ['200'] } });
  const stolen = { url: `${attacker.peer.url}/v1`, codes: ['200'], headers: victim.data.headers };
  const refused = async (p: Promise<unknown>, what: string) => {
    const err = (await p.then(() => undefined, (e: Error) => e)) as (Error & { code?: string; field?: string }) | undefined;
    assert.ok(err, `${what} was refused`);
    assert.match(err!.message, /data\.headers is a ciphertext this record does not take: an enc:v1 value is only kept in place.*send the secret itself/, what);
    return err!;
  };
  const added = await refused(service.addMonitor({ name: 'copy', ctype: 'http-get-statuscode', interval: 3600, data: stolen }), 'a new monitor');
  assert.is(added.code, 'CR_SECRET_FOREIGN');
  assert.is(added.field, 'data.headers');
  await refused(service.updateMonitor(thief.id, { ...thief, data: stolen }), 'an edit of another monitor');
  await refused(applyDocument(service, store, { version: 1, reactions: [], monitors: [{ id: 'm-v1-applied', name: 'applied', ctype: 'http-get-statuscode', interval: 3600, data: stolen }] }), 'apply');
  assert.is(await store.getMonitor('m-v1-applied'), undefined);
  assert.not.ok(JSON.stringify((await store.getMonitor(thief.id))!.data).includes('enc:'), 'the thief holds no secret');
  // In place it is kept (and sealed as enc:v2 for its own record).
  const kept = await service.updateMonitor(victim.id, { ...victim, name: 'v1 victim, renamed' });
  assert.match(String(kept.data.headers), /^enc:v2:/);
});

test.run();
