import amqp from 'amqplib';
import { randomBytes } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkLoader } from '../../src/core/plugins.js';
import { validate } from '../../src/core/schema.js';
import type { CheckModule } from '../../src/core/types.js';
import { connectionFailureTests, requireService } from './_services.js';
import { ctx, job, silentPeer, type Peer } from '../helpers/peers.js';

const PORT = 5672;
const URL = `amqp://guest:guest@127.0.0.1:${PORT}`;
const queue = `cr-test-${randomBytes(4).toString('hex')}`;
let mod: CheckModule;
let peer: Peer;

test.before(async () => {
  await requireService('RabbitMQ', PORT);
  mod = await checkLoader().load('amqp');
  peer = await silentPeer();
});

test.after(async () => {
  await peer.close();
  const conn = await amqp.connect(URL);
  const ch = await conn.createChannel();
  await ch.deleteQueue(queue);
  await conn.close();
});

const run = (data: Record<string, unknown>, ms = 5000) => mod.check(job('amqp', data), ctx(ms));

test('schema rejects bad data, naming the field', () => {
  const f = mod.meta.fields;
  assert.match(validate(f, { url: 'http://x' }).join(), 'data.url must match');
  assert.match(validate(f, { host: 'a', port: 0 }).join(), 'data.port must be >= 1');
  assert.match(validate(f, { host: 'a', queue: 'q', maxMessages: -1 }).join(), 'data.maxMessages must be >= 0');
  assert.match(validate(f, { host: 'a', queue: 'q', maxMessages: 1.5 }).join(), 'data.maxMessages must be an integer');
  assert.match(validate(f, { host: 'a', exchange: 'x' }).join(), 'data.exchange is not a known field');
  assert.ok(f.properties!.password!.secret && f.properties!.url!.secret);
  assert.equal(validate(f, { url: 'amqps://u:p@mq/prod', queue: 'jobs', maxMessages: 1000, timeoutMs: 900 }), []);
  assert.equal(validate(f, { host: 'mq', port: 5671, user: 'u', password: 'p', vhost: 'prod', tls: true }), []);
});

test('a live broker completes the handshake, from host fields or a url', async () => {
  const r = await run({ host: '127.0.0.1' });
  assert.is(r.status, 'healthy', r.message);
  assert.is(r.message, `connected to 127.0.0.1:${PORT} (vhost "/")`);
  assert.ok(r.metrics!.connectMs! > 0);
  assert.is((await run({ url: URL })).status, 'healthy');
});

test('queue depth: within maxMessages is healthy, over it fails naming count and limit', async () => {
  const conn = await amqp.connect(URL);
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { autoDelete: false, durable: false });
    for (let i = 0; i < 5; i++) ch.sendToQueue(queue, Buffer.from(`m${i}`));
    await ch.waitForConfirms();
    const ok = await run({ url: URL, queue, maxMessages: 5 });
    assert.is(ok.status, 'healthy', ok.message);
    assert.is(ok.message, `queue "${queue}" on 127.0.0.1:${PORT} has 5 ready messages and 0 consumers`);
    assert.is(ok.metrics!.messages, 5);
    const over = await run({ host: '127.0.0.1', queue, maxMessages: 4 });
    assert.is(over.status, 'failed');
    assert.is(over.message, `queue "${queue}" on 127.0.0.1:${PORT} has 5 ready messages, above the maximum 4`);
  } finally {
    await conn.close();
  }
});

test('a queue that does not exist fails, and is not created', async () => {
  const missing = `${queue}-missing`;
  const r = await run({ host: '127.0.0.1', queue: missing });
  assert.is(r.status, 'failed');
  assert.is(r.message, `queue "${missing}" does not exist on 127.0.0.1:${PORT} (vhost "/")`);
  assert.is((await run({ host: '127.0.0.1', queue: missing })).status, 'failed');
});

test('refused credentials and an unknown vhost fail with the reason', async () => {
  const auth = await run({ host: '127.0.0.1', user: 'guest', password: 'wrong' });
  assert.is(auth.status, 'failed');
  assert.match(auth.message!, 'ACCESS-REFUSED');
  const vhost = await run({ host: '127.0.0.1', vhost: 'no-such-vhost-cr' });
  assert.is(vhost.status, 'failed');
  assert.is(vhost.message, `127.0.0.1:${PORT} refused to open vhost "no-such-vhost-cr" (it does not exist or the user may not use it)`);
});

connectionFailureTests(run, { host: '127.0.0.1' }, 'connecting to TARGET', () => peer);

test('data the check cannot use gives unknown', async () => {
  assert.is((await run({ port: 5672 })).status, 'unknown');
  assert.is((await run({ host: '127.0.0.1', maxMessages: 3 })).status, 'unknown');
});

test.run();
