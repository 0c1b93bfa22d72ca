/** A host's recorded key is found however its name is spelled (case, trailing dot, IPv6 forms), so a changed key cannot pass under another spelling. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { closeSshConnections } from '../../plugin-support/ssh-connection.js';
import { checkLoader } from '../../src/core/plugins.js';
import { FileKnownHosts, knownHostsKey, MemoryKnownHosts, RedisKnownHosts, useKnownHosts, type KnownHosts } from '../../src/core/ssh-known-hosts.js';
import type { CheckModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';
import { cli } from '../helpers/procs.js';
import { RedisServer } from '../helpers/redis-server.js';
import { Sshd } from '../helpers/sshd.js';

const sshd = new Sshd();
const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-known-hosts-names-'));
let redis: Redis;
let check: CheckModule;

test.before(async () => {
  await sshd.start();
  await server.start();
  redis = server.client();
  check = await checkLoader().load('load-average');
});
test.after(async () => {
  closeSshConnections();
  redis.disconnect();
  await sshd.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const runCheck = (host: string) => {
  closeSshConnections();
  return check.check(job('load-average', { ssh: { host, port: sshd.port, user: 'root', key: sshd.client.private }, max1: 1000 }), ctx());
};

test('a key recorded for localhost is not replaced by another key met under LocalHost', async () => {
  useKnownHosts(new RedisKnownHosts(redis, 'case'));
  assert.is((await runCheck('localhost')).status, 'healthy');
  const recorded = sshd.hostKey;
  await sshd.newHostKey();
  const r = await runCheck('LocalHost');
  assert.is(r.status, 'failed', 'the changed key is refused');
  assert.match(r.message!, `it is now ${sshd.hostKey}, but ${recorded} was recorded on first use`);
  assert.match(r.message!, `known-hosts forget localhost:${sshd.port})`);
  assert.equal(await redis.hgetall(knownHostsKey('case')), { [`localhost:${sshd.port}`]: recorded }, 'one entry, lower case');
});

test('a key recorded in upper case by an earlier version is found, listed in lower case, and forgotten under any spelling', async () => {
  const zone = 'legacy';
  const env = { REDIS_URL: server.url, CLOUDROUTES_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' };
  useKnownHosts(new RedisKnownHosts(redis, zone));
  await redis.hset(knownHostsKey(zone), `LocalHost:${sshd.port}`, 'SHA256:the-old-machine');
  const r = await runCheck('localhost');
  assert.is(r.status, 'failed');
  assert.match(r.message!, 'but SHA256:the-old-machine was recorded on first use');

  await redis.hset(knownHostsKey(zone), `OTHER.example:22`, 'SHA256:other');
  const list = await cli(['--zone', zone, 'known-hosts', 'list', '--json'], env, dir);
  assert.equal(JSON.parse(list.stdout), { [`localhost:${sshd.port}`]: 'SHA256:the-old-machine', 'other.example:22': 'SHA256:other' });
  const forget = await cli(['--zone', zone, 'known-hosts', 'forget', `LOCALHOST:${sshd.port}`], env, dir);
  assert.is(forget.code, 0, forget.stderr);
  assert.match(forget.stdout, `forgot the SSH host key of localhost:${sshd.port}`);
  const other = await cli(['--zone', zone, 'known-hosts', 'forget', `other.example.:22`], env, dir);
  assert.is(other.code, 0, other.stderr);
  assert.equal(await redis.hgetall(knownHostsKey(zone)), {}, 'the upper-case fields are gone');
  assert.is((await runCheck('LOCALHOST')).status, 'healthy', 'the next connection records the key it meets');
  assert.equal(await redis.hgetall(knownHostsKey(zone)), { [`localhost:${sshd.port}`]: sshd.hostKey });
});

test('`cloudroutes check` finds a line written in upper case in the data dir file, and forget --local removes it', async () => {
  const data = join(dir, 'file-data');
  const env = { REDIS_URL: 'redis://127.0.0.1:1', CLOUDROUTES_DATA_DIR: data, LOG_LEVEL: 'silent' };
  const file = join(data, 'ssh-known-hosts');
  mkdirSync(data, { recursive: true });
  writeFileSync(file, `# edited by hand\nLocalHost:${sshd.port} SHA256:the-old-machine\n`);
  const run = (host: string) => cli(['check', 'load-average', '--data', JSON.stringify({ ssh: { host, port: sshd.port, user: 'root', key: sshd.client.private }, max1: 1000 })], env, dir);
  const changed = await run('localhost');
  assert.is(changed.code, 1, changed.stdout + changed.stderr);
  assert.match(changed.stdout, 'but SHA256:the-old-machine was recorded on first use');
  const forget = await cli(['known-hosts', 'forget', `localhost:${sshd.port}`, '--local'], env, dir);
  assert.is(forget.code, 0, forget.stderr);
  assert.is((await run('LOCALHOST')).code, 0);
  assert.is(readFileSync(file, 'utf8'), `# edited by hand\nlocalhost:${sshd.port} ${sshd.hostKey}\n`);
});

const stores: [string, () => KnownHosts][] = [
  ['Redis', () => new RedisKnownHosts(redis, `forms-${Math.random()}`)],
  ['file', () => new FileKnownHosts(join(dir, `forms-${Math.random()}`, 'ssh-known-hosts'))],
  ['memory', () => new MemoryKnownHosts()],
];
for (const [name, make] of stores) {
  test(`${name}: one entry per host whatever the spelling of its name or IPv6 address`, async () => {
    const store = make();
    assert.equal(await store.remember('[2001:DB8:0:0::1]:22', 'SHA256:v6'), { recorded: 'SHA256:v6', first: true });
    assert.equal(await store.remember('[2001:db8::1]:22', 'SHA256:intruder'), { recorded: 'SHA256:v6', first: false });
    assert.equal(await store.remember('Example.COM.:2222', 'SHA256:web'), { recorded: 'SHA256:web', first: true });
    assert.equal(await store.remember('[example.com]:2222', 'SHA256:intruder'), { recorded: 'SHA256:web', first: false });
    assert.equal(await store.list(), { '[2001:db8::1]:22': 'SHA256:v6', 'example.com:2222': 'SHA256:web' });
    assert.ok(await store.forget('[2001:0DB8::0:1]:22'));
    assert.equal(Object.keys(await store.list()), ['example.com:2222']);
  });
}

test.run();
