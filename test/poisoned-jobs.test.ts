import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from 'zeromq';
import { startWorker } from '../src/worker/worker.js';
import { decode } from '../src/core/messages.js';
import { resultTap, silent, waitFor } from './helpers/cluster.js';
import { freePort, useRedis } from './helpers/redis-server.js';

const url = (p: number) => `tcp://127.0.0.1:${p}`;
const fx = useRedis(test);
const extra = mkdtempSync(join(tmpdir(), 'cr-poison-'));
function plugin(name: string, body: string): void {
  mkdirSync(join(extra, name), { recursive: true });
  writeFileSync(join(extra, name, 'index.mjs'), `export const meta = { title: '${name}', fields: { type: 'object' } };\n${body}\n`);
}
// Checks that misbehave in every way a module can: each must still give its slot back and a result.
plugin('throws-sync', 'export function check(job) { return job.data.a.b.c; }');
plugin('throws-async', 'export async function check() { throw new Error("boom"); }');
plugin('throws-non-error', 'export async function check() { throw { get message() { throw new Error("no message either"); } }; }');
plugin('getter-throws', 'export async function check() { return { get status() { throw new Error("status getter"); } }; }');
plugin('bigint-metrics', 'export async function check() { return { status: "healthy", metrics: { n: 10n } }; }');
plugin('circular-metrics', 'export async function check() { const m = { a: 1 }; m.self = m; return { status: "healthy", metrics: m, message: m }; }');
plugin('returns-nothing', 'export async function check() {}');
plugin('hangs', 'export function check() { return new Promise(() => {}); }');
plugin('epoch-latency', 'export async function check() { return { status: "healthy", latencyMs: Date.now(), metrics: { big: 1e308, ok: 2 } }; }');
plugin('huge-message', 'export async function check() { return { status: "failed", message: "x".repeat(5_000_000), latencyMs: Infinity }; }');

const CONCURRENCY = 4;

test('poisoned jobs never take a worker slot for good: afterwards it runs real monitors with all its slots', async () => {
  const jobsPort = await freePort();
  const broker = new Router();
  await broker.bind(url(jobsPort));
  const tap = resultTap(fx.redis, 'poison');
  const target = createServer((s) => s.end());
  await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
  const targetPort = (target.address() as { port: number }).port;
  const worker = await startWorker({ jobs: url(jobsPort), redis: fx.redis, zone: 'poison', logger: silent, concurrency: CONCURRENCY, checksPath: [extra] });

  const credits: { free: number; received: number }[] = [];
  let workerId: Buffer | undefined;
  const reading = (async () => {
    for await (const [id, msg] of broker) {
      workerId = id;
      credits.push(JSON.parse(msg!.toString()));
    }
  })().catch(() => undefined);
  await waitFor(() => workerId, 3000, 'the worker to say it is there');
  const results = new Map<string, { status: string; message: string; latencyMs: number | null }>();
  let collect = true;
  void (async () => {
    while (collect) {
      // Each result must be one the sink accepts, or it would be dropped there without naming the monitor.
      const r = decode(await tap.raw(60_000), ['result']);
      results.set(r.monitorId, r);
    }
  })().catch(() => undefined);

  const now = Date.now();
  const base = { v: 1, type: 'job', name: 'p', data: {}, zone: 'poison', due: now, sent: now, interval: 60 };
  const poisoned: Record<string, unknown>[] = [
    // Refused by the decoder (no result expected, counted as bad messages).
    { monitorId: 'neg', ctype: 'tcp-check', timeoutMs: -1 }, { monitorId: 'frac', ctype: 'tcp-check', timeoutMs: 1.5 },
    { monitorId: 'huge', ctype: 'tcp-check', timeoutMs: 1e308 }, { monitorId: 'nan', ctype: 'tcp-check', timeoutMs: 'NaN' },
    { monitorId: 'null', ctype: 'tcp-check', timeoutMs: null }, { monitorId: 'noint', ctype: 'tcp-check', timeoutMs: 100, interval: undefined },
    // Accepted: the check itself misbehaves.
    ...['throws-sync', 'throws-async', 'throws-non-error', 'getter-throws', 'bigint-metrics', 'circular-metrics', 'returns-nothing', 'hangs', 'huge-message', 'epoch-latency', 'not-installed']
      .map((ctype) => ({ monitorId: ctype, ctype, timeoutMs: 300 })),
    { monitorId: 'proto', ctype: 'tcp-check', timeoutMs: 300, data: JSON.parse('{"__proto__": {"host": "127.0.0.1", "port": 1}, "constructor": {"prototype": {}}}') },
  ];
  for (const p of poisoned) await broker.send([workerId!, JSON.stringify({ ...base, ...p })]);
  const accepted = poisoned.slice(6).map((p) => p.monitorId as string);
  await waitFor(() => accepted.every((id) => results.has(id)), 5000, 'a result for every accepted poisoned job');
  for (const id of accepted) assert.is(results.get(id)!.status === 'healthy' ? 'healthy' : 'not healthy', id.endsWith('metrics') || id === 'epoch-latency' ? 'healthy' : 'not healthy', id);
  assert.ok(results.get('epoch-latency')!.latencyMs! < 60_000, 'a latency that is a time stamp is replaced by the measured one');
  assert.ok(results.get('huge-message')!.message.length <= 10_000, 'a message is capped');
  assert.ok(Number.isFinite(results.get('huge-message')!.latencyMs), 'an infinite latency is replaced by the measured one');
  assert.is(results.get('hangs')!.message, 'check timed out after 300 ms');
  assert.is(worker.counters.get('bad_messages.bad_value') + worker.counters.get('bad_messages.missing_field'), 6, 'the six refused jobs are counted');
  for (const id of ['neg', 'frac', 'huge', 'nan', 'null', 'noint']) assert.not.ok(results.has(id), `${id} got no result: it was refused`);

  await waitFor(() => worker.running() === 0 && credits.at(-1)?.free === CONCURRENCY, 3000, 'every slot free again');

  // Real monitors now use every slot at once.
  const real = Array.from({ length: CONCURRENCY * 3 }, (_, i) => `real-${i}`);
  for (const id of real) {
    await broker.send([workerId!, JSON.stringify({ ...base, monitorId: id, ctype: 'tcp-check', timeoutMs: 2000, data: { host: '127.0.0.1', port: targetPort } })]);
  }
  await waitFor(() => real.every((id) => results.get(id)?.status === 'healthy'), 5000, 'every real monitor checked healthy');

  await worker.stop();
  broker.close();
  collect = false;
  await reading;
  target.close();
});

test.run();
