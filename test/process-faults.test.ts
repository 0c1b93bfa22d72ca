/** A bug in a check module, as a real worker process meets it: an uncaught exception ends the process, unhandled rejections are counted. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Router } from 'zeromq';
import { resultTap, waitFor } from './helpers/cluster.js';
import { parsePrometheus } from './helpers/prometheus.js';
import { cli, Proc } from './helpers/procs.js';
import { freePort, freePortRange, useRedis } from './helpers/redis-server.js';

const FAULTY_CHECKS = fileURLToPath(new URL('../../test/fixtures/faults', import.meta.url));
const fx = useRedis(test);
const dir = mkdtempSync(join(tmpdir(), 'cr-process-faults-'));
const procs: Proc[] = [];
const sockets: { close(): void }[] = [];
test.after(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  for (const s of sockets) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const exited = (p: Proc) => new Promise<number | null>((r) => (p.child.exitCode !== null ? r(p.child.exitCode) : p.child.once('exit', (code) => r(code))));
const job = (ctype: string, data: Record<string, unknown> = {}) => {
  const now = Date.now();
  return JSON.stringify({ v: 1, type: 'job', monitorId: `m-${ctype}`, name: ctype, ctype, data, timeoutMs: 1000, zone: 'default', due: now, sent: now, interval: 60 });
};

/** A worker process of the faulty checks, fed by a broker socket of this test. */
async function startWorker(env: Record<string, string> = {}): Promise<{ worker: Proc; send: (job: string) => Promise<void>; results: ReturnType<typeof resultTap> }> {
  const base = await freePortRange(4);
  const broker = new Router();
  await broker.bind(`tcp://127.0.0.1:${base + 1}`);
  // Only this worker's results: the stream is emptied first.
  await fx.redis.del('cr:default:results');
  const results = resultTap(fx.redis, 'default');
  sockets.push(broker);
  const worker = new Proc(['worker'], {
    REDIS_URL: fx.server.url, CLOUDROUTES_BROKER_PORT_BASE: String(base), CLOUDROUTES_CHECKS_PATH: FAULTY_CHECKS, CLOUDROUTES_DATA_DIR: dir, ...env,
  }, dir).start();
  procs.push(worker);
  await worker.waitFor('worker started', 10_000);
  const [id] = await broker.receive();
  return { worker, results, send: (j) => broker.send([id!, j]) };
}

test('an exception a check module throws outside any promise makes the worker log CR_UNCAUGHT_EXCEPTION and exit 1', async () => {
  const { worker, send } = await startWorker();
  await send(job('throws-later'));
  assert.is(await exited(worker), 1);
  const line = worker.output.split('\n').find((l) => l.includes('CR_UNCAUGHT_EXCEPTION'));
  assert.ok(line, worker.output);
  const entry = JSON.parse(line) as { level: number; msg: string; stack: string };
  assert.is(entry.level, 60, 'fatal');
  assert.is(entry.msg, 'worker: an exception nothing caught (thrown from a timer of the throws-later check) left it in an unknown state; exiting so that the process manager restarts it');
  assert.match(entry.stack, /throws-later\/index\.mjs/);
});

test('unhandled rejections are all counted, logged a bounded number of times, and the worker runs on', async () => {
  const metricsPort = await freePort();
  const { worker, send, results } = await startWorker({ CLOUDROUTES_METRICS_PORT: String(metricsPort) });
  for (let i = 0; i < 5; i++) await send(job('rejects-often', { count: 400 }));
  const total = async () => parsePrometheus(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()).value('cloudroutes_unhandled_rejections_total');
  await waitFor(async () => (await total()) === 2000, 10_000, 'the worker counted 2000 unhandled rejections');
  const logged = worker.output.split('\n').filter((l) => l.includes('unhandled rejection'));
  assert.ok(logged.length >= 1 && logged.length <= 3, `${logged.length} lines for 2000 rejections`);
  assert.match(logged[0]!, /"err":"rejection 0 nobody handles"/);
  // Still working: it checks another job and sends its result.
  await send(job('rejects-often', { count: 0 }));
  const seen: string[] = [];
  while (seen.length < 6) seen.push((await results.next(10_000)).message as string);
  assert.ok(seen.every((m) => m === 'left rejections behind'), seen.join(' | '));
  assert.is(worker.child.exitCode, null, 'the worker still runs');
});

test('cloudroutes dev restarts a worker that exited on an uncaught exception', async () => {
  const env = {
    REDIS_URL: '', CLOUDROUTES_STORE: '', CLOUDROUTES_SECRET_KEY: '', CLOUDROUTES_DATA_DIR: join(dir, 'dev'), CLOUDROUTES_CHECKS_PATH: FAULTY_CHECKS,
    CLOUDROUTES_BROKER_PORT_BASE: String(await freePortRange(4)), CLOUDROUTES_WEB_PORT: String(await freePort()), LOG_LEVEL: 'warn',
  };
  const dev = new Proc(['dev'], env, dir).start();
  procs.push(dev);
  await dev.waitFor('CloudRoutes is running', 20_000);
  const add = await cli(['monitor', 'add', '--name', 'buggy', '--ctype', 'throws-later', '--interval', '1s', '--data', '{}'], env, dir);
  assert.is(add.code, 0, add.stderr);
  // Each new worker runs the check and dies again: two restarts show the first one was restarted and ran.
  await waitFor(() => (dev.output.match(/worker exited \(code 1\); restarting it in 1 s/g) ?? []).length >= 2, 20_000, 'the worker restarted after the exception');
  assert.match(dev.output, /"code":"CR_UNCAUGHT_EXCEPTION"/);
  assert.is(await dev.kill('SIGINT'), 0);
});

test.run();
