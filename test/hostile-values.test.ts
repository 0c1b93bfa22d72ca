import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Push } from 'zeromq';
import { BadMessage, decode, MESSAGE_LIMITS } from '../src/core/messages.js';
import { keys } from '../src/core/keys.js';
import { startSink } from '../src/sink/sink.js';
import { startBroker } from '../src/broker/broker.js';
import { freePorts, putMonitor, silent, waitFor } from './helpers/cluster.js';
import { useRedis } from './helpers/redis-server.js';
import { pino } from 'pino';
import { Counters } from '../src/core/counters.js';
import { Refusals } from '../src/core/refusals.js';

const zone = 'hostile';
const fx = useRedis(test);
const now = Date.now();
const job = { v: 1, type: 'job', monitorId: 'm-1', name: 'n', ctype: 'tcp-check', data: {}, timeoutMs: 1000, zone, due: now, sent: now, interval: 60 };
const result = { v: 1, type: 'result', monitorId: 'm-1', zone, status: 'failed', message: 'down', latencyMs: 5, due: now, checkedAt: now };

/** The reason and field a decode refusal names, or 'accepted'. */
function verdict(msg: unknown, type: 'job' | 'result' | 'credit' | 'test-result' | 'reaction-test' | 'reaction-tested'): string {
  try {
    decode(typeof msg === 'string' ? msg : JSON.stringify(msg), [type]);
    return 'accepted';
  } catch (err) {
    assert.instance(err, BadMessage);
    return `${(err as BadMessage).reason}:${(err as BadMessage).field ?? ''}`;
  }
}

test('decode checks the values of a job, not only their types', () => {
  assert.is(verdict(job, 'job'), 'accepted');
  const cases: [Record<string, unknown>, string][] = [
    [{ timeoutMs: -1 }, 'bad_value:timeoutMs'], [{ timeoutMs: 1.5 }, 'bad_value:timeoutMs'], [{ timeoutMs: 0 }, 'bad_value:timeoutMs'],
    [{ timeoutMs: MESSAGE_LIMITS.timeoutMs + 1 }, 'bad_value:timeoutMs'], [{ timeoutMs: 1e308 }, 'bad_value:timeoutMs'], [{ timeoutMs: '100' }, 'missing_field:timeoutMs'],
    [{ interval: undefined }, 'missing_field:interval'], [{ interval: 0 }, 'bad_value:interval'], [{ interval: 1e308 }, 'bad_value:interval'],
    [{ due: now + 2 * 86_400_000 }, 'clock:due'], [{ due: 4102444800000 }, 'clock:due'], [{ sent: 1 }, 'clock:sent'], [{ due: now + 0.5 }, 'bad_value:due'],
    [{ monitorId: 'x'.repeat(101) }, 'bad_value:monitorId'], [{ monitorId: '' }, 'bad_value:monitorId'], [{ name: 'n'.repeat(501) }, 'bad_value:name'],
    [{ ctype: '../../tmp/evil' }, 'bad_value:ctype'], [{ ctype: 'Execute' }, 'bad_value:ctype'], [{ zone: 'a b' }, 'bad_value:zone'],
    [{ data: [] }, 'missing_field:data'], [{ data: { blob: 'x'.repeat(MESSAGE_LIMITS.dataBytes) } }, 'too_large:data'], [{ createdAt: -5 }, 'bad_value:createdAt'],
  ];
  for (const [change, expected] of cases) assert.is(verdict({ ...job, ...change }, 'job'), expected, JSON.stringify(change).slice(0, 80));
  assert.is(verdict({ ...job, data: { blob: 'x'.repeat(MESSAGE_LIMITS.dataBytes - 100) } }, 'job'), 'accepted', 'data just under 64 KiB');
});

test('decode checks the values of a result and of credit', () => {
  assert.is(verdict(result, 'result'), 'accepted');
  const cases: [Record<string, unknown>, string][] = [
    [{ checkedAt: 4102444800000 }, 'clock:checkedAt'], [{ checkedAt: now - 2 * 86_400_000 }, 'clock:checkedAt'], [{ status: 'broken' }, 'bad_value:status'],
    [{ status: 3 }, 'missing_field:status'], [{ message: 'm'.repeat(10_001) }, 'bad_value:message'], [{ latencyMs: -3 }, 'bad_value:latencyMs'],
    [{ metrics: { a: 'x' } }, 'bad_value:metrics'], [{ metrics: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }, 'bad_value:metrics'],
    [{ zone: '../x' }, 'bad_value:zone'],
  ];
  for (const [change, expected] of cases) assert.is(verdict({ ...result, ...change }, 'result'), expected, JSON.stringify(change).slice(0, 80));
  assert.is(verdict({ v: 1, type: 'credit', free: 2_000_000, received: 0 }, 'credit'), 'bad_value:free');
  assert.is(verdict({ v: 1, type: 'credit', free: 1.5, received: 0 }, 'credit'), 'bad_value:free');
});

test('decode checks the test fields of a job, reaction tests and the answers to tests', () => {
  const testId = '0b6c1a52-3c1e-4a7e-9c55-0d2d6b0b8f11';
  assert.is(verdict({ ...job, test: testId }, 'job'), 'accepted');
  assert.is(verdict({ ...job, test: testId, record: true }, 'job'), 'accepted');
  const jobCases: [Record<string, unknown>, string][] = [
    [{ test: '' }, 'bad_value:test'], [{ test: 'short' }, 'bad_value:test'], [{ test: '../../x/../../y' }, 'bad_value:test'], [{ test: 'a'.repeat(65) }, 'bad_value:test'],
    [{ test: 'key:with:colons' }, 'bad_value:test'], [{ test: 12345678 }, 'missing_field:test'], [{ test: testId, record: 'yes' }, 'missing_field:record'],
    [{ record: true }, 'bad_value:record'],
  ];
  for (const [change, expected] of jobCases) assert.is(verdict({ ...job, ...change }, 'job'), expected, JSON.stringify(change));

  const request = { v: 1, type: 'reaction-test', test: testId, reactionId: 'r-1', monitorId: 'm-1', status: 'failed', by: 'cli', sent: now };
  assert.is(verdict(request, 'reaction-test'), 'accepted');
  const requestCases: [Record<string, unknown>, string][] = [
    [{ test: 'x' }, 'bad_value:test'], [{ reactionId: '' }, 'bad_value:reactionId'], [{ reactionId: 'r'.repeat(101) }, 'bad_value:reactionId'],
    [{ monitorId: undefined }, 'missing_field:monitorId'], [{ status: 'unknown' }, 'bad_value:status'], [{ status: ['failed'] }, 'missing_field:status'],
    [{ by: '' }, 'bad_value:by'], [{ by: 'b'.repeat(501) }, 'bad_value:by'], [{ sent: 4102444800000 }, 'clock:sent'], [{ sent: '1' }, 'missing_field:sent'],
  ];
  for (const [change, expected] of requestCases) assert.is(verdict({ ...request, ...change }, 'reaction-test'), expected, JSON.stringify(change));
  assert.is(verdict({ ...request, type: 'job' }, 'reaction-test'), 'unexpected_type:', 'a job is no reaction test');

  const tested = { v: 1, type: 'reaction-tested', test: testId, reactionId: 'r-1', monitorId: 'm-1', outcome: 'dry-run', message: 'would POST', tookMs: 3, sink: 'h:1' };
  assert.is(verdict(tested, 'reaction-tested'), 'accepted');
  const testedCases: [Record<string, unknown>, string][] = [
    [{ outcome: 'test' }, 'bad_value:outcome'], [{ message: 'm'.repeat(4001) }, 'bad_value:message'], [{ tookMs: -1 }, 'bad_value:tookMs'],
    [{ tookMs: 1.5 }, 'bad_value:tookMs'], [{ sink: '' }, 'bad_value:sink'], [{ test: undefined }, 'missing_field:test'],
  ];
  for (const [change, expected] of testedCases) assert.is(verdict({ ...tested, ...change }, 'reaction-tested'), expected, JSON.stringify(change));

  const answer = { ...result, type: 'test-result', test: testId, worker: 'h:2', recorded: false };
  assert.is(verdict(answer, 'test-result'), 'accepted');
  const answerCases: [Record<string, unknown>, string][] = [
    [{ status: 'broken' }, 'bad_value:status'], [{ checkedAt: 4102444800000 }, 'clock:checkedAt'], [{ worker: undefined }, 'missing_field:worker'],
    [{ recorded: 'no' }, 'missing_field:recorded'], [{ test: 'not a test id' }, 'bad_value:test'], [{ latencyMs: -1 }, 'bad_value:latencyMs'],
  ];
  for (const [change, expected] of answerCases) assert.is(verdict({ ...answer, ...change }, 'test-result'), expected, JSON.stringify(change));
});

test('a result stamped in the year 2100 is refused and counted, so it cannot freeze a monitor failed', async () => {
  const sink = await startSink({ redis: fx.redis, zone, logger: silent });
  const add = (r: Record<string, unknown>) => fx.redis.xadd(keys(zone).results, '*', 'r', JSON.stringify(r));
  await putMonitor(fx.redis, zone, { id: 'm-1', ctype: 'tcp-check', data: {} }, 60_000);
  await add({ ...result, checkedAt: 4102444800000, due: 4102444800000 });
  await waitFor(() => sink.counters.get('bad_messages.clock') === 1, 3000, 'the forged result counted');
  await add({ ...result, status: 'healthy', due: Date.now(), checkedAt: Date.now() });
  const status = await waitFor(async () => fx.redis.hget(keys(zone).state('m-1'), 'status'), 3000, 'the real result recorded');
  assert.is(status, 'healthy');
  await sink.stop();
});

test('a queued job expires by its own age wherever it sits in the queue', async () => {
  const ports = await freePorts();
  const broker = await startBroker({ bind: '127.0.0.1', ports, logger: silent, zone, redis: fx.redis });
  const push = new Push();
  push.connect(`tcp://127.0.0.1:${ports.jobsIn}`);
  const t = Date.now();
  // No worker: the long-lived job stays at the head; the short-lived ones behind it must still expire.
  await push.send(JSON.stringify({ ...job, monitorId: 'm-long', due: t, sent: t, interval: 3600 }));
  for (let i = 0; i < 3; i++) await push.send(JSON.stringify({ ...job, monitorId: `m-short${i}`, due: t, sent: t, interval: 1 }));
  await waitFor(() => broker.queued() === 4, 2000, 'four jobs queued');
  await waitFor(() => broker.counters.get('jobs_expired') === 3, 4000, 'the three short-lived jobs expired behind the head');
  assert.is(broker.queued(), 1, 'the long-lived job still waits');
  push.close();
  await broker.stop();
});

test('a flood of bad messages is counted one by one but logged once per socket and reason every 5 s', async () => {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (l: string) => void lines.push(JSON.parse(l)) });
  const counters = new Counters(undefined, 'unused', 'worker');
  const refusals = new Refusals(counters, logger);
  const t = Date.now();
  for (let i = 0; i < 1000; i++) refusals.refuse('jobs', new BadMessage('malformed_json', 'not JSON'), t + i);
  refusals.refuse('jobs', new BadMessage('malformed_json', 'not JSON'), t + 6000);
  assert.is(counters.get('bad_messages.malformed_json'), 1001);
  assert.is(lines.length, 2);
  assert.is(lines[1]!.alsoDropped, 999, 'the second line says how many were not logged');
});

test.run();
