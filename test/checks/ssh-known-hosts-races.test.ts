/** Trust on first use under concurrency: a key is trusted only once it is the recorded one, in the zone's Redis and in the data dir file alike. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Redis } from 'ioredis';
import { knownHostsKey, RedisKnownHosts } from '../../src/core/ssh-known-hosts.js';
import { RedisServer } from '../helpers/redis-server.js';

const server = new RedisServer();
const dir = mkdtempSync(join(tmpdir(), 'cr-known-hosts-races-'));
let worker: Redis;
let person: Redis;

test.before(async () => {
  await server.start();
  worker = server.client();
  person = server.client();
});
test.after(async () => {
  worker.disconnect();
  person.disconnect();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("a key forgotten while a worker meets the host is never trusted unless it is the one recorded", async () => {
  const store = new RedisKnownHosts(worker, 'race');
  const field = 'db.example:22';
  let running = true;
  // Someone keeps recording another key and forgetting it (`known-hosts forget`, another worker) while the worker connects.
  const churn = (async () => {
    while (running) {
      await person.hset(knownHostsKey('race'), field, 'SHA256:other');
      await person.hdel(knownHostsKey('race'), field);
    }
  })();
  const lies: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const met = `SHA256:met-${i}`;
    const r = await store.remember(field, met);
    // `met` is the worker's alone: it can only come back as recorded if this very call recorded it.
    if (r.recorded === met && !r.first) lies.push(met);
  }
  running = false;
  await churn;
  assert.equal(lies, [], `${lies.length} keys were trusted without being recorded`);
});

test.run();
