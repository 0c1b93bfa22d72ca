/** SSH without data.ssh.hostKey: the key met first is recorded (the zone's Redis, or the data dir for `cloudroutes check`) and a changed key is refused, naming both. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { closeSshConnections } from '../../plugin-support/ssh-connection.js';
import { checkLoader, reactionLoader } from '../../src/core/plugins.js';
import { knownHostsKey, RedisKnownHosts, useKnownHosts } from '../../src/core/ssh-known-hosts.js';
import type { CheckModule, ReactionModule } from '../../src/core/types.js';
import { ctx, job } from '../helpers/peers.js';
import { cli } from '../helpers/procs.js';
import { RedisServer } from '../helpers/redis-server.js';
import { Sshd } from '../helpers/sshd.js';

const sshd = new Sshd();
const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-known-hosts-'));
let redis: Redis;
let check: CheckModule;
let reaction: ReactionModule;
let where = '';

test.before(async () => {
  await sshd.start();
  await server.start();
  redis = server.client();
  where = `127.0.0.1:${sshd.port}`;
  check = await checkLoader().load('load-average');
  reaction = await reactionLoader().load('ssh-command');
});
test.after(async () => {
  closeSshConnections();
  redis.disconnect();
  await sshd.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ssh = () => ({ host: '127.0.0.1', port: sshd.port, user: 'root', key: sshd.client.private });
const runCheck = () => check.check(job('load-average', { ssh: ssh(), max1: 1000 }), ctx());
const logs: Record<string, unknown>[] = [];
const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
const runReaction = () => reaction.react({
  monitor: { id: 'mon-1', name: 'web', ctype: 'http-get-statuscode' },
  reaction: { id: 'rea-1', name: 'restart web', rtype: 'ssh-command', data: { ssh: ssh(), command: 'true' } },
  status: 'failed', previousStatus: 'healthy', failcount: 1, zone: 'test', checkedAt: Date.now(), message: 'down',
}, { signal: AbortSignal.timeout(5000), logger });

test("a worker's first connection records the key in the zone's Redis; the next ones with the same key pass", async () => {
  useKnownHosts(new RedisKnownHosts(redis, 'test'));
  const first = await runCheck();
  assert.is(first.status, 'healthy', first.message);
  assert.is(await redis.hget(knownHostsKey('test'), where), sshd.hostKey, 'recorded as SHA256:... for host:port');
  closeSshConnections();
  const again = await runCheck();
  assert.is(again.status, 'healthy', again.message);
  assert.is(await runReaction(), 'ran');
});

test("a changed key is refused by the check and the ssh-command reaction of any process of the zone, naming both keys and what to do", async () => {
  const recorded = sshd.hostKey;
  await sshd.newHostKey();
  assert.is.not(sshd.hostKey, recorded);
  closeSshConnections();
  // Another worker of the zone: its own Redis connection, the same hash.
  const other = server.client();
  useKnownHosts(new RedisKnownHosts(other, 'test'));
  const before = sshd.connections();
  const r = await runCheck();
  assert.is(r.status, 'failed');
  const said = `the SSH host key of ${where} has changed: it is now ${sshd.hostKey}, but ${recorded} was recorded on first use (in Redis hash cr:test:ssh-known-hosts)`;
  assert.ok(r.message!.includes(said), r.message);
  assert.match(r.message!, `set data.ssh.hostKey to ${sshd.hostKey}, or forget the recorded key (cloudroutes --zone test known-hosts forget ${where})`);
  assert.ok(sshd.connections() > before, 'it did reach the new server');
  const refused = await runReaction();
  assert.is(typeof refused === 'object' && refused.outcome, 'failed');
  // The run's message (cut to 300 characters for the audit) keeps what happened and what to do; the log has it whole.
  const text = typeof refused === 'object' ? refused.message ?? '' : '';
  assert.match(text, `the SSH host key of ${where} has changed: it is now`);
  assert.match(text, `or forget the recorded key (cloudroutes --zone test known-hosts forget ${where})`);
  assert.ok(String(logs[logs.length - 1]!.msg).includes(said), String(logs[logs.length - 1]!.msg));
  assert.is(await redis.hget(knownHostsKey('test'), where), recorded, 'the recorded key is kept');

  // Pinning the new key is one way out; forgetting the recorded one is the other.
  const pinned = await check.check(job('load-average', { ssh: { ...ssh(), hostKey: sshd.hostKey }, max1: 1000 }), ctx());
  assert.is(pinned.status, 'healthy', pinned.message);
  const forget = await cli(['--zone', 'test', 'known-hosts', 'forget', where], { REDIS_URL: server.url, CLOUDROUTES_DATA_DIR: join(dir, 'data') }, dir);
  assert.is(forget.code, 0, forget.stderr);
  assert.match(forget.stdout, `forgot the SSH host key of ${where}`);
  closeSshConnections();
  assert.is((await runCheck()).status, 'healthy', 'the next connection records the key it meets');
  assert.is(await redis.hget(knownHostsKey('test'), where), sshd.hostKey);
  other.disconnect();
});

test('`cloudroutes check` without Redis records in the data dir file, refuses a changed key, and forget --local lets it record again', async () => {
  const env = { REDIS_URL: 'redis://127.0.0.1:1', CLOUDROUTES_DATA_DIR: join(dir, 'data'), LOG_LEVEL: 'silent' };
  const run = () => cli(['check', 'load-average', '--data', JSON.stringify({ ssh: ssh(), max1: 1000 })], env, dir);
  const first = await run();
  assert.is(first.code, 0, first.stdout + first.stderr);
  const file = join(dir, 'data', 'ssh-known-hosts');
  assert.is(readFileSync(file, 'utf8'), `${where} ${sshd.hostKey}\n`);
  assert.is((await run()).code, 0);

  const recorded = sshd.hostKey;
  await sshd.newHostKey();
  const changed = await run();
  assert.is(changed.code, 1, 'failed');
  assert.match(changed.stdout, `it is now ${sshd.hostKey}, but ${recorded} was recorded on first use (in file ${file})`);
  assert.match(changed.stdout, `forget the recorded key (cloudroutes known-hosts forget ${where} --local, or delete its line from ${file})`);

  const list = await cli(['known-hosts', 'list', '--local', '--json'], env, dir);
  assert.equal(JSON.parse(list.stdout), { [where]: recorded });
  assert.is((await cli(['known-hosts', 'forget', where, '--local'], env, dir)).code, 0);
  assert.is((await run()).code, 0, 'recorded again after forget');
  assert.is(readFileSync(file, 'utf8'), `${where} ${sshd.hostKey}\n`);
});

test.run();
