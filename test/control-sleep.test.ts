/**
 * The control sleeps until the next slot it knows of instead of polling the schedule, and the slot applyMonitor gives a
 * new monitor wakes it: an idle zone costs no rounds, and a new monitor's first job still leaves on time. Its rounds
 * are spaced out as the rate of jobs falls, and stay short at high rates, where every job sent ahead holds a worker slot.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Pull } from 'zeromq';
import { MAX_SEND_AHEAD_MS, startControl } from '../src/control/control.js';
import { keys } from '../src/core/keys.js';
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
    assert.ok(receivedAt >= due - MAX_SEND_AHEAD_MS - 50, `the new monitor's job came ${due - receivedAt} ms before its due`);
  } finally {
    await control.stop();
    conn.disconnect();
    broker.close();
  }
});

test('at 2,000 jobs a second the control sends each job at most 150 ms ahead of its due, and none late', async () => {
  const fastZone = 'control-sleep-fast';
  const port = await freePort();
  const broker = new Pull({ receiveTimeout: 3000 });
  await broker.bind(`tcp://127.0.0.1:${port}`);
  const conn = fx.server.client();
  const p = fx.redis.pipeline();
  for (let i = 0; i < 2000; i++) {
    const m = { id: `m-${i}`, name: `m-${i}`, ctype: 'free-form', interval: 1, data: {}, reactions: [], createdAt: 0, updatedAt: 0 };
    const fk = keys(fastZone);
    p.applyMonitor(fk.monitor(m.id), fk.intervals, fk.monitors, fk.schedule, fk.state(m.id), m.id, JSON.stringify(m), 1000, Date.now(), Math.floor(Math.random() * 1000));
  }
  await p.exec();
  const control = await startControl({ redis: conn, zone: fastZone, brokers: [`tcp://127.0.0.1:${port}`], logger: silent });
  try {
    const started = Date.now();
    let earliest = 0;
    let latest = -Infinity;
    let measured = 0;
    while (Date.now() - started < 4000) {
      const msg = await broker.receive();
      const at = Date.now();
      // The first seconds measure the rate (rounds start at the low-rate pause); judged from then on.
      if (at - started < 2000) continue;
      for (const raw of msg) {
        const job = decode(raw, ['job']);
        earliest = Math.max(earliest, job.due - at);
        latest = Math.max(latest, at - job.due);
        measured++;
      }
    }
    assert.ok(measured > 2000, `${measured} jobs judged`);
    assert.ok(earliest <= 150 + 30, `a job came ${earliest} ms before its due`);
    assert.ok(latest <= 100, `a job came ${latest} ms after its due`);
  } finally {
    await control.stop();
    conn.disconnect();
    broker.close();
  }
});

test.run();
