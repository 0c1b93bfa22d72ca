import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Dealer, Push, Router } from 'zeromq';
import { keys } from '../src/core/keys.js';
import { startBroker, type Broker } from '../src/broker/broker.js';
import { startWorker } from '../src/worker/worker.js';
import { startSink } from '../src/sink/sink.js';
import { freePorts, putMonitor, putReaction, resultTap, silent, waitFor } from './helpers/cluster.js';
import { freePort, useRedis } from './helpers/redis-server.js';

const zone = 'bad';
const fx = useRedis(test);
const url = (p: number) => `tcp://127.0.0.1:${p}`;
const BAD = ['{not json', '[1,2]', JSON.stringify({ v: 2, type: 'job' }), JSON.stringify({ v: 1, type: 'job', monitorId: 'x' }), JSON.stringify({ v: 1, type: 'nonsense' })];


const counted = (c: { get(n: string): number }) => ['malformed_json', 'unknown_version', 'missing_field', 'unexpected_type', 'bad_value', 'too_large', 'clock'].reduce((n, r) => n + c.get(`bad_messages.${r}`), 0);

test('the broker drops and counts bad messages on each of its sockets and keeps working', async () => {
  const ports = await freePorts();
  const broker: Broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis: fx.redis });
  const jobs = new Push();
  jobs.connect(url(ports.jobsIn));
  const worker = new Dealer();
  worker.connect(url(ports.workers));
  for (const m of BAD) {
    await jobs.send(m);
    await worker.send(m);
  }
  await waitFor(() => counted(broker.counters) === BAD.length * 2, 3000, 'all bad messages counted');
  assert.is(broker.counters.get('bad_messages.malformed_json'), 4);
  assert.is(broker.counters.get('bad_messages.unknown_version'), 2);

  // Still works: a worker that gives credit gets a valid job.
  await worker.send(JSON.stringify({ v: 1, type: 'credit', free: 1, received: 0 }));
  const job = { v: 1, type: 'job', monitorId: 'm1', name: 'n', ctype: 'tcp-check', data: {}, timeoutMs: 100, zone, due: Date.now(), sent: Date.now(), interval: 60 };
  await jobs.send(JSON.stringify(job));
  const frames = await worker.receive();
  assert.is(frames.length, 2, 'the job comes with the number the broker gave it');
  assert.equal(JSON.parse(frames[1]!.toString()), job);

  // A round's jobs come as one message, a job per frame: a bad frame is refused alone; a message of too many is refused whole.
  const good = (id: string) => JSON.stringify({ ...job, monitorId: id, due: Date.now(), sent: Date.now() });
  await jobs.send([good('m2'), '{not json', good('m3')]);
  await jobs.send(Array.from({ length: 1001 }, (_, i) => good(`flood-${i}`)));
  await worker.send(JSON.stringify({ v: 1, type: 'credit', free: 10, received: 1 }));
  const got = await worker.receive();
  assert.equal([1, 3].map((i) => (JSON.parse(got[i]!.toString()) as { monitorId: string }).monitorId), ['m2', 'm3']);
  assert.is(got.length, 4, 'both good jobs in one message, each after its number');
  await waitFor(() => broker.counters.get('bad_messages.too_large') === 1, 3000, 'the flood counted once');
  assert.is(broker.queued(), 0, 'nothing of the flood was queued');

  await broker.counters.flush();
  assert.is(Number(await fx.redis.hget(keys(zone).counters, 'broker.bad_messages.malformed_json')), 5, 'counted in Redis for "cloudroutes stats"');
  for (const s of [jobs, worker]) s.close();
  await broker.stop();
});

test('the worker drops and counts bad jobs and still runs the next good one', async () => {
  const jobsPort = await freePort();
  const fakeBroker = new Router();
  await fakeBroker.bind(url(jobsPort));
  const results = resultTap(fx.redis, zone);
  const worker = await startWorker({ jobs: url(jobsPort), zone, logger: silent, redis: fx.redis, concurrency: 4 });
  const [id, credit] = await fakeBroker.receive();
  assert.equal(JSON.parse(credit!.toString()), { v: 1, type: 'credit', free: 4, received: 0 });
  for (const m of BAD) await fakeBroker.send([id!, m]);
  await waitFor(() => counted(worker.counters) === BAD.length, 3000, 'bad jobs counted');
  const job = { v: 1, type: 'job', monitorId: 'm2', name: 'n', ctype: 'no-such', data: {}, timeoutMs: 500, zone, due: Date.now(), sent: Date.now(), interval: 60 };
  await fakeBroker.send([id!, JSON.stringify(job)]);
  const result = await results.next();
  assert.is(result.monitorId, 'm2');
  assert.is(result.status, 'unknown');
  // Several jobs in one message, each after its 4-byte number: a bad one among them is refused alone; frames that are
  // not such pairs are refused whole.
  const n = (i: number) => Buffer.from([0, 0, 0, i]);
  await fakeBroker.send([id!, n(1), JSON.stringify({ ...job, monitorId: 'm4' }), n(2), '{not json', n(3), JSON.stringify({ ...job, monitorId: 'm5' })]);
  await fakeBroker.send([id!, 'a', 'b', JSON.stringify({ ...job, monitorId: 'odd' })]);
  const got = [(await results.next()).monitorId, (await results.next()).monitorId];
  assert.equal(got.sort(), ['m4', 'm5']);
  await waitFor(() => counted(worker.counters) === BAD.length + 2, 3000, 'the bad job and the odd message counted');
  assert.is(await fx.redis.hget(keys(zone).state('odd'), 'status'), null);
  await worker.stop();
  fakeBroker.close();
});

test('the sink drops, counts and acknowledges bad results and still records the next good one', async () => {
  const sink = await startSink({ redis: fx.redis, zone, logger: silent });
  const k = keys(zone);
  const add = (m: string) => fx.redis.xadd(k.results, '*', 'r', m);
  for (const m of [...BAD, JSON.stringify({ v: 1, type: 'result', monitorId: 'm3', zone, status: 'broken', message: '', latencyMs: 1, due: Date.now(), checkedAt: Date.now() })]) {
    await add(m);
  }
  // An entry without the result field at all.
  await fx.redis.xadd(k.results, '*', 'other', 'x');
  await waitFor(() => counted(sink.counters) === BAD.length + 2, 3000, 'bad results counted');
  await putMonitor(fx.redis, zone, { id: 'm3', ctype: 'tcp-check', data: {} }, 60_000);
  await add(JSON.stringify({ v: 1, type: 'result', monitorId: 'm3', zone, status: 'failed', message: 'down', latencyMs: 5, due: Date.now(), checkedAt: Date.now() }));
  const state = await waitFor(async () => (await fx.redis.hget(k.state('m3'), 'status')) ?? null, 3000, 'good result recorded');
  assert.is(state, 'failed');
  await waitFor(async () => (await fx.redis.xlen(k.results)) === 0, 3000, 'every entry, bad ones too, acknowledged and removed');

  // One entry carries several results, one per line, as a worker's outbox sends them: a bad line among good ones is
  // counted on its own, and the good ones around it are recorded.
  const before = counted(sink.counters);
  await putMonitor(fx.redis, zone, { id: 'm6', ctype: 'tcp-check', data: {} }, 60_000);
  const result = (id: string, status: string) => JSON.stringify({ v: 1, type: 'result', monitorId: id, zone, status, message: '', latencyMs: 2, due: Date.now(), checkedAt: Date.now() });
  await add([result('m3', 'healthy'), BAD[0], result('m6', 'failed')].join('\n'));
  await waitFor(async () => (await fx.redis.hget(k.state('m6'), 'status')) === 'failed', 3000, 'the last line recorded');
  assert.is(await fx.redis.hget(k.state('m3'), 'status'), 'healthy', 'the first line recorded');
  assert.is(counted(sink.counters), before + 1, 'the bad line counted');
  await waitFor(async () => (await fx.redis.xlen(k.results)) === 0, 3000, 'the entry acknowledged and removed');
  await sink.stop();
});

test('the sink drops and counts bad reaction tests and late ones, refuses a monitor that does not use the reaction, and runs a good one once', async () => {
  const sink = await startSink({ redis: fx.redis, zone, logger: silent });
  const k = keys(zone);
  await waitFor(async () => (await fx.redis.exists(k.tests)) === 1, 3000, "the sinks' tests group made");
  await putReaction(fx.redis, zone, { id: 'r-log', rtype: 'log', data: {} });
  await putMonitor(fx.redis, zone, { id: 'm-uses', ctype: 'tcp-check', data: {}, reactions: ['r-log'] }, 60_000);
  await putMonitor(fx.redis, zone, { id: 'm-not', ctype: 'tcp-check', data: {} }, 60_000);
  const ask = (m: string) => fx.redis.xadd(k.tests, '*', 'r', m);
  const request = (test: string, monitorId: string, sent = Date.now()) =>
    JSON.stringify({ v: 1, type: 'reaction-test', test, reactionId: 'r-log', monitorId, status: 'failed', by: 'tests', sent });
  for (const m of BAD) await ask(m);
  await ask(request('../../../etc/passwd', 'm-uses'));
  await fx.redis.xadd(k.tests, '*', 'other', 'x');
  await waitFor(() => counted(sink.counters) === BAD.length + 2, 3000, 'bad reaction tests counted');

  await ask(request('late-0000-test', 'm-uses', Date.now() - 10_000));
  await waitFor(() => sink.counters.get('tests_expired') === 1, 3000, 'a test read after its caller stopped waiting is dropped');
  await ask(request('refused-0000-test', 'm-not'));
  const refused = await waitFor(() => fx.redis.get(k.testAnswer('refused-0000-test')), 3000, 'the refusal answered');
  assert.equal([JSON.parse(refused).outcome, JSON.parse(refused).message], ['failed', 'not run: monitor m-not does not use reaction r-log']);

  await ask(request('good-0000-test', 'm-uses'));
  const good = JSON.parse(await waitFor(() => fx.redis.get(k.testAnswer('good-0000-test')), 3000, 'the good test answered')) as Record<string, unknown>;
  assert.is(good.outcome, 'ran');
  assert.is(await fx.redis.get(k.testAnswer('late-0000-test')), null, 'the late one never ran');
  const decisions = (await fx.redis.xrange(k.events, '-', '+')).map(([, f]) => Object.fromEntries(f.flatMap((v, i) => (i % 2 ? [] : [[v, f[i + 1]]]))) as Record<string, string>);
  const tests = decisions.filter((d) => d.kind === 'reaction');
  assert.equal(tests.map((d) => [d.outcome, d.monitorId, d.reactionId]), [['test', 'm-uses', 'r-log']], 'one test decision in the audit');
  assert.match(tests[0]!.message!, /^test asked by tests for a failed event: ran/);
  assert.is(await fx.redis.xlen(k.tests), 0, 'every request acknowledged and removed');
  await sink.stop();
});

test.run();
