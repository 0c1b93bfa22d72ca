/**
 * The control sleeps until the next slot it knows of instead of polling the schedule, and the slot applyMonitor gives a
 * new monitor wakes it: an idle zone costs no rounds, and a new monitor's first job still leaves on time.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pull } from 'zeromq';
import { SEND_AHEAD_MS, startControl } from '../src/control/control.js';
import { decode } from '../src/core/messages.js';
import { putMonitor, silent } from './helpers/cluster.js';
import { freePort, useRedis } from './helpers/redis-server.js';

const fx = useRedis(test);
const zone = 'control-sleep';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Script calls Redis has run: every control round is one (schedulePop), and nothing else here calls one. */
const scriptCalls = async () => Number(/cmdstat_evalsha:calls=(\d+)/.exec(await fx.redis.info('commandstats'))?.[1] ?? 0);

test('with nothing due for 30 s the control makes no round in 2 s; a monitor added then due in 400 ms is sent ahead of its due, not late', async () => {
  const port = await freePort();
  const broker = new Pull({ receiveTimeout: 3000 });
  await broker.bind(`tcp://127.0.0.1:${port}`);
  const conn = fx.server.client();
  await putMonitor(fx.redis, zone, { id: 'm-later', ctype: 'free-form', interval: 60, data: {} }, 30_000);
  const control = await startControl({ redis: conn, zone, brokers: [`tcp://127.0.0.1:${port}`], logger: silent });
  try {
    await sleep(500);
    const before = await scriptCalls();
    await sleep(2000);
    const rounds = (await scriptCalls()) - before;
    assert.ok(rounds <= 1, `${rounds} rounds in 2 s with the next slot 30 s away (polling every 100-200 ms made 10 or more)`);

    const due = Date.now() + 400;
    await putMonitor(fx.redis, zone, { id: 'm-new', ctype: 'free-form', interval: 60, data: {} }, 400);
    const [raw] = await broker.receive();
    const receivedAt = Date.now();
    const job = decode(raw!, ['job']);
    assert.is(job.monitorId, 'm-new');
    assert.ok(receivedAt <= due + 50, `the new monitor's job came ${receivedAt - due} ms after its due`);
    assert.ok(receivedAt >= due - SEND_AHEAD_MS - 50, `the new monitor's job came ${due - receivedAt} ms before its due`);
  } finally {
    await control.stop();
    conn.disconnect();
    broker.close();
  }
});

test.run();
